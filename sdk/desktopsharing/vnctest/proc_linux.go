package vnctest

import (
	"os/exec"
	"syscall"
)

var terminate = syscall.SIGTERM

// setDeathSignal kills the child when the test process dies.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
