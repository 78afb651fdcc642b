//go:build unix

package server

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the command in its own process group so that the
// timeout kill also reaches any children it started (e.g. via sh -c).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
