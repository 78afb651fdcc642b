//go:build linux

package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testUIDBase is where this run's request users start: a range of its own,
// away from the container's (61000-61003). Killed requests leave zombies where
// the machine's init does not reap orphans, and zombies count against
// RLIMIT_NPROC of their uid: a later run must not inherit them.
// Each test takes ten uids of its own from the run's range.
var runUIDBase, nextTest = 62000 + 100*(os.Getpid()%30), 0

func freshUIDBase() int {
	nextTest++
	return runUIDBase + 10*nextTest
}

// uidMode starts a server in the uid mode with a scratch folder of its own;
// it needs root (CAP_SETUID) and skips otherwise.
func uidMode(t *testing.T, srv *Server) (addr, scratch string, uid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the uid mode needs root (CAP_SETUID, CAP_SETGID)")
	}
	scratch = t.TempDir()
	if err := os.Chmod(scratch, 0o1777); err != nil {
		t.Fatal(err)
	}
	// The test binary's folder must be reachable by the request users.
	if err := os.Chmod(filepath.Dir(scratch), 0o755); err != nil {
		t.Fatal(err)
	}
	// The request users run this test binary as the launcher: a copy they can reach.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "execd.test")
	data, err := os.ReadFile(self)
	if err != nil || os.WriteFile(bin, data, 0o755) != nil || os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755) != nil || os.Chmod(filepath.Dir(bin), 0o755) != nil {
		t.Fatalf("copying the test binary: %v", err)
	}
	srv.Executable = bin
	uid = freshUIDBase()
	srv.UIDBase = uid
	srv.ScratchDirs = []string{scratch}
	t.Cleanup(func() {
		if left := processesOf(uid, uid+10); len(left) > 0 {
			t.Errorf("processes of request uids left after the test: %v", left)
		}
	})
	return start(t, srv), scratch, uid
}

// processesOf lists the live (not zombie) processes whose real uid is in [lo, hi).
func processesOf(lo, hi int) []string {
	var found []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + d.Name() + "/status")
		if err != nil {
			continue
		}
		var uid int
		var state string
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
				uid, _ = strconv.Atoi(f[1])
			} else if len(f) > 1 && f[0] == "State:" {
				state = f[1]
			}
		}
		if uid >= lo && uid < hi && state != "Z" {
			found = append(found, d.Name())
		}
	}
	return found
}

func TestUIDModeRunsUnprivileged(t *testing.T) {
	addr, _, uid := uidMode(t, &Server{Slots: 2})
	c := dial(t, addr)
	c.expect(t, fmt.Sprintf("%d %d\n", uid, uid), "", "/bin/sh", "-c", "echo $(id -u) $(id -g)")
	// No capability survives the switch, in any set.
	c.expect(t, "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n", "",
		"/bin/sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status")
	c.expect(t, "1000\n", "", "/bin/cat", "/proc/self/oom_score_adj")
	c.expect(t, "77\n", "", "/bin/sh", "-c", "umask | tail -c 3")
	// The daemon (here: this test, as root) cannot be signalled by a request.
	c.expectErr(t, "exit status 1", "", "/bin/kill", "-TERM", strconv.Itoa(os.Getpid()))
	c.expect(t, "still here\n", "", "/bin/echo", "still here")
}

func TestUIDModeKillsEverythingARequestStarted(t *testing.T) {
	addr, _, uid := uidMode(t, &Server{Slots: 2, CommandTimeout: 500 * time.Millisecond})
	c := dial(t, addr)
	// A daemon left behind by a request that succeeded: gone when the reply comes.
	c.expect(t, "started\n", "", "/bin/sh", "-c", "setsid sleep 30 >/dev/null 2>&1 & setsid sh -c 'sleep 30 & sleep 30' >/dev/null 2>&1 & echo started")
	if left := processesOf(uid, uid+2); len(left) > 0 {
		t.Errorf("after a successful request: %v still running", left)
	}
	// setsid and a double fork do not escape the time limit either.
	begin := time.Now()
	c.expectErr(t, "time limit: killed after 500ms", "", "/bin/sh", "-c", "setsid sh -c 'sleep 30' & (setsid sleep 30 &) ; sleep 30")
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("the time limit took %v", d)
	}
	if left := processesOf(uid, uid+2); len(left) > 0 {
		t.Errorf("after a timed-out request: %v still running", left)
	}
}

