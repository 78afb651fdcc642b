// Package server is the execd daemon: it reads protocol requests from TCP
// connections and runs them. It lives outside package main so tests can run
// it in-process on a loopback listener. It needs Linux.
//
// Security: there is no authentication. Anyone who can reach the listener
// can run any program, so what a request can do is bounded instead: with
// UIDBase set (the uid mode, as the container runs it) each running request
// has an unprivileged uid of its own, its own limits (Limits), and a time
// limit after which every process of that uid is killed; at most Slots run at
// once and further requests are refused as busy at once.
package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"execd-builder/execd/protocol"
)

// Defaults for the zero Server.
const (
	DefaultCommandTimeout = 10 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
	DefaultSlots          = 4
	DefaultMaxConns       = 64
)

const maxStdout = protocol.MaxStdout

// Server runs commands for clients. The zero value is ready to use; it runs
// requests as its own user, killed by process group (no uid mode).
type Server struct {
	// CommandTimeout bounds each command; it is killed when it expires.
	CommandTimeout time.Duration
	// IdleTimeout bounds the wait for each request header, and the time
	// to write each reply, so silent or stuck clients cannot pin a goroutine.
	IdleTimeout time.Duration
	// Slots is how many requests run at once; more are refused as busy.
	Slots int
	// MaxConns bounds open connections; more are refused as busy.
	MaxConns int
	// UIDBase, when > 0, runs the request in slot i as uid and gid
	// UIDBase+i, with no supplementary groups (the uid mode), and starts the
	// slot's reaper as uid UIDBase+Slots+i. It needs CAP_SETUID and
	// CAP_SETGID (and CAP_KILL where it does not run as root), which requests
	// never get.
	UIDBase int
	// Limits apply to every process of a request; zero fields take DefaultLimits.
	Limits Limits
	// ScratchDirs are the world-writable folders (tmpfs in the container)
	// that are swept of a request's files after it; the first also holds
	// its TMPDIR. nil means /tmp, /var/tmp, /dev/shm and /dev/mqueue.
	ScratchDirs []string
	// CgroupDir, in the uid mode, holds a folder per cgroup hierarchy
	// (memory, cpu, ...), each with a cgroup per slot (slot0, slot1, ...)
	// whose cgroup.procs the slot's uid owns: each request runs in its slot's
	// cgroups, with their limits. A CgroupDir that is missing or empty (the
	// host bound none in; logged once) leaves requests with Limits only; one
	// that holds a hierarchy without every slot's cgroup.procs reachable makes
	// Serve fail, rather than run requests outside their limits.
	CgroupDir string
	// RefuseLocal refuses connections from the daemon's own host (loopback,
	// or the listener's own address): a request must not start requests.
	RefuseLocal bool
	// Executable is this daemon's binary, started again as the launcher and
	// reaper of requests (see HelperMain); "" means os.Executable(). Request
	// users must be able to run it.
	Executable string
	// Logger gets one line per request; nil means log.Default() (stderr).
	Logger *log.Logger

	once  sync.Once
	slots slotPool
	conns chan struct{}
	// refusing counts the connections being told "busy" (each up to 2 s).
	refusing chan struct{}
	// setupErr is why the slots cannot serve (a request cgroup out of reach).
	setupErr error
}

func (s *Server) init() {
	s.once.Do(func() {
		n := s.Slots
		if n <= 0 {
			n = DefaultSlots
		}
		s.slots = make(slotPool, n)
		for i := 0; i < n; i++ {
			sl := &slot{id: i}
			if s.UIDBase > 0 {
				id := uint32(s.UIDBase + i)
				sl.credential = &syscall.Credential{Uid: id, Gid: id, Groups: []uint32{}}
				sl.reaperUID = uint32(s.UIDBase + n + i)
				sl.tmpDir = s.slotTmpDir(i)
				procs, err := s.slotCgroup(i)
				if err != nil && s.setupErr == nil {
					s.setupErr = err
				}
				sl.cgroupProcs = procs
			}
			s.slots <- sl
		}
		max := s.MaxConns
		if max <= 0 {
			max = DefaultMaxConns
		}
		s.conns = make(chan struct{}, max)
		// Room to tell a burst past the bound "busy" (each refusal lingers up to 2 s),
		// while a flood still costs a bounded number of goroutines.
		s.refusing = make(chan struct{}, refusalsPerConn*max)
	})
}

// Serve accepts connections on l until l is closed, then returns nil. In the
// uid mode it first clears whatever an earlier daemon's requests left.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if s.setupErr != nil {
		return s.setupErr
	}
	if err := clearAmbientCapabilities(); err != nil {
		return err
	}
	if s.UIDBase > 0 {
		for i := 0; i < cap(s.slots); i++ {
			sl := <-s.slots
			if err := s.reap(sl); err != nil {
				return fmt.Errorf("clearing slot %d: %v", sl.id, err)
			}
			s.slots <- sl
		}
	}
	for {
		conn, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			// Typically EMFILE: wait for connections to finish instead
			// of exiting, since the daemon must keep serving.
			s.logf("accept: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case s.conns <- struct{}{}:
			go func() {
				defer func() { <-s.conns }()
				s.handleConn(conn)
			}()
		default:
			select {
			case s.refusing <- struct{}{}:
				go func() {
					defer func() { <-s.refusing }()
					s.refuse(conn, fmt.Sprintf("busy: %d connections are open; try again shortly", cap(s.conns)))
				}()
			default:
				// As many refusals are under way as there is room for: a flood is closed
				// unanswered rather than given a goroutine (and its buffers) each.
				conn.Close()
			}
		}
	}
}

