//go:build linux

package server

// The two helper modes of the execd binary. The daemon starts itself again
// with helperArg as argv[1]:
//
//   - "launch": the first process of a request. Already switched to the
//     request's uid by the daemon, it drops every capability, lowers its
//     limits, makes its scratch folder and execs the requested program.
//   - "reap": after a request: started as a uid of its own that no request
//     runs as, it acts as the request's uid (the effective uid only), kills
//     every process of that uid (setsid, double fork and daemons included)
//     and removes what the uid left in the scratch folders and in SysV IPC.
//
// Capabilities are per thread in Linux, and the Go runtime starts threads
// before any of this code runs: every thread must drop them, not only this
// one. The daemon clears its ambient set on all its threads first
// (clearAmbientCapabilities), so a helper starts with none it was not given.

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const helperArg = "--execd-helper"

// safePath is the PATH a request's program is looked up in and runs with.
const safePath = "/usr/local/bin:/usr/bin:/bin"

// minReapUID guards the reaper's kill(-1): it must never run as root or as a
// system account, whose kill(-1) would reach the daemon or the whole system.
const minReapUID = 1000

// HelperMain runs a helper mode and exits when this process was started as a
// helper; otherwise it returns at once. main (and TestMain) call it first.
func HelperMain() {
	if len(os.Args) < 3 || os.Args[1] != helperArg {
		return
	}
	runtime.LockOSThread()
	switch os.Args[2] {
	case "launch":
		launchMain(os.Args[3:])
	case "reap":
		reapMain(os.Args[3:])
	}
	fmt.Fprintf(os.Stderr, "execd helper: unknown mode %q\n", os.Args[2])
	os.Exit(2)
}

// launchMain: launch LIMITS TMPDIR CGROUPS -- PROG ARGS... (TMPDIR and CGROUPS,
// cgroup.procs files, comma separated, that the launcher moves itself into,
// may be ""). The daemon reads fd 3
// until EOF: any text there is why the program could not be started (fd 3 is
// close-on-exec, so a successful exec sends EOF and nothing else).
func launchMain(args []string) {
	status := os.NewFile(3, "status")
	syscall.CloseOnExec(3)
	fail := func(format string, a ...interface{}) {
		fmt.Fprintf(status, format, a...)
		os.Exit(127)
	}
	if len(args) < 5 || args[3] != "--" {
		fail("bad launcher arguments")
	}
	limits, err := parseLimits(args[0])
	if err != nil {
		fail("%v", err)
	}
	tmp, cgroups, argv := args[1], args[2], args[4:]
	if err := dropCapabilities(); err != nil {
		fail("dropping capabilities: %v", err)
	}
	// The slot's cgroup (its cgroup.procs belongs to this uid): every process
	// the request starts is born in it, under its memory limit.
	for _, procs := range strings.Split(cgroups, ",") {
		if procs == "" {
			continue
		}
		if err := os.WriteFile(procs, []byte("0\n"), 0); err != nil {
			fail("joining the request cgroup: %v", err)
		}
	}
	syscall.Umask(0o077)
	env := []string{"PATH=" + safePath, "LANG=C.UTF-8", "HOME=/", "USER=nobody"}
	if tmp != "" {
		// A name no other request can make first: a folder of the slot's plain name, made by
		// another uid running at the same time, would become this request's TMPDIR otherwise.
		made, err := makeOwnFolder(tmp)
		if err != nil {
			fail("making %s: %v", tmp, err)
		}
		env = append(env, "TMPDIR="+made, "HOME="+made)
	}
	// Raising one's own OOM score needs no privilege: the kernel's OOM killer
	// then takes a request's processes before the container's systemd or execd.
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0); err != nil {
		fail("raising oom_score_adj: %v", err)
	}
	os.Setenv("PATH", safePath)
	prog, err := exec.LookPath(argv[0])
	if err != nil {
		fail("%v", lookPathReason(argv[0], err))
	}
	if err := limits.apply(); err != nil {
		fail("setting limits: %v", err)
	}
	err = syscall.Exec(prog, argv, env)
	fail("%s: %v", argv[0], err)
}

func lookPathReason(prog string, err error) string {
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr) && errors.Is(pathErr.Err, fs.ErrNotExist):
		return prog + ": no such file"
	case errors.Is(err, exec.ErrNotFound):
		return prog + ": not found in " + safePath
	}
	return err.Error()
}

