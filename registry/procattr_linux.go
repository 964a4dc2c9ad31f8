package registry

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the plugin when the launcher thread (and
// so the host) dies.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