// A request's process that outlives it and stops every process of its uid
// (kill -STOP -1 in a loop) must not stop the reaper: the slot would never be
// free again, and the process would live on.
func TestUIDModeALeftoverProcessCannotStopTheReaper(t *testing.T) {
	addr, _, uid := uidMode(t, &Server{Slots: 1})
	// Registered after uidMode's check, so run before it: whatever this test left, by pid.
	t.Cleanup(func() { killProcessesOf(uid, uid+10) })
	c := dial(t, addr)
	c.expect(t, "", "", "/bin/sh", "-c",
		`setsid sh -c 'while kill -0 $PPID 2>/dev/null; do :; done; while :; do kill -STOP -1; done' >/dev/null 2>&1 & sleep 0.3`)
	expectServedWithin(t, addr, 5*time.Second, "free", "after a request left a process stopping every process of its uid")
	if left := processesOf(uid, uid+1); len(left) > 0 {
		t.Errorf("processes of the request's uid left: %v", left)
	}
}

// killProcessesOf sends SIGKILL to every process whose real uid is in [lo, hi).
func killProcessesOf(lo, hi int) {
	for _, p := range processesOf(lo, hi) {
		if pid, err := strconv.Atoi(p); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestUIDModeLeavesNoFiles(t *testing.T) {
	addr, scratch, _ := uidMode(t, &Server{Slots: 1})
	c := dial(t, addr)
	script := fmt.Sprintf("echo x > %[1]s/left; mkdir -p %[1]s/d/e; touch %[1]s/d/e/f; chmod 000 %[1]s/d/e %[1]s/d; echo $TMPDIR; touch $TMPDIR/mine", scratch)
	tmp, err := c.do(t, "", "/bin/sh", "-c", script)
	if err != nil || !regexp.MustCompile(`^`+regexp.QuoteMeta(filepath.Join(scratch, "execd-request-0-"))+`[0-9a-f]{12}\n$`).MatchString(tmp) {
		t.Errorf("TMPDIR: got %q, %v; want %s-RANDOM", tmp, err, filepath.Join(scratch, "execd-request-0"))
	}
	if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
		t.Errorf("left in the scratch folder: %v", entries)
	}
}

// A tree deeper than any path the kernel takes (4096 bytes), with folders locked at the bottom
// (mode 0100 and 000), is removed all the same: it held its slot's memory for good otherwise. So
// are 3,000 locked folders side by side.
func TestUIDModeLeavesNoDeepOrLockedTree(t *testing.T) {
	addr, scratch, _ := uidMode(t, &Server{Slots: 1})
	c := dial(t, addr)
	name := strings.Repeat("d", 250)
	script := fmt.Sprintf(`chdir "%[1]s" or die; for (1..24) { mkdir "%[2]s" or die "mkdir: $!"; chdir "%[2]s" or die "chdir: $!" } mkdir "x"; mkdir "x/y"; open F, ">x/y/file"; print F "payload"; close F; open F, ">x/y/empty"; close F; chmod 0100, "x"; mkdir "z"; open F, ">z/f"; close F; chmod 0, "z"; chdir "%[1]s"; mkdir "wide"; for (1..3000) { mkdir "wide/$_"; open F, ">wide/$_/f"; close F; chmod 0, "wide/$_" } print "deep\n"`, scratch, name)
	c.expect(t, "deep\n", "", "/usr/bin/perl", "-e", script)
	if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
		t.Errorf("left in the scratch folder: %v", entries)
	}
	c.expect(t, "still here\n", "", "/bin/echo", "still here")
}

// SysV IPC objects a request made go with it, whatever mode it gave them (0: not even readable
// by their owner), although the reaper no longer reads /proc/sysvipc (the unit hides it).
func TestUIDModeLeavesNoIPCObjects(t *testing.T) {
	if _, err := exec.LookPath("ipcmk"); err != nil {
		t.Skip("ipcmk (util-linux) is not installed")
	}
	addr, _, uid := uidMode(t, &Server{Slots: 1})
	c := dial(t, addr)
	c.expect(t, "made\n", "", "/bin/sh", "-c", "(ipcmk -M 4096 -p 0 && ipcmk -S 2 -p 0 && ipcmk -Q -p 0 && ipcmk -M 4096) >/dev/null && echo made")
	for _, table := range []string{"shm", "sem", "msg"} {
		text, err := os.ReadFile("/proc/sysvipc/" + table)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		head := strings.Fields(lines[0])
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			for i, name := range head {
				if (name == "uid" || name == "cuid") && i < len(f) && f[i] == strconv.Itoa(uid) {
					t.Errorf("a %s object of uid %d outlived its request: %s", table, uid, line)
					break
				}
			}
		}
	}
}

