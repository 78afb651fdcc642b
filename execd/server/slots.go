package server

import "syscall"

// slot is one place for a running request. In the uid mode each slot has an
// unprivileged uid of its own, used by one request at a time: a request can
// then neither signal nor read another request's processes or the daemon's,
// and everything it leaves behind can be found by its uid.
type slot struct {
	id         int
	credential *syscall.Credential // nil: run as the daemon's own user
	// reaperUID is the uid the slot's reaper starts as, one no request runs
	// as: a request's processes can then neither signal nor read the reaper.
	reaperUID uint32
	tmpDir    string // the request's TMPDIR, removed after it
	// cgroupProcs is the slot cgroup's cgroup.procs, or "": the request's
	// processes are born in that cgroup, under its limits.
	cgroupProcs string
	// out holds stdout, reused: made once at exactly maxStdout+1 bytes, so a
	// slot never holds more (a growing buffer doubles past 2 MiB).
	out []byte
}

// slotPool hands out free slots without ever waiting: a request that finds
// none is refused as busy.
type slotPool chan *slot

func (p slotPool) tryAcquire() (*slot, bool) {
	select {
	case sl := <-p:
		return sl, true
	default:
		return nil, false
	}
}

func (p slotPool) release(sl *slot) { p <- sl }
