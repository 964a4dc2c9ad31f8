package iscomposing

import "errors"

// Sentinel errors of Parse. Every one wraps ErrMalformed, so a caller can
// answer any bad document the same way (the reference replies 400).
var (
	// ErrMalformed is wrapped by every error of Parse.
	ErrMalformed = errors.New("malformed is-composing document")
	// ErrBadXML means the body is not well-formed XML.
	ErrBadXML = wrap("not well-formed XML")
	// ErrWrongRoot means the root element is not isComposing in the
	// urn:ietf:params:xml:ns:im-iscomposing namespace.
	ErrWrongRoot = wrap("root element is not isComposing in the im-iscomposing namespace")
	// ErrInvalidState means state is missing or neither "active" nor "idle".
	ErrInvalidState = wrap("invalid state")
	// ErrInvalidRefresh means refresh is not a positive integer.
	ErrInvalidRefresh = wrap("invalid refresh")
	// ErrInvalidLastActive means lastactive is not an RFC 3339 date-time.
	ErrInvalidLastActive = wrap("invalid lastactive")
)

// kindError is a specific sentinel that also matches ErrMalformed.
type kindError struct{ msg string }

func wrap(msg string) error { return &kindError{msg} }

func (e *kindError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrMalformed) true for every specific sentinel.
func (e *kindError) Unwrap() error { return ErrMalformed }
