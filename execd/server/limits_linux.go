//go:build linux

package server

import (
	"fmt"
	"syscall"
)

// Linux resource numbers that package syscall does not name.
const (
	rlimitNproc    = 6
	rlimitMemlock  = 8
	rlimitMsgqueue = 12
)

// apply sets the limits on this process, hard and soft alike, so a request
// cannot raise them again. The address-space limit goes last: it is the one
// that could stop the Go runtime from mapping memory before the exec.
func (l Limits) apply() error {
	set := []struct {
		name     string
		resource int
		value    uint64
	}{
		{"processes", rlimitNproc, uint64(l.Procs)},
		{"data", syscall.RLIMIT_DATA, uint64(l.DataBytes)},
		{"stack", syscall.RLIMIT_STACK, uint64(l.StackBytes)},
		{"file size", syscall.RLIMIT_FSIZE, uint64(l.FileBytes)},
		{"open files", syscall.RLIMIT_NOFILE, uint64(l.OpenFiles)},
		{"cpu", syscall.RLIMIT_CPU, uint64(l.CPUSeconds)},
		{"core", syscall.RLIMIT_CORE, 0},
		{"locked memory", rlimitMemlock, 0},
		{"message queues", rlimitMsgqueue, 0},
		{"address space", syscall.RLIMIT_AS, uint64(l.AddressBytes)},
	}
	for _, s := range set {
		if err := syscall.Setrlimit(s.resource, &syscall.Rlimit{Cur: s.value, Max: s.value}); err != nil {
			return fmt.Errorf("%s limit %d: %v", s.name, s.value, err)
		}
	}
	return nil
}
