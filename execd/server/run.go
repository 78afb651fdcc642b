package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"execd-builder/execd/protocol"
)

// run executes req and returns its stdout and a status for the log. A
// non-nil error means the command gave no usable result and becomes an ERR
// reply; a non-zero exit is not an error (see package protocol).
//
// The pipes are created here rather than by os/exec: with an io.Reader or
// io.Writer, exec.Cmd.Wait also waits for its copying goroutines, which
// hang for as long as any leftover grandchild keeps the pipe open, even
// after the timeout kill. Our own pipe ends get deadlines instead.
func (s *Server) run(req *protocol.Request) (out []byte, status string, err error) {
	cmd := exec.Command(req.Args[0], req.Args[1:]...)
	setProcessGroup(cmd)
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, "", err
	}
	cmd.Stdin, cmd.Stdout = inR, outW // Stderr stays nil: /dev/null
	err = cmd.Start()
	// The child holds its own copies; ours must go so EOF can be seen.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, "", fmt.Errorf("cannot start: %w", err)
	}

	timeout := s.commandTimeout()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { killProcessGroup(cmd) })
	inW.SetWriteDeadline(deadline)
	outR.SetReadDeadline(deadline)
	go func() {
		// Errors are expected and harmless: the command may exit
		// without reading all its input.
		inW.Write(req.Stdin)
		inW.Close()
	}()

	// Read one byte past the limit to detect overflow without buffering it.
	var buf bytes.Buffer
	_, copyErr := io.Copy(&buf, io.LimitReader(outR, protocol.MaxStdout+1))
	overflow := buf.Len() > protocol.MaxStdout
	if overflow || copyErr != nil {
		killProcessGroup(cmd) // nobody will read its output any more
	}
	outR.Close()
	waitErr := cmd.Wait()
	fired := !timer.Stop()
	if cmd.ProcessState != nil {
		status = cmd.ProcessState.String()
	}

	var exitErr *exec.ExitError
	switch {
	case fired || errors.Is(copyErr, os.ErrDeadlineExceeded):
		return nil, status, fmt.Errorf("timed out after %v", timeout)
	case overflow:
		return nil, status, fmt.Errorf("output exceeds %d bytes", protocol.MaxStdout)
	case copyErr != nil:
		return nil, status, fmt.Errorf("reading output: %w", copyErr)
	case waitErr != nil && !errors.As(waitErr, &exitErr):
		return nil, status, waitErr
	}
	return buf.Bytes(), status, nil
}
