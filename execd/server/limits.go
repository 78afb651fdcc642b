package server

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits are the per-request resource limits. The launcher sets them on the
// request's first process, so every process the request starts inherits them.
type Limits struct {
	// Procs caps the processes (and threads) of the request: RLIMIT_NPROC,
	// which the kernel counts per uid, and each request has a uid of its own.
	Procs int
	// DataBytes caps each process's heap and private memory (RLIMIT_DATA),
	// StackBytes its stack (RLIMIT_STACK), AddressBytes its whole address
	// space (RLIMIT_AS).
	DataBytes, StackBytes, AddressBytes int64
	// FileBytes caps the size of any file a request writes (RLIMIT_FSIZE).
	FileBytes int64
	// OpenFiles caps each process's file descriptors (RLIMIT_NOFILE).
	OpenFiles int
	// CPUSeconds caps each process's CPU time (RLIMIT_CPU).
	CPUSeconds int
}

// DefaultLimits keep a request small beside the container's 32M, of which the
// container's own processes use about 13: a figlet request uses about 1 MiB.
var DefaultLimits = Limits{
	Procs:        8,
	DataBytes:    2 << 20,
	StackBytes:   2 << 20,
	AddressBytes: 64 << 20,
	FileBytes:    4 << 20,
	OpenFiles:    64,
	CPUSeconds:   10,
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits
	if l.Procs > 0 {
		d.Procs = l.Procs
	}
	if l.DataBytes > 0 {
		d.DataBytes = l.DataBytes
	}
	if l.StackBytes > 0 {
		d.StackBytes = l.StackBytes
	}
	if l.AddressBytes > 0 {
		d.AddressBytes = l.AddressBytes
	}
	if l.FileBytes > 0 {
		d.FileBytes = l.FileBytes
	}
	if l.OpenFiles > 0 {
		d.OpenFiles = l.OpenFiles
	}
	if l.CPUSeconds > 0 {
		d.CPUSeconds = l.CPUSeconds
	}
	return d
}

// String encodes the limits for the launcher's command line.
func (l Limits) String() string {
	return fmt.Sprintf("procs=%d,data=%d,stack=%d,as=%d,fsize=%d,nofile=%d,cpu=%d",
		l.Procs, l.DataBytes, l.StackBytes, l.AddressBytes, l.FileBytes, l.OpenFiles, l.CPUSeconds)
}

func parseLimits(s string) (Limits, error) {
	var l Limits
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n <= 0 {
			return l, fmt.Errorf("bad limit %q", kv)
		}
		switch k {
		case "procs":
			l.Procs = int(n)
		case "data":
			l.DataBytes = n
		case "stack":
			l.StackBytes = n
		case "as":
			l.AddressBytes = n
		case "fsize":
			l.FileBytes = n
		case "nofile":
			l.OpenFiles = int(n)
		case "cpu":
			l.CPUSeconds = int(n)
		default:
			return l, fmt.Errorf("unknown limit %q", k)
		}
	}
	return l, nil
}
