package icetransport

import (
	"errors"
	"fmt"
)

var (
	// ErrSyntax means an ICE SDP attribute is malformed.
	ErrSyntax = errors.New("malformed ICE attribute")
	// ErrNoCredentials means the remote ice-ufrag or ice-pwd is missing.
	ErrNoCredentials = errors.New("missing ICE credentials")
	// ErrNoCandidates means the remote offered no usable candidate for a component.
	ErrNoCandidates = errors.New("no remote ICE candidates")
	// ErrClosed means the transport has been closed.
	ErrClosed = errors.New("ICE transport closed")
)

// ParseError describes a malformed ICE attribute and unwraps to ErrSyntax.
type ParseError struct {
	Input  string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("icetransport: %v: %s in %q", ErrSyntax, e.Reason, e.Input)
}

// Unwrap returns ErrSyntax.
func (e *ParseError) Unwrap() error { return ErrSyntax }