// alongside runs a shell script as a request of its own connection while the test goes on, and
// checks its reply; the function it returns waits for that.
func alongside(t *testing.T, addr, want, script string) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dial(t, addr).expect(t, want, "", "/bin/sh", "-c", script)
	}()
	return wg.Wait
}

// openFolder is a shell command that makes a folder open to all at once (made aside, then renamed).
func openFolder(path string) string {
	return fmt.Sprintf("mkdir %[1]s.new; chmod 777 %[1]s.new; mv %[1]s.new %[1]s", path)
}

// Two requests at once nest folders in each other's: one makes a folder open to all, the other
// puts a folder of its own in it, and the first ends first. Each reaper still removes its own
// entries, and the emptied folder of the first goes with its slot's next request.
func TestUIDModeNestedFoldersOfTwoRequestsDoNotOutliveThem(t *testing.T) {
	addr, scratch, _ := uidMode(t, &Server{Slots: 2})
	x := filepath.Join(scratch, "x")
	first := alongside(t, addr, "a\n", openFolder(x)+fmt.Sprintf("; while [ ! -d %[1]s/y ]; do sleep 0.05; done; echo a", x))
	dial(t, addr).expect(t, "b\n", "", "/bin/sh", "-c", fmt.Sprintf("while [ ! -d %[1]s ]; do sleep 0.05; done; mkdir %[1]s/y; echo secret > %[1]s/y/f; sleep 1; echo b", x))
	first()
	if _, err := os.Lstat(filepath.Join(x, "y")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the second request's folder outlived it: %v", err)
	}
	// The next request in each slot.
	c := dial(t, addr)
	c.expect(t, "", "", "/bin/true")
	c.expect(t, "", "", "/bin/true")
	if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
		t.Errorf("left in the scratch folder: %v", entries)
	}
}

// A request cannot make another slot's TMPDIR for it in advance: each request's TMPDIR is a new
// folder of its own uid, whatever others made under the slot's name.
func TestUIDModeTMPDIRCannotBeMadeForAnotherSlot(t *testing.T) {
	addr, scratch, uid := uidMode(t, &Server{Slots: 2})
	taken := filepath.Join(scratch, "execd-request-1")
	holder := alongside(t, addr, "", openFolder(taken)+"; sleep 1")
	waitForFile(taken)
	got, err := dial(t, addr).do(t, "", "/bin/sh", "-c", `echo "$TMPDIR $(stat -c %u "$TMPDIR")"`)
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(taken) + `-[0-9a-f]{12} ` + strconv.Itoa(uid+1) + `\n$`)
	if err != nil || !want.MatchString(got) {
		t.Errorf("slot 1's TMPDIR: got %q, %v; want a new folder of uid %d", got, err, uid+1)
	}
	holder()
}

func TestUIDModeSignalsAndLimits(t *testing.T) {
	addr, _, _ := uidMode(t, &Server{Slots: 1, Limits: Limits{Procs: 8, FileBytes: 1 << 20}})
	c := dial(t, addr)
	c.expectErr(t, "killed by signal SIGSEGV", "", "/bin/sh", "-c", "kill -SEGV $$")
	c.expectErr(t, "killed by signal SIGXFSZ (file size limit)", "", "/bin/sh", "-c", "exec head -c 2000000 /dev/zero > $TMPDIR/big")
	// A fork bomb meets the process limit (8, the shell included) and fails.
	c.expectErr(t, "Cannot fork", "", "/bin/sh", "-c", "for i in $(seq 20); do sleep 5 & done; wait")
	c.expect(t, "ok\n", "", "/bin/echo", "ok")
}

func TestUIDModeIsolatesRequests(t *testing.T) {
	addr, scratch, _ := uidMode(t, &Server{Slots: 2})
	pidFile := filepath.Join(scratch, "a.pid")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dial(t, addr).expect(t, "", "", "/bin/sh", "-c", "echo $$ > "+pidFile+"; chmod 644 "+pidFile+"; sleep 2")
	}()
	var pid string
	for i := 0; i < 100 && pid == ""; i++ {
		b, _ := os.ReadFile(pidFile)
		pid = strings.TrimSpace(string(b))
		time.Sleep(20 * time.Millisecond)
	}
	if pid == "" {
		t.Fatal("request A never wrote its pid")
	}
	b := dial(t, addr)
	b.expectErr(t, "Operation not permitted", "", "/bin/kill", "-KILL", pid)
	b.expectErr(t, "Permission denied", "", "/bin/cat", "/proc/"+pid+"/environ")
	wg.Wait() // A ran to its end, untouched
}

