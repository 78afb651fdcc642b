package main

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"execd-builder/execd/server"
)

// build compiles this command into a temporary directory, exactly as a
// release build would, so flag handling and exit codes are tested for real.
func build(t *testing.T, ldflags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "execc")
	out, err := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBin runs bin and returns stdout, stderr and the exit code.
func runBin(t *testing.T, bin, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func TestExeccAgainstServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := &server.Server{Logger: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	addr := l.Addr().String()
	bin := build(t, "")

	if out, errOut, code := runBin(t, bin, "hi", addr, "/bin/cat"); out != "hi" || code != 0 {
		t.Errorf("cat: got %q, %q, exit %d", out, errOut, code)
	}
	// Flags after PROG belong to the remote command, not to execc.
	if out, errOut, code := runBin(t, bin, "", addr, "/bin/echo", "-n", "x"); out != "x" || code != 0 {
		t.Errorf("echo -n: got %q, %q, exit %d", out, errOut, code)
	}
	out, errOut, code := runBin(t, bin, "", addr, "/nonexistent/prog")
	if out != "" || code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing program: got %q, %q, exit %d", out, errOut, code)
	}
}

func TestExeccConnectionRefused(t *testing.T) {
	// Grab a free loopback port, then free it so nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, errOut, code := runBin(t, build(t, ""), "", addr, "/bin/true")
	if code != 1 || !strings.Contains(errOut, "cannot connect to "+addr) {
		t.Errorf("got %q, exit %d; want a message naming %s and exit 1", errOut, code, addr)
	}
}

func TestExeccUsage(t *testing.T) {
	if _, errOut, code := runBin(t, build(t, ""), "", "127.0.0.1:1"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("got %q, exit %d; want usage and exit 2", errOut, code)
	}
}

func TestExeccVersion(t *testing.T) {
	bin := build(t, "-X main.version=9.9.9")
	if out, _, code := runBin(t, bin, "", "-version"); out != "execc 9.9.9\n" || code != 0 {
		t.Errorf("got %q, exit %d", out, code)
	}
	if out, _, _ := runBin(t, build(t, ""), "", "-version"); out != "execc dev\n" {
		t.Errorf("unstamped build: got %q", out)
	}
}

// TestMain lets this test binary act as execd's request launcher, since the
// in-process server starts its own executable for each request.
func TestMain(m *testing.M) {
	server.HelperMain()
	os.Exit(m.Run())
}
