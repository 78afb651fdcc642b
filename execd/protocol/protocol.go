// Package protocol defines the execd wire format. The daemon, the client and
// the tests all use it, so the format is written down in exactly one place.
//
// Every line ends with a single "\n" ("\r" is not stripped). One connection
// carries any number of request/reply pairs, strictly in turn.
//
// Request (client to server):
//
//	PROGRAM\n      first argument: the program (a path, or a name looked up in the daemon's PATH)
//	ARG\n          zero or more further arguments, one per line
//	\n             an empty line ends the argument list
//	COUNT\n        decimal byte count of standard input (ASCII digits only)
//	<COUNT bytes>  standard input, raw
//
// Because arguments are lines, an argument can be neither empty nor contain
// "\n"; WriteRequest rejects such requests rather than sending something the
// server would read differently.
//
// Reply (server to client), exactly one per request:
//
//	N\n<N bytes>   success: N is the decimal length of the command's stdout
//	ERR message\n  failure: one line, no payload
//
// A command that starts but exits non-zero (or is killed by a signal of its
// own) still gets a success reply with whatever it wrote to stdout: the exit
// status is only logged by the daemon. This keeps the reply format to two
// cases; callers that need the status can wrap the command, e.g.
// "/bin/sh -c 'cmd; echo $?'". ERR is used when the command produced no
// usable result: it could not be started, it exceeded the time limit, or its
// output exceeded MaxStdout. Its stderr is discarded.
//
// After an ERR reply to a malformed or oversized request the server closes
// the connection, because it can no longer tell where the next request
// starts. After an ERR reply about running the command the connection stays
// usable.
package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits, enforced on both sides so a well-behaved client fails locally with
// a clear message instead of being cut off by the server.
const (
	MaxArgs   = 64      // arguments per request, program included
	MaxLine   = 4096    // bytes per line, excluding the "\n"
	MaxStdin  = 1 << 20 // bytes of standard input per request
	MaxStdout = 1 << 20 // bytes of standard output per reply
)

// ErrMalformed is wrapped by every error caused by bytes that violate the
// protocol, as opposed to I/O errors from the connection itself.
var ErrMalformed = errors.New("protocol error")

// RemoteError is an ERR reply from the server.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

// Request is one command to run.
type Request struct {
	Args  []string // Args[0] is the program
	Stdin []byte
}

func malformed(format string, a ...interface{}) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// Validate reports whether r can be encoded and would be accepted by a server.
func (r *Request) Validate() error {
	if len(r.Args) == 0 {
		return malformed("no program given")
	}
	if len(r.Args) > MaxArgs {
		return malformed("%d arguments, limit is %d", len(r.Args), MaxArgs)
	}
	for i, a := range r.Args {
		switch {
		case a == "":
			return malformed("argument %d is empty, which the protocol cannot carry", i)
		case strings.Contains(a, "\n"):
			return malformed("argument %d contains a newline, which the protocol cannot carry", i)
		case len(a) > MaxLine:
			return malformed("argument %d is %d bytes, limit is %d", i, len(a), MaxLine)
		}
	}
	if len(r.Stdin) > MaxStdin {
		return malformed("stdin is %d bytes, limit is %d", len(r.Stdin), MaxStdin)
	}
	return nil
}

// WriteRequest validates and encodes r.
func WriteRequest(w io.Writer, r *Request) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var head bytes.Buffer
	for _, a := range r.Args {
		head.WriteString(a + "\n")
	}
	fmt.Fprintf(&head, "\n%d\n", len(r.Stdin))
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(r.Stdin)
	return err
}

// ReadRequest decodes one request. It returns io.EOF, unwrapped, only when
// the stream ends cleanly before the first byte of a request, so a server can
// tell "client is done" from "client hung up mid-request".
func ReadRequest(r *bufio.Reader) (*Request, error) {
	req := &Request{}
	for {
		line, err := readLine(r)
		if err == io.EOF && len(req.Args) == 0 {
			return nil, io.EOF
		}
		if err != nil {
			return nil, truncated(err, "arguments")
		}
		if line == "" {
			break
		}
		if len(req.Args) == MaxArgs {
			return nil, malformed("more than %d arguments", MaxArgs)
		}
		req.Args = append(req.Args, line)
	}
	if len(req.Args) == 0 {
		return nil, malformed("no program given")
	}
	n, err := readCount(r, MaxStdin, "stdin")
	if err != nil {
		return nil, err
	}
	// n is bounded by MaxStdin, so this allocation cannot be abused.
	req.Stdin = make([]byte, n)
	if _, err := io.ReadFull(r, req.Stdin); err != nil {
		return nil, truncated(err, "stdin")
	}
	return req, nil
}

// WriteReply encodes a success reply.
func WriteReply(w io.Writer, stdout []byte) error {
	if len(stdout) > MaxStdout {
		return fmt.Errorf("reply is %d bytes, limit is %d", len(stdout), MaxStdout)
	}
	if _, err := fmt.Fprintf(w, "%d\n", len(stdout)); err != nil {
		return err
	}
	_, err := w.Write(stdout)
	return err
}

// WriteError encodes an ERR reply. The message is flattened to one line and
// cut to MaxLine so it always fits the framing.
func WriteError(w io.Writer, msg string) error {
	msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	if msg == "" {
		msg = "error"
	}
	line := "ERR " + msg
	if len(line) > MaxLine {
		line = line[:MaxLine]
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

// ReadReply decodes one reply: the command's stdout, or a *RemoteError.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	line, err := readLine(r)
	if err == io.EOF {
		return nil, truncated(err, "reply")
	}
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(line, "ERR") {
		return nil, &RemoteError{Msg: strings.TrimPrefix(line[3:], " ")}
	}
	n, err := parseCount(line, MaxStdout, "stdout")
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, truncated(err, "stdout")
	}
	return out, nil
}

// readLine returns one line without its "\n". It refuses lines longer than
// MaxLine without buffering them, so a peer cannot make us hold a huge line.
// A clean EOF before any byte is io.EOF; EOF inside a line is malformed.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		limit := MaxLine
		if err == nil {
			limit++ // the "\n" is not part of the line
		}
		if len(line) > limit {
			return "", malformed("line longer than %d bytes", MaxLine)
		}
		switch {
		case err == nil:
			return string(line[:len(line)-1]), nil
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0:
			return "", io.EOF
		default:
			return "", truncated(err, "line")
		}
	}
}

func readCount(r *bufio.Reader, max int, what string) (int, error) {
	line, err := readLine(r)
	if err != nil {
		return 0, truncated(err, what+" count")
	}
	return parseCount(line, max, what)
}

// parseCount accepts only ASCII digits: no sign, spaces or other bases, so
// every implementation of the protocol agrees on what a count means.
func parseCount(s string, max int, what string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, malformed("%s count %q is not a decimal number", what, s)
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n > uint64(max) {
		return 0, malformed("%s count %s exceeds limit %d", what, s, max)
	}
	return int(n), nil
}

// truncated turns an end of stream in the middle of a message into a
// protocol error; other errors (timeouts, resets) pass through unchanged.
func truncated(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return malformed("connection closed inside %s", what)
	}
	return err
}
