// Command execd is the daemon: it runs programs on behalf of execc clients,
// speaking the protocol of package execd-builder/execd/protocol.
//
// Usage: execd [-listen ADDR] [-uid-base UID] [-slots N] [-timeout D] [-version] ...
//
// There is no authentication: anyone who can reach ADDR can run any program.
// With -uid-base each running request gets an unprivileged uid of its own
// (UID, UID+1, ...; see package server), which needs CAP_SETUID, CAP_SETGID
// and CAP_KILL; without it requests run as this user.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"runtime/debug"
	"strings"

	"execd-builder/execd/server"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	// The same binary is the launcher and the reaper of requests.
	server.HelperMain()

	listen := flag.String("listen", ":4000", "TCP address to listen on")
	showVersion := flag.Bool("version", false, "print the version and exit")
	uidBase := flag.Int("uid-base", 0, "run request slot i as uid/gid UID+i (0: as this user, no isolation)")
	slots := flag.Int("slots", server.DefaultSlots, "requests that run at once; more are refused as busy")
	maxConns := flag.Int("max-conns", server.DefaultMaxConns, "open connections; more are refused as busy")
	timeout := flag.Duration("timeout", server.DefaultCommandTimeout, "wall-clock limit of a request")
	procs := flag.Int("procs", server.DefaultLimits.Procs, "processes and threads of a request")
	memory := flag.String("memory", "2M", "heap and private memory of each process of a request")
	scratch := flag.String("scratch", "/tmp,/var/tmp,/dev/shm,/dev/mqueue", "folders swept of a request's files after it")
	refuseLocal := flag.Bool("refuse-local", false, "refuse connections from this host itself")
	cgroups := flag.String("cgroups", "", "folder of per-slot cgroups (slot0, slot1, ...) that requests run in")
	ownMemory := flag.String("memory-limit", "12M", "soft limit of the daemon's own Go heap")
	flag.Parse()
	if *showVersion {
		fmt.Println("execd", version)
		return
	}
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: execd [-listen ADDR] [-uid-base UID] [-slots N] [-timeout D] [-version]")
		os.Exit(2)
	}
	log.SetPrefix("execd: ")
	perProcess, err1 := parseSize(*memory)
	ownLimit, err2 := parseSize(*ownMemory)
	if err1 != nil || err2 != nil || *slots <= 0 || *maxConns <= 0 || *procs <= 0 || *timeout <= 0 || *uidBase < 0 {
		log.Fatalf("bad flag value (sizes like 16M; counts and -timeout above 0)")
	}
	debug.SetMemoryLimit(ownLimit)
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := server.Server{
		CommandTimeout: *timeout,
		Slots:          *slots,
		MaxConns:       *maxConns,
		UIDBase:        *uidBase,
		Limits:         server.Limits{Procs: *procs, DataBytes: perProcess},
		ScratchDirs:    strings.Split(*scratch, ","),
		RefuseLocal:    *refuseLocal,
		CgroupDir:      *cgroups,
	}
	// Tests parse this line to find the port chosen for ":0".
	log.Printf("version %s listening on %s", version, l.Addr())
	if err := srv.Serve(l); err != nil {
		log.Fatal(err)
	}
}

// parseSize reads 16M, 512K, 1G or a plain number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
