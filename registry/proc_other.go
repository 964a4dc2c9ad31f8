//go:build !linux

package registry

import (
	"os"
	"os/exec"
)

// setProcAttr does nothing where there is no Pdeathsig; the SDK's parent
// watch ends orphaned plugins. Plugins share the host's process group.
func setProcAttr(*exec.Cmd) {}

// killGroup kills the plugin process alone.
func killGroup(p *os.Process) error { return p.Kill() }

// awaitExit cannot wait without reaping here: the group is not killed when
// the plugin exits by itself.
func awaitExit(int) bool { return false }
