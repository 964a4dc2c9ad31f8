//go:build !linux

package vnctest

import (
	"os"
	"os/exec"
)

var terminate = os.Interrupt

func setDeathSignal(*exec.Cmd) {}
