package registry

import (
	"errors"
	"fmt"
)

// Sentinel errors of the registry.
var (
	// ErrClosed is returned by calls on a closed registry.
	ErrClosed = errors.New("registry: closed")
	// ErrNoPlugin means no loaded plugin serves the requested stream type or plugin name.
	ErrNoPlugin = errors.New("registry: no such plugin")
	// ErrRefused means a plugin binary was found but not loaded; the
	// PluginError says why.
	ErrRefused = errors.New("registry: plugin refused")
	// ErrChecksum means a pinned plugin binary's SHA-256 differs (or its
	// lock entry cannot pin it).
	ErrChecksum = errors.New("registry: plugin checksum mismatch")
	// ErrUnlisted means a lock file is in force and does not list the
	// plugin binary (or codec module).
	ErrUnlisted = errors.New("registry: plugin not in the lock file")
	// ErrMissing means a lock file lists a file the plugin directory does
	// not hold (VerifyLock).
	ErrMissing = errors.New("registry: locked file missing")
	// ErrWritable means the plugin directory or binary is writable by
	// users other than its owner, and WithAllowWritable is off.
	ErrWritable = errors.New("registry: plugin writable by other users")
)

// PluginError says why a plugin binary was refused or failed.
type PluginError struct {
	Path   string
	Reason string
	Err    error
}

func (e *PluginError) Error() string {
	return fmt.Sprintf("plugin %s: %s", e.Path, e.Reason)
}

// Unwrap returns the underlying error (ErrRefused, ErrChecksum, an sdk
// sentinel, …).
func (e *PluginError) Unwrap() error { return e.Err }
