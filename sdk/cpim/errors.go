package cpim

import (
	"errors"
	"fmt"
)

// Sentinel errors of Parse and ParseAddress. Every error Parse returns wraps
// ErrMalformed and one of the more specific sentinels.
var (
	// ErrMalformed is wrapped by every parse error of this package.
	ErrMalformed = errors.New("malformed CPIM message")
	// ErrNoContent means the header block is not followed by a blank line and
	// an encapsulated MIME object (RFC 3862 §2).
	ErrNoContent = errors.New("no blank line before the encapsulated content")
	// ErrHeaderSyntax means a line is not `Name: value`, a header name has
	// characters a token may not have, or a continuation line comes first.
	ErrHeaderSyntax = errors.New("bad header syntax")
	// ErrInvalidAddress means a From, To or cc value is not `[name] <uri>`.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrInvalidNamespace means an NS value is not `[prefix] <uri>`.
	ErrInvalidNamespace = errors.New("invalid namespace declaration")
	// ErrInvalidDateTime means a DateTime value is not an RFC 3339 date-time.
	ErrInvalidDateTime = errors.New("invalid date-time")
	// ErrDuplicateHeader means a header that may appear once (From, DateTime)
	// appears again.
	ErrDuplicateHeader = errors.New("duplicate header")
)

// HeaderError is a parse error tied to one header line of a payload.
type HeaderError struct {
	// Line is the 1-based line number within the payload.
	Line int
	// Name is the header name as written, or "" when the line has none.
	Name string
	// Err is one of the sentinels, possibly wrapping a cause.
	Err error
}

// Error describes the line and what is wrong with it.
func (e *HeaderError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("cpim: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("cpim: line %d (%s): %v", e.Line, e.Name, e.Err)
}

// Unwrap returns the specific sentinel and ErrMalformed, so errors.Is works
// with either.
func (e *HeaderError) Unwrap() []error { return []error{e.Err, ErrMalformed} }
