package application

import "errors"

// Sentinel errors of the application package.
var (
	// ErrRunning is returned by [Application.Start] when the application
	// is starting or started.
	ErrRunning = errors.New("application: already running")
	// ErrNotRunning is returned by [Application.Stop] when the application
	// is stopped.
	ErrNotRunning = errors.New("application: not running")
)
