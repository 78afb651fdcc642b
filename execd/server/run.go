package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stderrKept is how much of a request's stderr is kept: its last line goes
// into the ERR reply of a command that failed.
const stderrKept = 4096

// result is how one request ended.
type result struct {
	out []byte // stdout, when the command exited 0
	err error  // why there is no usable output: becomes an ERR reply
	// brokenConn: the client went away while sending stdin; no reply is possible.
	brokenConn error
}

// exitError is a command that ran and did not exit 0.
type exitError struct{ msg string }

func (e *exitError) Error() string { return e.msg }

// run executes the request in slot, feeding it stdinLen bytes read from
// stdin (the connection), and reports how it ended. Every process the
// request started is gone when run returns, and in the uid mode so is every
// file and IPC object it left.
//
// The pipes are created here rather than by os/exec: with an io.Reader or
// io.Writer, exec.Cmd.Wait also waits for its copying goroutines, which would
// hang while any leftover grandchild keeps a pipe open.
func (s *Server) run(sl *slot, peer string, args []string, stdin io.Reader, stdinLen int) result {
	entered := time.Now()
	var pipes [4][2]*os.File // stdin, stdout, stderr, launch status
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(pipes[:])
			io.CopyN(io.Discard, stdin, int64(stdinLen))
			return result{err: fmt.Errorf("cannot start: %v", err)}
		}
		pipes[i] = [2]*os.File{r, w}
	}
	self, err := s.executable()
	if err != nil {
		closeAll(pipes[:])
		return result{err: fmt.Errorf("cannot start: %v", err)}
	}
	launch := []string{helperArg, "launch", s.limits().String(), sl.tmpDir, sl.cgroupProcs, "--"}
	cmd := exec.Command(self, append(launch, args...)...)
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pipes[0][0], pipes[1][1], pipes[2][1]
	cmd.ExtraFiles = []*os.File{pipes[3][1]}
	// Setsid: a request never shares the daemon's session or process group.
	// Pdeathsig: if the daemon dies, the request's first process goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL, Credential: sl.credential}
	err = cmd.Start()
	// The child holds its own copies; ours must go so EOF can be seen.
	for _, f := range []*os.File{pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]} {
		f.Close()
	}
	inW, outR, errR, statusR := pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0]
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		statusR.Close()
		if _, err := io.CopyN(io.Discard, stdin, int64(stdinLen)); err != nil {
			return result{brokenConn: err}
		}
		return result{err: fmt.Errorf("cannot start: %v", err)}
	}
	begin := time.Now()

	// Stdin: all stdinLen bytes are read from the connection whatever the
	// command does with them, so the next request starts where it should.
	// Stdin cut short (the client gone, or too slow) never reaches the program
	// as an end of file: it would run on as if its input were whole. It is
	// killed instead, and its stdin closed only once nothing of it is left.
	fed := make(chan error, 1)
	cutShort := make(chan struct{})
	reaped := make(chan struct{})
	go func() {
		_, err := io.CopyN(&forgivingWriter{w: inW}, stdin, int64(stdinLen))
		if err != nil {
			close(cutShort)
			<-reaped
		}
		inW.Close()
		fed <- err
	}()

	var readers sync.WaitGroup
	overflow := make(chan struct{})
	if sl.out == nil {
		sl.out = make([]byte, maxStdout+1)
	}
	outLen := 0
	readers.Add(2)
	go func() {
		defer readers.Done()
		outLen, _ = io.ReadFull(outR, sl.out)
		if outLen > maxStdout {
			close(overflow)
		}
		outR.Close()
	}()
	var stderr bytes.Buffer
	go func() {
		defer readers.Done()
		io.Copy(&stderr, io.LimitReader(errR, stderrKept))
		io.Copy(io.Discard, errR)
		errR.Close()
	}()

	launchFailure, _ := io.ReadAll(io.LimitReader(statusR, 4096))
	statusR.Close()
	launching := time.Since(entered) // from the slot to the program's exec

	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	timeout := s.commandTimeout()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var limit error
	select {
	case <-exited:
	case <-timer.C:
		limit = fmt.Errorf("time limit: killed after %v", timeout)
	case <-overflow:
		limit = fmt.Errorf("output limit: more than %d bytes of output", maxStdout)
	case <-cutShort:
		limit = errors.New("stdin cut short")
	}
	var killing time.Duration // how long the kill took, logged: a thrashing request dies slowly
	if limit != nil {
		killStart := time.Now()
		// The group at once; the reaper below then takes whatever left it.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		killing = time.Since(killStart)
	}
	// Whatever the command left running (a daemon, a setsid'd grandchild
	// holding stdout) ends with it.
	reapStart := time.Now()
	s.killRequest(sl, cmd)
	close(reaped)
	reaping := time.Since(reapStart)
	s.readersDone(&readers, outR, errR)
	if limit == nil && outLen > maxStdout { // it exited before the select saw the overflow
		limit = fmt.Errorf("output limit: more than %d bytes of output", maxStdout)
	}
	if err := <-fed; err != nil {
		return result{brokenConn: err}
	}
	s.logf("%s slot=%d prog=%q in=%d out=%d status=%q time=%v launch=%v kill=%v reap=%v", peer, sl.id, args[0], stdinLen, outLen, statusOf(cmd.ProcessState),
		time.Since(begin).Round(time.Millisecond), launching.Round(time.Millisecond), killing.Round(time.Millisecond), reaping.Round(time.Millisecond))

	switch {
	case len(launchFailure) > 0:
		return result{err: fmt.Errorf("cannot run %s", launchFailure)}
	case limit != nil:
		return result{err: limit}
	}
	if err := exitProblem(cmd.ProcessState, stderr.Bytes()); err != nil {
		return result{err: err}
	}
	return result{out: sl.out[:outLen]}
}

