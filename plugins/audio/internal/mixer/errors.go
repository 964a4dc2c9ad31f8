package mixer

import "errors"

var (
	// ErrUnknownPort means the port has not been added to the Mixer.
	ErrUnknownPort = errors.New("mixer: unknown port")
	// ErrDuplicatePort means the port (or one with the same name) is already in the Mixer.
	ErrDuplicatePort = errors.New("mixer: port already added")
	// ErrNotSource means a connection starts at a port that produces no audio.
	ErrNotSource = errors.New("mixer: port is not a source")
	// ErrNotSink means a connection ends at a port that consumes no audio,
	// or a port is neither a Source nor a Sink.
	ErrNotSink = errors.New("mixer: port is not a sink")
	// ErrSelfConnection means a port was connected to itself.
	ErrSelfConnection = errors.New("mixer: port connected to itself")
	// ErrNotConnected means Disconnect found no such connection.
	ErrNotConnected = errors.New("mixer: ports not connected")
	// ErrDevicePort means an operation the device port does not allow,
	// such as removing it.
	ErrDevicePort = errors.New("mixer: not allowed on the device port")
	// ErrClosed means the Mixer or port was used after Close.
	ErrClosed = errors.New("mixer: closed")
)
