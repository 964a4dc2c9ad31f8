package rtpsession

import "errors"

var (
	// ErrInvalidConfig means a Config is incomplete or inconsistent.
	ErrInvalidConfig = errors.New("invalid RTP session config")
	// ErrClosed means the session has been closed.
	ErrClosed = errors.New("RTP session closed")
	// ErrNotStarted means Start has not been called.
	ErrNotStarted = errors.New("RTP session not started")
	// ErrNoRemote means there is no remote address to send to.
	ErrNoRemote = errors.New("no remote RTP address")
)