// reapMain: reap UID DIR... Kills every process of UID, then removes UID's
// files under each DIR and its SysV IPC objects. It starts as a uid of its
// own (the slot's reaper uid) with CAP_SETUID only, and takes UID as its
// effective uid, keeping its own as real and saved uid: a process may signal
// another only when its real or effective uid is the other's real or saved
// uid, and read its memory only when all three match, so the request's
// processes can neither stop the reaper nor write into it, while its
// kill(-1) reaches exactly the processes whose real or saved uid is UID.
func reapMain(args []string) {
	if len(args) < 1 {
		os.Exit(2)
	}
	uid, err := strconv.Atoi(args[0])
	own := os.Getuid()
	if err != nil || uid < minReapUID || own < minReapUID || own == uid || os.Geteuid() != own {
		fmt.Fprintf(os.Stderr, "execd reaper: refusing to run as uid %d for uid %q\n", own, args[0])
		os.Exit(3)
	}
	// The reaper runs in the container's own memory, beside its systemd: it keeps
	// its heap small (a quarter of Go's least heap goal, 4 MiB), and if memory
	// runs out all the same the OOM killer takes it (execd starts it again)
	// rather than the container's init. Raising one's own score needs no
	// privilege, but only while /proc/self is still this uid's.
	debug.SetGCPercent(25)
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0); err != nil {
		fmt.Fprintf(os.Stderr, "execd reaper: raising oom_score_adj: %v\n", err)
		os.Exit(3)
	}
	if err := syscall.Setresuid(own, uid, own); err != nil {
		fmt.Fprintf(os.Stderr, "execd reaper: acting as uid %d: %v\n", uid, err)
		os.Exit(3)
	}
	if err := dropCapabilities(); err != nil {
		fmt.Fprintf(os.Stderr, "execd reaper: %v\n", err)
		os.Exit(3)
	}
	// The change of uid made it so already; said again because everything rests on it.
	const prSetDumpable = 4
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
	code := 0
	if !killAllOf(uid, 10*time.Second) {
		fmt.Fprintf(os.Stderr, "execd reaper: processes of uid %d still alive after 10s\n", uid)
		code = 1
	}
	for _, dir := range args[1:] {
		removeOwnedBy(dir, uid)
	}
	removeIPCOwnedBy(uid)
	os.Exit(code)
}

// killAllOf sends SIGKILL to every process the reaper may signal (kill(-1)
// skips the caller), those whose real or saved uid is uid, until /proc shows
// none of uid left. New forks during a round are caught by the next;
// RLIMIT_NPROC bounds how many there can be. (kill(-1, 0) cannot tell: it
// succeeds whenever any other process exists.)
func killAllOf(uid int, within time.Duration) bool {
	until := time.Now().Add(within)
	pause := 2 * time.Millisecond
	for {
		syscall.Kill(-1, syscall.SIGKILL)
		if len(liveProcessesOf(uid, os.Getpid())) == 0 {
			return true
		}
		if time.Now().After(until) {
			return false
		}
		// Backing off: the killed need CPU to exit, and the container's is scarce.
		time.Sleep(pause)
		if pause < 100*time.Millisecond {
			pause *= 2
		}
	}
}

// liveProcessesOf lists the pids in /proc, other than self, whose real uid is
// uid and which are not zombies (those wait for their parent, holding nothing).
func liveProcessesOf(uid, self int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		status, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var realUID = -1
		zombie := false
		for _, line := range strings.Split(string(status), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && f[0] == "Uid:" {
				realUID, _ = strconv.Atoi(f[1])
			} else if len(f) > 1 && f[0] == "State:" {
				zombie = f[1] == "Z" || f[1] == "X"
			}
		}
		if realUID == uid && !zombie {
			pids = append(pids, pid)
		}
	}
	return pids
}

// makeOwnFolder makes a new folder prefix-RANDOM, mode 0700, and returns its
// path; never one that already exists.
func makeOwnFolder(prefix string) (string, error) {
	var random [6]byte
	for attempt := 0; ; attempt++ {
		if _, err := rand.Read(random[:]); err != nil {
			return "", err
		}
		path := fmt.Sprintf("%s-%x", prefix, random)
		err := os.Mkdir(path, 0o700)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 3 {
			return "", err
		}
	}
}

