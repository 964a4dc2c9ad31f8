package msrp

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers test with errors.Is.
var (
	// ErrInvalidURI means a string is not a valid MSRP URI.
	ErrInvalidURI = errors.New("msrp: invalid URI")
	// ErrMalformed means bytes read from the network are not valid MSRP.
	ErrMalformed = errors.New("msrp: malformed message")
	// ErrTooLarge means a header block or a body exceeds a configured limit.
	ErrTooLarge = errors.New("msrp: message too large")
	// ErrClosed means the connection or session has been closed.
	ErrClosed = errors.New("msrp: closed")
	// ErrTimeout means no transaction response arrived in time; the
	// Result carries the locally generated 408.
	ErrTimeout = errors.New("msrp: transaction timed out")
	// ErrNoSuchSession means a request named a session that is not bound
	// on this connection (status 481).
	ErrNoSuchSession = errors.New("msrp: no such session")
	// ErrBindFailed means the binding empty SEND was not answered with 200.
	ErrBindFailed = errors.New("msrp: session binding failed")
	// ErrInvalidArgument means a caller passed an unusable value.
	ErrInvalidArgument = errors.New("msrp: invalid argument")
	// ErrCancelled is the Result error of a message stopped by
	// Delivery.Cancel.
	ErrCancelled = errors.New("msrp: message cancelled")
	// ErrRelayAuth means a relay refused the AUTH request (RFC 4976).
	ErrRelayAuth = errors.New("msrp: relay authentication failed")
)

// ParseError reports why bytes read from the network could not be parsed.
// It wraps ErrMalformed or ErrTooLarge.
type ParseError struct {
	Reason string // human-readable cause, e.g. "invalid start line"
	Line   string // the offending line, truncated, when there is one
	Err    error  // ErrMalformed or ErrTooLarge

	// TransactionID and Method are set when the start line was valid, so a
	// receiver can answer the request (400 or 413) and the Reader can skip
	// to the end-line.
	TransactionID string
	Method        string
}

// Error describes the parse failure.
func (e *ParseError) Error() string {
	if e.Line != "" {
		return fmt.Sprintf("%v: %s: %q", e.Err, e.Reason, e.Line)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Reason)
}

// Unwrap returns ErrMalformed or ErrTooLarge.
func (e *ParseError) Unwrap() error { return e.Err }

// StatusError is a failed transaction or a failure REPORT: a non-2xx MSRP
// status. errors.Is(err, ErrTimeout) holds for a local 408 timeout and
// errors.Is(err, ErrNoSuchSession) for 481.
type StatusError struct {
	Code    int
	Comment string
}

// Error gives the status code and comment.
func (e *StatusError) Error() string {
	if e.Comment == "" {
		return fmt.Sprintf("msrp: status %d", e.Code)
	}
	return fmt.Sprintf("msrp: status %d %s", e.Code, e.Comment)
}

// Is maps well-known status codes onto the package sentinels.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrTimeout:
		return e.Code == StatusRequestTimeout
	case ErrNoSuchSession:
		return e.Code == StatusNoSuchSession
	}
	return false
}

func uriError(s, reason string) error {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidURI, s, reason)
}

func parseErr(err error, reason, line string) *ParseError {
	if len(line) > 80 {
		line = line[:80] + "..."
	}
	return &ParseError{Reason: reason, Line: line, Err: err}
}

// BindError is a session binding that the peer answered with a failure
// status: 481 when it knows no such session (RFC 4975 §5.4), or the local
// 408 when it did not answer in time. It wraps ErrBindFailed and the
// *StatusError, so errors.Is(err, ErrNoSuchSession) holds for a 481.
type BindError struct {
	Addr    string // the peer's address
	Code    int
	Comment string
}

// Error says who refused the binding, and with which status.
func (e *BindError) Error() string {
	if e.Code == StatusRequestTimeout {
		return fmt.Sprintf("msrp: session binding to %s got no answer: %d %s", e.Addr, e.Code, e.Comment)
	}
	return fmt.Sprintf("msrp: %s refused the session binding: %d %s", e.Addr, e.Code, e.Comment)
}

// Unwrap returns ErrBindFailed and the status as a *StatusError.
func (e *BindError) Unwrap() []error {
	return []error{ErrBindFailed, &StatusError{Code: e.Code, Comment: e.Comment}}
}

// TransportError wraps an I/O error of the underlying connection.
type TransportError struct {
	Err error
}

// Error describes the I/O failure.
func (e *TransportError) Error() string { return "msrp: transport: " + e.Err.Error() }

// Unwrap returns the I/O error.
func (e *TransportError) Unwrap() error { return e.Err }
