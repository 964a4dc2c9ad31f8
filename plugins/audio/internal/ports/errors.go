package ports

import "errors"

var (
	// ErrInvalidRange means a port range is malformed or holds no even/odd pair.
	ErrInvalidRange = errors.New("invalid port range")
	// ErrExhausted means every pair of the range was in use.
	ErrExhausted = errors.New("no free RTP/RTCP port pair")
)

// ErrPoolClosed means a Pool was closed.
var ErrPoolClosed = errors.New("ports: pool closed")
