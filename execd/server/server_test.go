package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"execd-builder/execd/protocol"
)

// start runs srv on a loopback port for the duration of the test.
func start(t *testing.T, srv *Server) string {
	t.Helper()
	return startOn(t, srv, net.ListenConfig{})
}

// startOn is start with the listener's settings (a socket option its connections inherit).
func startOn(t *testing.T, srv *Server, config net.ListenConfig) string {
	t.Helper()
	if srv.Logger == nil {
		// Not t.Log: connection goroutines may log after the test ends.
		srv.Logger = log.New(testLog, "", 0)
	}
	l, err := config.Listen(context.Background(), "tcp", "127.0.0.1:0")
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

// Four slots that each returned the largest reply keep about 4 MiB between
// them, not twice that: the container's memory split counts on it.
func TestSlotsKeepNoMoreThanTheLargestReply(t *testing.T) {
	addr := start(t, &Server{Slots: 4})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each holds its slot a moment, so that the four run in four slots.
			if out, err := dial(t, addr).do(t, "", "/bin/sh", "-c", "sleep 0.3; head -c 1048576 /dev/zero"); err != nil || len(out) != protocol.MaxStdout {
				t.Errorf("the largest reply: got %d bytes, %v", len(out), err)
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 6<<20 {
		t.Errorf("the daemon's heap grew by %.1f MiB for four replies of 1 MiB", float64(grown)/(1<<20))
	}
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

// A reply is the slot's output buffer: a client that reads its reply slowly must get its own
// output, whatever the next request in that slot prints meanwhile.
func TestSlowReaderGetsItsOwnOutput(t *testing.T) {
	// Small socket buffers on both ends (set before connecting: a window cannot shrink later)
	// keep the reply mostly in the daemon while slow does not read, as over a slow link.
	small := func(_, _ string, raw syscall.RawConn) error {
		return raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		})
	}
	addr := startOn(t, &Server{Slots: 1}, net.ListenConfig{Control: small})
	const size = "900000"
	dialer := net.Dialer{Control: small}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	slow := &client{conn, bufio.NewReader(conn)}
	started := filepath.Join(t.TempDir(), "started")
	if err := protocol.WriteRequest(slow, &protocol.Request{Args: []string{"sh", "-c", "touch " + started + "; head -c " + size + " /dev/zero | tr '\\0' A"}}); err != nil {
		t.Fatal(err)
	}
	waitForFile(started) // slow holds the slot from here on
	// Another client asks for the one slot until it gets it, for 2 s at most: it must not get
	// it while slow's reply is still unread.
	other := dial(t, addr)
	gotSlot := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		_, err := other.do(t, "", "sh", "-c", "head -c "+size+" /dev/zero | tr '\\0' B")
		var remote *protocol.RemoteError
		if errors.As(err, &remote) && strings.Contains(remote.Msg, "busy") {
			other = dial(t, addr) // a busy reply closes the connection
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		gotSlot = true
		break
	}
	out, err := protocol.ReadReply(slow.br)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "A"); n != len(out) || len(out) != 900000 {
		t.Errorf("slow reader: %d bytes, %d of them its own (another request's output got in: %v)", len(out), n, gotSlot)
	}
	// Once its reply is sent, the slot is free again (the daemon may still be returning it as
	// the last bytes arrive: a busy reply is retried for a moment).
	expectServedWithin(t, addr, 2*time.Second, "free", "after the slow reply")
}

// A client that announces stdin and never sends it holds its slot until the time limit, not
// until the idle limit on top of it.
func TestUnsentStdinHoldsTheSlotNoLongerThanTheTimeLimit(t *testing.T) {
	addr := start(t, &Server{Slots: 1, CommandTimeout: 300 * time.Millisecond, IdleTimeout: 5 * time.Second})
	silent := dial(t, addr)
	started := filepath.Join(t.TempDir(), "started")
	io.WriteString(silent, "sh\n-c\ntouch "+started+"; cat\n\n1000000\n")
	waitForFile(started)
	// The slot is free again within 2 s (the time limit is 0.3 s; the idle limit, 5 s).
	expectServedWithin(t, addr, 2*time.Second, "served", "while a client withholds its stdin")
}

// waitForFile waits (up to 2 s) until a request has made file: it has its slot by then.
func waitForFile(file string) {
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(file); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectServedWithin asks for `echo word` until it is not refused as busy, for `within` at
// most, and checks the reply: the slot is free again by then.
func expectServedWithin(t *testing.T, addr string, within time.Duration, word, when string) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		got, err := dial(t, addr).do(t, "", "/bin/echo", word)
		var remote *protocol.RemoteError
		if errors.As(err, &remote) && strings.Contains(remote.Msg, "busy") && time.Now().Before(deadline) {
			continue
		}
		if err != nil || got != word+"\n" {
			t.Errorf("%s: got %q, %v", when, got, err)
		}
		return
	}
}

// A host that bound request cgroups in, but not every slot's (or not within the daemon's
// reach), must not get requests run outside their limits: the daemon refuses to serve.
func TestRequestCgroupsOutOfReachStopTheDaemon(t *testing.T) {
	dir := t.TempDir()
	slot0 := filepath.Join(dir, "memory", "slot0")
	if err := os.MkdirAll(slot0, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(slot0, "cgroup.procs"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := &Server{Slots: 2, UIDBase: 61000, CgroupDir: dir, Logger: log.New(io.Discard, "", 0)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "request slot 1 has no cgroup within reach in memory") {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve ran requests although slot 1 has no cgroup")
	}
}

// A client that announces more stdin than it sends and goes away must not have its program run
// on the part it sent as if it were whole: the program is killed, never shown an end of file.
func TestStdinCutShortKillsTheRequest(t *testing.T) {
	addr := start(t, &Server{Slots: 1})
	dir := t.TempDir()
	started, finished := filepath.Join(dir, "started"), filepath.Join(dir, "finished")
	c := dial(t, addr)
	io.WriteString(c, "sh\n-c\ntouch "+started+"; cat >/dev/null; touch "+finished+"\n\n100\n0123456789")
	waitForFile(started)
	c.Close()
	expectServedWithin(t, addr, 2*time.Second, "served", "after a client cut its stdin short")
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(finished); err == nil {
		t.Fatal("the program ran on to its end with 10 of its 100 bytes of stdin")
	}
}

// With RefuseLocal (as the container runs it), a connection from the daemon's own host gets an
// ERR line and nothing runs: a request must not start requests. (Requests have no network in the
// container at all; this is the second wall.)
func TestRefuseLocalAnswersALocalPeerWithERR(t *testing.T) {
	dir := t.TempDir()
	c := dial(t, start(t, &Server{RefuseLocal: true}))
	c.expectErr(t, "refused: requests from the container itself are not served", "", "/usr/bin/touch", filepath.Join(dir, "ran"))
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the refused request ran")
	}
}
