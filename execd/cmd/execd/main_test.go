package main

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"execd-builder/execd/protocol"
)

func build(t *testing.T, ldflags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "execd")
	out, err := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestExecdVersion(t *testing.T) {
	out, err := exec.Command(build(t, "-X main.version=9.9.9"), "-version").Output()
	if err != nil || string(out) != "execd 9.9.9\n" {
		t.Errorf("got %q, %v", out, err)
	}
}

// TestExecdServes checks the wiring in main: flags, listener and logging.
func TestExecdServes(t *testing.T) {
	cmd := exec.Command(build(t, ""), "-listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()

	logs := bufio.NewScanner(stderr)
	if !logs.Scan() {
		t.Fatal("no startup log line")
	}
	m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(logs.Text())
	if m == nil {
		t.Fatalf("startup line %q names no address", logs.Text())
	}
	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := &protocol.Request{Args: []string{"/bin/cat"}, Stdin: []byte("hello")}
	if err := protocol.WriteRequest(conn, req); err != nil {
		t.Fatal(err)
	}
	if out, err := protocol.ReadReply(bufio.NewReader(conn)); err != nil || string(out) != "hello" {
		t.Errorf("got %q, %v", out, err)
	}
	if !logs.Scan() || !regexp.MustCompile(`prog="/bin/cat" in=5 out=5 status="exit status 0"`).MatchString(logs.Text()) {
		t.Errorf("request log line: %q", logs.Text())
	}
}