// removeIPCOwnedBy removes the SysV shared memory, semaphores and message
// queues that uid owns or created: they would outlive its processes. They are
// found through the IPC calls themselves, not /proc/sysvipc, which execd's
// unit hides (ProcSubset=pid); the *_STAT_ANY forms see an object whatever
// mode its owner gave it.
func removeIPCOwnedBy(uid int) {
	const (
		ipcRmid             = 0
		shmStatAny, shmInfo = 15, 14
		semStatAny, semInfo = 20, 19
		msgStatAny, msgInfo = 13, 12
		permUID, permCUID   = 4, 12 // offsets in struct ipc64_perm
	)
	var buf [512]byte // larger than any of shmid64_ds, semid64_ds, msqid64_ds
	p := uintptr(unsafe.Pointer(&buf[0]))
	owned := func() bool {
		u := *(*uint32)(unsafe.Pointer(&buf[permUID]))
		c := *(*uint32)(unsafe.Pointer(&buf[permCUID]))
		return int(u) == uid || int(c) == uid
	}
	for _, kind := range []struct {
		ctl           uintptr
		info, statAny uintptr
		semaphore     bool
	}{{syscall.SYS_SHMCTL, shmInfo, shmStatAny, false}, {syscall.SYS_SEMCTL, semInfo, semStatAny, true}, {syscall.SYS_MSGCTL, msgInfo, msgStatAny, false}} {
		ctl := func(id, cmd uintptr) (uintptr, syscall.Errno) {
			if kind.semaphore {
				r, _, errno := syscall.Syscall6(kind.ctl, id, 0, cmd, p, 0, 0)
				return r, errno
			}
			r, _, errno := syscall.Syscall(kind.ctl, id, cmd, p)
			return r, errno
		}
		highest, errno := ctl(0, kind.info)
		if errno != 0 {
			continue
		}
		for index := uintptr(0); index <= highest; index++ {
			id, errno := ctl(index, kind.statAny)
			if errno == 0 && owned() {
				ctl(id, ipcRmid)
			}
		}
	}
}

// capSetUID is CAP_SETUID: the one capability a reaper starts with.
const capSetUID = 7

const prCapAmbient, prCapAmbientClearAll = 47, 4

// clearAmbientCapabilities empties the ambient set of every thread of the
// daemon. The daemon keeps its own capabilities, but a program it starts as
// another uid (a launcher, a reaper) then starts with none but those it is
// given by name: held by the Go runtime's threads of a launcher running as a
// request's uid, they would be a request's for the taking (through
// /proc/PID/mem of a same-uid process).
func clearAmbientCapabilities() error {
	if held, err := threadsHolding("CapAmb:"); err != nil || held == "" {
		return err
	}
	if _, _, errno := syscall.AllThreadsSyscall6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("clearing the ambient capabilities of every thread: %v", errno)
	}
	if held, err := threadsHolding("CapAmb:"); err != nil || held != "" {
		return fmt.Errorf("ambient capabilities still held after clearing them (%v)", err)
	}
	return nil
}

// dropCapabilities empties the ambient, inheritable, permitted and effective
// sets of every thread of this process, then checks that every thread's are
// empty. The kernel keeps capabilities across a setuid() between two non-root
// uids: they must go by hand before a request's program runs, and before the
// reaper touches anything of a request's.
func dropCapabilities() error {
	hdr := struct {
		version uint32
		pid     int32
	}{0x20080522, 0} // _LINUX_CAPABILITY_VERSION_3, the calling thread
	var data [2]struct{ effective, permitted, inheritable uint32 }
	hdrPtr, dataPtr := uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0]))
	allThreads, allThreads6 := syscall.AllThreadsSyscall, syscall.AllThreadsSyscall6
	if _, _, errno := allThreads6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0); errno == syscall.ENOTSUP {
		// A binary linked with cgo cannot change every thread: this one drops its
		// own, and the check below refuses if any other thread holds any.
		allThreads, allThreads6 = syscall.RawSyscall, syscall.RawSyscall6
		allThreads6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0)
	} else if errno != 0 && errno != syscall.EINVAL { // EINVAL: a kernel without ambient sets
		return fmt.Errorf("clearing ambient capabilities: %v", errno)
	}
	if _, _, errno := allThreads(syscall.SYS_CAPSET, hdrPtr, dataPtr, 0); errno != 0 {
		return fmt.Errorf("capset: %v", errno)
	}
	if held, err := threadsHolding("CapInh:", "CapPrm:", "CapEff:", "CapAmb:"); err != nil || held != "" {
		return fmt.Errorf("a thread still holds capabilities (%s) after dropping them (%v)", held, err)
	}
	return nil
}

// threadsHolding returns the first /proc status line, of any thread of this
// process, that shows a capability in one of the sets named ("CapAmb:",
// "CapEff:", ...); "" when none does. Each thread's status is read once.
func threadsHolding(sets ...string) (string, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return "", err
	}
	for _, task := range tasks {
		status, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue // a thread that ended meanwhile
		}
		for _, line := range strings.Split(string(status), "\n") {
			for _, set := range sets {
				if strings.HasPrefix(line, set) && strings.Trim(strings.TrimSpace(line[len(set):]), "0") != "" {
					return line, nil
				}
			}
		}
	}
	return "", nil
}
