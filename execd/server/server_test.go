package server

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"execd-builder/execd/protocol"
)

// start runs srv on a loopback port for the duration of the test.
func start(t *testing.T, srv *Server) string {
	t.Helper()
	if srv.Logger == nil {
		// Not t.Log: connection goroutines may log after the test ends.
		srv.Logger = log.New(testLog, "", 0)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

type client struct {
	net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second)) // fail, don't hang
	return &client{c, bufio.NewReader(c)}
}

func (c *client) do(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	if err := protocol.WriteRequest(c, &protocol.Request{Args: args, Stdin: []byte(stdin)}); err != nil {
		t.Fatal(err)
	}
	out, err := protocol.ReadReply(c.br)
	return string(out), err
}

// expect checks a success reply.
func (c *client) expect(t *testing.T, want, stdin string, args ...string) {
	t.Helper()
	if got, err := c.do(t, stdin, args...); err != nil || got != want {
		t.Errorf("%q: got %q, %v; want %q", args, got, err, want)
	}
}

// expectErr checks an ERR reply whose message contains substr.
func (c *client) expectErr(t *testing.T, substr, stdin string, args ...string) {
	t.Helper()
	_, err := c.do(t, stdin, args...)
	var remote *protocol.RemoteError
	if !errors.As(err, &remote) || !strings.Contains(remote.Msg, substr) {
		t.Errorf("%q: got %v, want ERR containing %q", args, err, substr)
	}
}

func TestSeveralRequestsOnOneConnection(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	c.expect(t, "hello", "hello", "/bin/cat")
	c.expect(t, "a b\n", "", "/bin/echo", "a b")
	c.expect(t, "", "", "/bin/cat")
	c.expect(t, "x y\n", "", "echo", "x", "y") // looked up in PATH
	// A non-zero exit is an ERR reply naming the status and the last stderr line.
	c.expectErr(t, "exit status 3: oops", "", "/bin/sh", "-c", "printf out; echo oops >&2; exit 3")
	c.expect(t, "after\n", "", "/bin/echo", "after")
}

func TestMissingProgramKeepsConnection(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	c.expectErr(t, "no such file", "", "/nonexistent/prog")
	c.expectErr(t, "not found", "", "no-such-program-execd-test")
	c.expect(t, "still here\n", "", "/bin/echo", "still here")
}

func TestMalformedRequestClosesConnection(t *testing.T) {
	addr := start(t, &Server{})
	c := dial(t, addr)
	io.WriteString(c, "/bin/echo\n\nnot-a-number\nmore junk after it")
	if _, err := protocol.ReadReply(c.br); err == nil || !strings.Contains(err.Error(), "not a decimal") {
		t.Errorf("got %v, want ERR about the count", err)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after ERR: got %v, want connection closed", err)
	}
	// The server keeps serving new connections.
	dial(t, addr).expect(t, "ok\n", "", "/bin/echo", "ok")
}

func TestOversizeRequest(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	io.WriteString(c, "/bin/cat\n\n1048577\n")
	if _, err := protocol.ReadReply(c.br); err == nil || !strings.Contains(err.Error(), "exceeds limit") {
		t.Errorf("got %v, want ERR about the limit", err)
	}
}

func TestOutputLimit(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	max := "1048576"
	if out, err := c.do(t, "", "head", "-c", max, "/dev/zero"); err != nil || len(out) != protocol.MaxStdout {
		t.Errorf("exactly the limit: got %d bytes, %v", len(out), err)
	}
	c.expectErr(t, "output limit", "", "head", "-c", "1048577", "/dev/zero")
	c.expectErr(t, "output limit", "", "cat", "/dev/zero") // endless
	c.expect(t, "after\n", "", "/bin/echo", "after")
}

func TestCommandTimeout(t *testing.T) {
	c := dial(t, start(t, &Server{CommandTimeout: 300 * time.Millisecond}))
	begin := time.Now()
	c.expectErr(t, "time limit: killed after", "", "/bin/sleep", "10")
	// A background grandchild keeps stdout open; the process-group kill
	// must still end the request promptly.
	c.expectErr(t, "time limit: killed after", "", "/bin/sh", "-c", "sleep 10 & sleep 10")
	// Closing stdout early must not dodge the timeout either.
	c.expectErr(t, "time limit: killed after", "", "/bin/sh", "-c", "exec >&-; sleep 10")
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("timeouts took %v", d)
	}
	c.expect(t, "fast\n", "", "/bin/echo", "fast")
}

func TestTimeoutKillsChildren(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	c := dial(t, start(t, &Server{CommandTimeout: 300 * time.Millisecond}))
	pidFile := filepath.Join(t.TempDir(), "pid")
	c.expectErr(t, "time limit: killed after", "", "/bin/sh", "-c", "sleep 10 & echo $! >"+pidFile+"; wait")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	// The orphaned sleep must be gone (or a zombie awaiting its reaper).
	stat := "/proc/" + strings.TrimSpace(string(pid)) + "/stat"
	for i := 0; ; i++ {
		b, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if i == 50 {
			t.Fatalf("background child still running: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnreadStdin(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	// The command exits without reading 1 MiB of input.
	c.expect(t, "ok\n", strings.Repeat("x", protocol.MaxStdin), "/bin/echo", "ok")
}

func TestIdleTimeout(t *testing.T) {
	c := dial(t, start(t, &Server{IdleTimeout: 200 * time.Millisecond}))
	var remote *protocol.RemoteError
	if _, err := protocol.ReadReply(c.br); !errors.As(err, &remote) {
		t.Errorf("idle client: got %v, want ERR", err)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after idle ERR: got %v, want connection closed", err)
	}
}

func TestMain(m *testing.M) {
	HelperMain()
	os.Exit(m.Run())
}

// testLog is where in-process servers log: stderr with EXECD_TEST_LOG=1.
var testLog = func() io.Writer {
	if os.Getenv("EXECD_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()
