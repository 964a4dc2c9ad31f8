package sdes

import (
	"errors"
	"fmt"
)

var (
	// ErrSyntax means an a=crypto attribute is malformed.
	ErrSyntax = errors.New("malformed crypto attribute")
	// ErrUnsupportedSuite means the crypto suite is not one this package handles.
	ErrUnsupportedSuite = errors.New("unsupported crypto suite")
	// ErrKeyLength means the inline key has the wrong length for its suite.
	ErrKeyLength = errors.New("wrong SRTP key length")
	// ErrNoCommonSuite means none of the offered crypto lines is acceptable.
	ErrNoCommonSuite = errors.New("no supported crypto suite offered")
)

// ParseError describes why an a=crypto attribute could not be parsed. It
// unwraps to ErrSyntax, ErrUnsupportedSuite or ErrKeyLength.
type ParseError struct {
	Input  string
	Reason string
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("sdes: %v: %s in %q", e.Err, e.Reason, e.Input)
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }
