// Package server is the execd daemon: it reads protocol requests from TCP
// connections and runs them. It lives outside package main so tests can run
// it in-process on a loopback listener.
//
// Security: there is no authentication. Anyone who can reach the listener can
// run any program as the daemon's user, so bind it to a trusted address.
package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"execd-builder/execd/protocol"
)

// Defaults for the zero Server.
const (
	DefaultCommandTimeout = 10 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
)

// Server runs commands for clients. The zero value is ready to use.
type Server struct {
	// CommandTimeout bounds each command; it is killed when it expires.
	CommandTimeout time.Duration
	// IdleTimeout bounds the wait for each complete request, and the time
	// to write each reply, so silent or stuck clients cannot pin a goroutine.
	IdleTimeout time.Duration
	// Logger gets one line per request; nil means log.Default() (stderr).
	Logger *log.Logger
}

// Serve accepts connections on l until l is closed, then returns nil.
func (s *Server) Serve(l net.Listener) error {
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
		go s.handleConn(conn)
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
	br := bufio.NewReader(conn)
	bw := bufio.NewWriter(conn)
	for {
		conn.SetReadDeadline(time.Now().Add(s.idleTimeout()))
		req, err := protocol.ReadRequest(br)
		if err == io.EOF {
			return
		}
		if err != nil {
			s.logf("%s prog=- in=0 out=0 status=%q", peer, "bad request: "+err.Error())
			s.send(conn, bw, nil, err)
			closeGracefully(conn)
			return
		}
		out, status, err := s.run(req)
		if err != nil {
			status = "error: " + err.Error()
		}
		s.logf("%s prog=%q in=%d out=%d status=%q", peer, req.Args[0], len(req.Stdin), len(out), status)
		if !s.send(conn, bw, out, err) {
			return
		}
	}
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

// closeGracefully closes after an ERR reply to a bad request. Closing a TCP
// socket with unread input makes the kernel send a reset, which can destroy
// the ERR reply before the client reads it; so half-close, then briefly
// discard whatever the client is still sending.
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

func (s *Server) logf(format string, a ...interface{}) {
	l := s.Logger
	if l == nil {
		l = log.Default()
	}
	l.Output(2, fmt.Sprintf(format, a...))
}
