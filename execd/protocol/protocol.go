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
// A success reply means the command ran and exited with status 0. Every
// other ending is an ERR reply whose one line says why, and the command's
// stdout is dropped: it exited non-zero ("exit status 3: <its last stderr
// line>"), a signal or a limit killed it ("killed by signal SIGSEGV", "time
// limit: killed after 10s"), it could not start, its output exceeded
// MaxStdout, or the daemon refused the request ("busy: ..."). Upstream execd
// closed the connection without a reply in all those cases, and upstream execc
// took that for success with empty output; an ERR line makes both our execc
// and upstream's exit non-zero (upstream's fails to parse it as a count), so
// the format stays compatible in both directions.
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
	MaxArgs     = 64       // arguments per request, program included
	MaxLine     = 4096     // bytes per line, excluding the "\n"
	MaxArgBytes = 16 << 10 // bytes of all argument lines together: a header's memory is bounded
	MaxStdin    = 1 << 20  // bytes of standard input per request
	MaxStdout   = 1 << 20  // bytes of standard output per reply
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

// Header is a request without its standard input: what a server needs to
// decide whether to run it before reading StdinLen more bytes.
type Header struct {
	Args     []string
	StdinLen int
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
	total := 0
	for i, a := range r.Args {
		total += len(a)
		switch {
		case a == "":
			return malformed("argument %d is empty, which the protocol cannot carry", i)
		case strings.Contains(a, "\n"):
			return malformed("argument %d contains a newline, which the protocol cannot carry", i)
		case len(a) > MaxLine:
			return malformed("argument %d is %d bytes, limit is %d", i, len(a), MaxLine)
		}
	}
	if total > MaxArgBytes {
		return malformed("arguments are %d bytes together, limit is %d", total, MaxArgBytes)
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
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	// StdinLen is bounded by MaxStdin, so this allocation cannot be abused.
	req := &Request{Args: h.Args, Stdin: make([]byte, h.StdinLen)}
	if _, err := io.ReadFull(r, req.Stdin); err != nil {
		return nil, truncated(err, "stdin")
	}
	return req, nil
}

// ReadHeader decodes a request up to its standard input, which is left
// unread in r. io.EOF is returned as by ReadRequest.
func ReadHeader(r *bufio.Reader) (*Header, error) {
	h := &Header{}
	total := 0
	for {
		line, err := readLine(r)
		if err == io.EOF && len(h.Args) == 0 {
			return nil, io.EOF
		}
		if err != nil {
			return nil, truncated(err, "arguments")
		}
		if line == "" {
			break
		}
		if len(h.Args) == MaxArgs {
			return nil, malformed("more than %d arguments", MaxArgs)
		}
		if total += len(line); total > MaxArgBytes {
			return nil, malformed("arguments longer than %d bytes together", MaxArgBytes)
		}
		h.Args = append(h.Args, line)
	}
	if len(h.Args) == 0 {
		return nil, malformed("no program given")
	}
	n, err := readCount(r, MaxStdin, "stdin")
	if err != nil {
		return nil, err
	}
	h.StdinLen = n
	return h, nil
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
