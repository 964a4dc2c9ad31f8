package application

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sipstreams/sipstreams/framework/engine"
)

// Sentinel errors of the application package.
var (
	// ErrRunning is returned by [Application.Start] when the application
	// is starting or started.
	ErrRunning = errors.New("application: already running")
	// ErrNotRunning is returned by [Application.Stop] when the application
	// is stopped, and by the calls that need a running one.
	ErrNotRunning = errors.New("application: not running")
	// ErrUnreachable matches every *[UnreachableError].
	ErrUnreachable = errors.New("application: no listening socket reaches the route")
	// ErrCallPlaced is returned by [Call.AddStream] and [Call.Connect]
	// once the call was connected or closed.
	ErrCallPlaced = errors.New("application: the call was placed or closed already")
)

// UnreachableError means no listening socket of the engine can send to
// the first route of a call (a route over TCP with only UDP listeners, an
// IPv6 address with only IPv4 ones).
type UnreachableError struct {
	Route engine.Route
	Addrs []engine.Addr
}

func (e *UnreachableError) Error() string {
	addrs := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		addrs[i] = a.String()
	}
	return fmt.Sprintf("application: cannot reach %s from %s", e.Route, strings.Join(addrs, " "))
}

// Unwrap returns [ErrUnreachable].
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// StreamError is a stream of Type that could not be created; Err is the
// registry's or the plugin's error (sdk.ErrUnknownStream for a type no
// plugin serves, sdk.ErrInvalidArgument for bad parameters, …).
type StreamError struct {
	Type string
	Err  error
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("cannot create a %s stream: %v", e.Type, e.Err)
}

// Unwrap returns Err.
func (e *StreamError) Unwrap() error { return e.Err }
