//go:build !linux

package registry

import "os/exec"

// setProcAttr does nothing where there is no Pdeathsig; the SDK's parent
// watch ends orphaned plugins.
func setProcAttr(*exec.Cmd) {}
