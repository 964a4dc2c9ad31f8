package conference

import (
	"errors"
	"fmt"
)

// Sentinel errors of Parse. Every one wraps ErrMalformed, so a caller can
// answer any bad document the same way.
var (
	// ErrMalformed is wrapped by every error of Parse that is about the
	// document's content (not its size).
	ErrMalformed = errors.New("conference: malformed conference-info document")
	// ErrBadXML means the body is not well-formed XML (an undefined entity
	// such as those of a "billion laughs" document included).
	ErrBadXML = wrap("not well-formed XML")
	// ErrWrongRoot means the root element is not conference-info in the
	// urn:ietf:params:xml:ns:conference-info namespace.
	ErrWrongRoot = wrap("root element is not conference-info in the conference-info namespace")
	// ErrMissing means a required attribute or element is missing: the
	// entity of conference-info, the id of media, the label of an
	// available-media entry, the uri of a URI entry.
	ErrMissing = wrap("required attribute or element missing")
	// ErrInvalidState means a state attribute is none of full, partial and
	// deleted.
	ErrInvalidState = wrap("invalid state attribute")
	// ErrInvalidValue means a number, boolean or date-time does not parse,
	// or a version is no unsigned 32-bit integer.
	ErrInvalidValue = wrap("invalid value")
)

// Sentinel errors of the limits, in Parse and in Tracker.Apply. Every one
// wraps ErrLimit; the error itself is a *LimitError.
var (
	// ErrLimit is wrapped by every limit error.
	ErrLimit = errors.New("conference: limit exceeded")
	// ErrTooLarge means the body is larger than Limits.MaxSize.
	ErrTooLarge = limit("document too large")
	// ErrTooManyUsers means more user elements than Limits.MaxUsers.
	ErrTooManyUsers = limit("too many users")
	// ErrTooManyEndpoints means more endpoint elements than
	// Limits.MaxEndpoints.
	ErrTooManyEndpoints = limit("too many endpoints")
	// ErrTooManyMedia means more media elements than Limits.MaxMedia.
	ErrTooManyMedia = limit("too many media")
)

// Errors of Tracker.Apply; the state is unchanged after each.
var (
	// ErrOutdated means the document's version is not newer than the
	// state's (RFC 4575 §4.6): the caller drops the notification.
	ErrOutdated = errors.New("conference: outdated version")
	// ErrVersionGap means a partial document does not follow the state
	// (its version skips one or more, or there is no full state yet): the
	// caller refreshes the subscription to get a full document.
	ErrVersionGap = errors.New("conference: version gap, resubscribe for full state")
	// ErrEntityMismatch means a partial or deleted document is about
	// another conference than the state.
	ErrEntityMismatch = errors.New("conference: document for another conference")
)

// kindError is a specific sentinel that also matches its parent.
type kindError struct {
	msg    string
	parent error
}

func wrap(msg string) error  { return &kindError{msg, ErrMalformed} }
func limit(msg string) error { return &kindError{msg, ErrLimit} }

func (e *kindError) Error() string { return e.msg }

// Unwrap returns ErrMalformed or ErrLimit.
func (e *kindError) Unwrap() error { return e.parent }

// LimitError says which limit a document or state went over.
type LimitError struct {
	// Err is ErrTooLarge, ErrTooManyUsers, ErrTooManyEndpoints or
	// ErrTooManyMedia.
	Err error
	// Limit is the limit; Got is what was found, or Limit+1 when the count
	// stopped there.
	Limit, Got int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("conference: %v (limit %d, got %d)", e.Err, e.Limit, e.Got)
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }

// VersionError says how a document's version relates to the state's.
type VersionError struct {
	// Err is ErrOutdated or ErrVersionGap.
	Err error
	// Have is the state's version (0 with HaveNone when there is none);
	// Got the document's.
	Have, Got uint32
	HaveNone  bool
}

func (e *VersionError) Error() string {
	if e.HaveNone {
		return fmt.Sprintf("%v (no full state yet, got version %d)", e.Err, e.Got)
	}
	return fmt.Sprintf("%v (have version %d, got %d)", e.Err, e.Have, e.Got)
}

// Unwrap returns the sentinel.
func (e *VersionError) Unwrap() error { return e.Err }
