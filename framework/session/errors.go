package session

import (
	"errors"
	"fmt"
)

// Sentinel errors of the session layer.
var (
	// ErrIllegalState is returned by a call made in a state that does not
	// allow it (the reference's IllegalStateError).
	ErrIllegalState = errors.New("session: illegal state")
	// ErrSDPNegotiation means an offer and its answer do not fit together.
	ErrSDPNegotiation = errors.New("session: SDP negotiation failed")
	// ErrNoStreams means a session would carry no stream.
	ErrNoStreams = errors.New("session: no streams")
)

// IllegalStateError says which call was refused in which state.
type IllegalStateError struct {
	Call  string
	State State
}

func (e *IllegalStateError) Error() string {
	return fmt.Sprintf("session: %s is not allowed in state %s", e.Call, e.State)
}

// Unwrap returns ErrIllegalState.
func (e *IllegalStateError) Unwrap() error { return ErrIllegalState }
