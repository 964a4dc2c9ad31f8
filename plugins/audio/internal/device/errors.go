package device

import (
	"errors"
	"fmt"
)

var (
	// ErrDeviceNotFound means no device has the requested name or ID.
	ErrDeviceNotFound = errors.New("device: not found")
	// ErrUnsupported means a backend cannot open the requested kind of
	// stream (for example capture without playback).
	ErrUnsupported = errors.New("device: unsupported configuration")
	// ErrClosed means the Driver was used after Close.
	ErrClosed = errors.New("device: driver closed")
)

// OpenError reports a device that could not be opened; the Driver fell back
// to the Null clock.
type OpenError struct {
	Config Config
	Err    error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("device: cannot open input %q output %q at %d Hz (using the null device): %v",
		e.Config.Input, e.Config.Output, e.Config.SampleRate, e.Err)
}

// Unwrap returns the backend's error.
func (e *OpenError) Unwrap() error { return e.Err }