// killRequest ends every process of the request. Its process group dies at
// once, from here: that needs no new process, which matters when a memory hog
// makes every new process slow to start. Then, in the uid mode, the reaper
// kills whatever left the group (setsid, daemons) and removes its files.
// Signalling another uid's group takes CAP_KILL, which adds nothing to what
// CAP_SETUID already allows the daemon.
func (s *Server) killRequest(sl *slot, cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if sl.credential == nil {
		return
	}
	// The slot is not reused while anything of its uid lives: killed processes
	// of a thrashing request can take long to exit on the container's CPU.
	for attempt := 1; ; attempt++ {
		err := s.reap(sl)
		if err == nil {
			return
		}
		s.logf("slot %d: %v (attempt %d)", sl.id, err, attempt)
		if attempt == 30 {
			return
		}
	}
}

// readersDone waits for stdout and stderr to reach EOF. In the uid mode the
// reaper has killed every holder of the pipes; without it, a grandchild that
// left the process group may hold them, so the wait is bounded.
func (s *Server) readersDone(readers *sync.WaitGroup, pipes ...*os.File) {
	done := make(chan struct{})
	go func() {
		readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		s.logf("output pipes still open 2s after the command ended; closing them")
		for _, p := range pipes {
			p.Close() // the blocked reads return, so the readers finish
		}
		<-done
	}
}

// exitProblem says why a finished command's result is not a success.
func exitProblem(state *os.ProcessState, stderr []byte) error {
	if state == nil {
		return errors.New("no exit status")
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return nil
	case ws.Signaled():
		return &exitError{"killed by signal " + signalName(ws.Signal())}
	case ws.ExitStatus() != 0:
		msg := "exit status " + strconv.Itoa(ws.ExitStatus())
		if line := lastLine(stderr); line != "" {
			msg += ": " + line
		}
		return &exitError{msg}
	}
	return nil
}

func statusOf(state *os.ProcessState) string {
	if state == nil {
		return "not started"
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + signalName(ws.Signal())
	}
	return state.String()
}

// signalName is the SIGXXX name, with the limit behind the signals that limits send.
func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
		syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
		syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGSYS: "SIGSYS",
		syscall.SIGXCPU: "SIGXCPU (CPU time limit)", syscall.SIGXFSZ: "SIGXFSZ (file size limit)",
	}
	if name, ok := names[sig]; ok {
		return name
	}
	return "signal " + strconv.Itoa(int(sig))
}

// lastLine is the last non-empty line of a command's stderr, printable ASCII
// only and cut short: it goes into a one-line ERR reply.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n\t "), "\n")
	line := strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return ' '
		}
		return r
	}, strings.TrimSpace(lines[len(lines)-1]))
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}

// forgivingWriter writes until the first error, then swallows the rest: a
// command may exit without reading its input, which must still be consumed.
type forgivingWriter struct {
	w      io.Writer
	failed bool
}

func (f *forgivingWriter) Write(p []byte) (int, error) {
	if !f.failed {
		if _, err := f.w.Write(p); err != nil {
			f.failed = true
		}
	}
	return len(p), nil
}

func closeAll(pipes [][2]*os.File) {
	for _, p := range pipes {
		for _, f := range p {
			if f != nil {
				f.Close()
			}
		}
	}
}

// reap runs the slot's reaper (see reapMain): every process of the slot's
// uid is killed and its files under the scratch folders and its IPC objects
// removed. Past reapDeadline the reaper itself is killed, and the caller
// tries again.
func (s *Server) reap(sl *slot) error {
	self, err := s.executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), reapDeadline)
	defer cancel()
	args := append([]string{helperArg, "reap", strconv.Itoa(int(sl.credential.Uid))}, s.scratchDirs()...)
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid:      true,
		Credential:  &syscall.Credential{Uid: sl.reaperUID, Gid: sl.credential.Gid, Groups: []uint32{}},
		AmbientCaps: []uintptr{capSetUID},
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("reaper: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// reapDeadline bounds one reaper: its own kill rounds give up after 10s.
const reapDeadline = 15 * time.Second

func (s *Server) scratchDirs() []string {
	if s.ScratchDirs != nil {
		return s.ScratchDirs
	}
	return []string{"/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue"}
}

// slotTmpDir is the request's own TMPDIR in the first scratch folder.
func (s *Server) slotTmpDir(id int) string {
	dirs := s.scratchDirs()
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Join(dirs[0], "execd-request-"+strconv.Itoa(id))
}