// refuse answers a connection with one ERR line and closes it.
// refusalsPerConn: how many connections may be being told "busy" at once, for
// each connection that may be open.
const refusalsPerConn = 4

func (s *Server) refuse(conn net.Conn, msg string) {
	defer conn.Close()
	s.logf("%s refused: %s", conn.RemoteAddr(), msg)
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	if protocol.WriteError(conn, msg) == nil {
		closeGracefully(conn)
	}
}

func (s *Server) handleConn(conn net.Conn) {
	defer conn.Close()
	peer := conn.RemoteAddr().String()
	// A bug in one request must not take the whole daemon down.
	defer func() {
		if r := recover(); r != nil {
			s.logf("%s: panic: %v", peer, r)
		}
	}()
	if s.RefuseLocal && isLocalPeer(conn) {
		s.logf("%s refused: a connection from inside the container", peer)
		s.send(conn, bufio.NewWriter(conn), nil, errors.New("refused: requests from the container itself are not served"))
		closeGracefully(conn)
		return
	}
	br := bufio.NewReader(conn)
	bw := bufio.NewWriter(conn)
	for {
		conn.SetReadDeadline(time.Now().Add(s.idleTimeout()))
		head, err := protocol.ReadHeader(br)
		if err == io.EOF {
			return
		}
		if err != nil {
			s.logf("%s prog=- in=0 out=0 status=%q", peer, "bad request: "+err.Error())
			s.send(conn, bw, nil, err)
			closeGracefully(conn)
			return
		}
		sl, ok := s.slots.tryAcquire()
		if !ok {
			msg := fmt.Sprintf("busy: %d requests are running; try again shortly", cap(s.slots))
			s.logf("%s prog=%q refused: %s", peer, head.Args[0], msg)
			s.send(conn, bw, nil, errors.New(msg))
			closeGracefully(conn)
			return
		}
		// Stdin must arrive while the command may run: a client that announces stdin and never
		// sends it holds the slot no longer than the time limit.
		conn.SetReadDeadline(time.Now().Add(s.commandTimeout()))
		res := s.run(sl, peer, head.Args, br, head.StdinLen)
		if res.brokenConn != nil {
			s.slots.release(sl)
			s.logf("%s: reading stdin: %v", peer, res.brokenConn)
			return
		}
		// The reply is the slot's output buffer: the slot is free again only once the reply is
		// sent (or its write deadline passed), or the next request in it would overwrite what a
		// slow reader has not received yet.
		sent := s.send(conn, bw, res.out, res.err)
		s.slots.release(sl)
		if !sent {
			return
		}
	}
}

// isLocalPeer: the client is on the daemon's own host or network namespace.
func isLocalPeer(conn net.Conn) bool {
	remote, ok1 := conn.RemoteAddr().(*net.TCPAddr)
	local, ok2 := conn.LocalAddr().(*net.TCPAddr)
	return ok1 && ok2 && (remote.IP.IsLoopback() || remote.IP.Equal(local.IP))
}

// send writes a success reply, or an ERR reply if runErr is set. It reports
// whether the connection is still usable.
func (s *Server) send(conn net.Conn, bw *bufio.Writer, out []byte, runErr error) bool {
	conn.SetWriteDeadline(time.Now().Add(s.idleTimeout()))
	var err error
	if runErr != nil {
		err = protocol.WriteError(bw, runErr.Error())
	} else {
		err = protocol.WriteReply(bw, out)
	}
	if err == nil {
		err = bw.Flush()
	}
	return err == nil
}

// closeGracefully closes after an ERR reply to a request the daemon did not
// read to its end. Closing a TCP socket with unread input makes the kernel
// send a reset, which can destroy the ERR reply before the client reads it;
// so half-close, then briefly discard whatever the client is still sending.
func closeGracefully(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 2*protocol.MaxStdin))
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (s *Server) commandTimeout() time.Duration {
	if s.CommandTimeout > 0 {
		return s.CommandTimeout
	}
	return DefaultCommandTimeout
}

// slotCgroup lists the slot's cgroup.procs files, comma separated, one per
// hierarchy folder in CgroupDir (memory/slotN, cpu/slotN, ...), or "" when the
// host bound none in. It fails closed: a hierarchy without this slot's
// cgroup.procs within reach (missing, or a folder this daemon cannot search)
// is an error, since the slot's requests would otherwise run without its limits.
func (s *Server) slotCgroup(i int) (string, error) {
	if s.CgroupDir == "" {
		return "", nil
	}
	hierarchies, err := os.ReadDir(s.CgroupDir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(hierarchies) == 0) {
		if i == 0 {
			s.logf("no request cgroups in %s: requests share the container's limits", s.CgroupDir)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("request cgroups: %v", err)
	}
	procs := make([]string, 0, len(hierarchies))
	for _, h := range hierarchies {
		file := filepath.Join(s.CgroupDir, h.Name(), "slot"+strconv.Itoa(i), "cgroup.procs")
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("request slot %d has no cgroup within reach in %s (%v): not serving requests outside their limits", i, h.Name(), err)
		}
		procs = append(procs, file)
	}
	return strings.Join(procs, ","), nil
}

func (s *Server) executable() (string, error) {
	if s.Executable != "" {
		return s.Executable, nil
	}
	return os.Executable()
}

func (s *Server) limits() Limits { return s.Limits.orDefaults() }

func (s *Server) logf(format string, a ...interface{}) {
	l := s.Logger
	if l == nil {
		l = log.Default()
	}
	l.Output(2, fmt.Sprintf(format, a...))
}
