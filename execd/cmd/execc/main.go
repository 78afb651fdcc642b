// Command execc sends one command to an execd daemon and prints its output.
//
// Usage: execc [-version] HOST:PORT PROG [ARGS...]
//
// Standard input is sent as the command's input. The command's stdout is
// written to stdout; an ERR reply or a connection problem is reported on
// stderr with exit status 1. The remote exit status is not transmitted.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"execd-builder/execd/protocol"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

const (
	dialTimeout = 10 * time.Second
	// Must exceed the daemon's 10 s command limit plus transfer time, and
	// the time the daemon may need to kill a request that thrashes its
	// memory limit (the reply comes once every process of it is gone).
	replyTimeout = 120 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without os.Exit, so deferred closes still happen.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("execc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: execc [-version] HOST:PORT PROG [ARGS...]")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "execc", version)
		return 0
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	addr := fs.Arg(0)

	// Read one byte past the limit so oversize input fails here, clearly.
	in, err := io.ReadAll(io.LimitReader(stdin, protocol.MaxStdin+1))
	if err != nil {
		fmt.Fprintf(stderr, "execc: reading standard input: %v\n", err)
		return 1
	}
	req := &protocol.Request{Args: fs.Args()[1:], Stdin: in}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "execc: %v\n", err)
		return 1
	}

	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "execc: cannot connect to %s: %v\n", addr, err)
		return 1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(replyTimeout))
	if err := protocol.WriteRequest(conn, req); err != nil {
		fmt.Fprintf(stderr, "execc: sending request to %s: %v\n", addr, err)
		return 1
	}
	out, err := protocol.ReadReply(bufio.NewReader(conn))
	var remote *protocol.RemoteError
	if errors.As(err, &remote) {
		fmt.Fprintf(stderr, "execc: %s: %s\n", addr, remote.Msg)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "execc: reading reply from %s: %v\n", addr, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "execc: writing output: %v\n", err)
		return 1
	}
	return 0
}