func TestBusyIsImmediate(t *testing.T) {
	addr := start(t, &Server{Slots: 1})
	go dial(t, addr).do(t, "", "/bin/sleep", "1")
	time.Sleep(200 * time.Millisecond)
	begin := time.Now()
	dial(t, addr).expectErr(t, "busy: 1 requests are running", "", "/bin/echo", "hi")
	if d := time.Since(begin); d > 500*time.Millisecond {
		t.Errorf("busy took %v", d)
	}
}

func TestTooManyConnections(t *testing.T) {
	addr := start(t, &Server{MaxConns: 2})
	dial(t, addr)
	dial(t, addr)
	time.Sleep(100 * time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 100)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "ERR busy: 2 connections are open") {
		t.Errorf("third connection got %q", buf[:n])
	}
	// A flood past that: at most refusalsPerConn refusals at once for each connection (each
	// holds a goroutine for up to 2 s); the rest are closed unanswered.
	before := runtime.NumGoroutine()
	var flood []net.Conn
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			flood = append(flood, c)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if grown := runtime.NumGoroutine() - before; grown > 2+10 {
		t.Errorf("200 refused connections took %d goroutines", grown)
	}
	for _, c := range flood {
		c.Close()
	}
}

// slotCgroups makes cgroup-v1 memory cgroups slot0..slotN-1 under this test's
// own memory cgroup, each limited to limit bytes and owned by its slot's uid,
// as the recipe does on the host; it skips where that is impossible.
func slotCgroups(t *testing.T, base, slots int, limit int64) string {
	t.Helper()
	own := ""
	self, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(self), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && strings.Contains(","+f[1]+",", ",memory,") {
			own = f[2]
		}
	}
	root := filepath.Join("/sys/fs/cgroup/memory", own)
	if own == "" || os.Geteuid() != 0 {
		t.Skip("needs root and a cgroup v1 memory hierarchy")
	}
	top := filepath.Join(root, fmt.Sprintf("execd-test-%d", base))
	if err := os.Mkdir(top, 0o755); err != nil {
		t.Skipf("cannot make a memory cgroup: %v", err)
	}
	// The layout execd reads: a folder per hierarchy, here a symlink to the memory one.
	parent := t.TempDir()
	if err := os.Symlink(top, filepath.Join(parent, "memory")); err != nil {
		t.Fatal(err)
	}
	dir := top
	t.Cleanup(func() {
		for i := 0; i < slots; i++ {
			for try := 0; try < 50 && os.Remove(filepath.Join(dir, fmt.Sprintf("slot%d", i))) != nil; try++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		os.Remove(top)
	})
	for i := 0; i < slots; i++ {
		slot := filepath.Join(dir, fmt.Sprintf("slot%d", i))
		if err := os.Mkdir(slot, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(slot, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"cgroup.procs", "tasks"} {
			if err := os.Chown(filepath.Join(slot, f), base+i, base+i); err != nil {
				t.Fatal(err)
			}
		}
	}
	return parent
}

func TestUIDModeRunsEachRequestInItsSlotCgroup(t *testing.T) {
	srv := &Server{Slots: 1, Limits: Limits{Procs: 8, DataBytes: 64 << 20, AddressBytes: 256 << 20}}
	next := runUIDBase + 10*(nextTest+1) // the base uidMode is about to take
	srv.CgroupDir = slotCgroups(t, next, 1, 8<<20)
	addr, _, uid := uidMode(t, srv)
	if uid != next {
		t.Fatalf("uid base %d, expected %d", uid, next)
	}
	c := dial(t, addr)
	out, err := c.do(t, "", "/bin/sh", "-c", "grep memory /proc/self/cgroup")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), fmt.Sprintf("execd-test-%d/slot0", next)) {
		t.Errorf("the request's memory cgroup: %q, %v", out, err)
	}
	// 12 MiB, within the process's own limits, exceeds the slot's 8 MiB: the kernel kills inside
	// the slot, and the request says so.
	c.expectErr(t, "killed by signal SIGKILL", "", "dd", "if=/dev/zero", "of=/dev/null", "bs=12M", "count=50")
	oom, _ := os.ReadFile(filepath.Join(srv.CgroupDir, "memory", "slot0", "memory.oom_control"))
	if !strings.Contains(string(oom), "oom_kill 1") {
		t.Errorf("the slot's OOM count: %s", oom)
	}
	c.expect(t, "still here\n", "", "/bin/echo", "still here")
}
