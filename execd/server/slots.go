package server

import (
	"bytes"
	"syscall"
)

// slot is one place for a running request. In the uid mode each slot has an
// unprivileged uid of its own, used by one request at a time: a request can
// then neither signal nor read another request's processes or the daemon's,
// and everything it leaves behind can be found by its uid.
type slot struct {
	id         int
	credential *syscall.Credential // nil: run as the daemon's own user
	tmpDir     string              // the request's TMPDIR, removed after it
	// cgroupProcs is the slot cgroup's cgroup.procs, or "": the request's
	// processes are born in that cgroup, under its limits.
	cgroupProcs string
	out         bytes.Buffer // stdout, reused: its memory is bounded per slot
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
