package refer

import (
	"errors"
	"fmt"
)

// Sentinel errors of the parsers. Every one wraps ErrMalformed, so a caller
// can answer any bad value the same way (a 400 to a REFER, a 481 to an
// INVITE with Replaces), and tell the cases apart with errors.Is.
var (
	// ErrMalformed is wrapped by every parse error of this package.
	ErrMalformed = errors.New("refer: malformed value")
	// ErrEmpty means the header value or body is empty.
	ErrEmpty = wrap("empty value")
	// ErrInvalidAddress means the value is neither a name-addr nor an
	// addr-spec (RFC 3261 §20.10, §25.1): a bad display name, a missing
	// ">", text after the URI that is no parameter.
	ErrInvalidAddress = wrap("invalid name-addr or addr-spec")
	// ErrInvalidURI means the URI does not follow RFC 3261 §19.1.1 (SIP and
	// SIPS) or is no absoluteURI (other schemes), including bad escapes.
	ErrInvalidURI = wrap("invalid URI")
	// ErrInvalidParam means a header parameter is not token [= value].
	ErrInvalidParam = wrap("invalid header parameter")
	// ErrInvalidReplaces means a Replaces value (RFC 3891 §6.1), alone or
	// inside a Refer-To URI, lacks the call-id, the to-tag or the from-tag,
	// or has a bad character.
	ErrInvalidReplaces = wrap("invalid Replaces")
	// ErrInvalidSipfrag means a message/sipfrag body does not start with a
	// SIP status line (RFC 3420, RFC 3515 §2.4.5) or has a bad header line.
	ErrInvalidSipfrag = wrap("invalid sipfrag")
	// ErrInvalidEvent means an Event header value is not event-type
	// *(;param) (RFC 6665 §8.2.1).
	ErrInvalidEvent = wrap("invalid Event")
	// ErrInvalidSubscriptionState means a Subscription-State value is not
	// substate-value *(;param), or its expires or retry-after is no number
	// (RFC 6665 §8.2.3).
	ErrInvalidSubscriptionState = wrap("invalid Subscription-State")
)

// kindError is a specific sentinel that also matches ErrMalformed.
type kindError struct{ msg string }

func wrap(msg string) error { return &kindError{msg} }

func (e *kindError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrMalformed) true for every specific sentinel.
func (e *kindError) Unwrap() error { return ErrMalformed }

// SyntaxError says where a value failed to parse. Err is one of the
// sentinels above; errors.Is sees through it.
type SyntaxError struct {
	// What names the header or body being parsed ("Refer-To", "sipfrag").
	What string
	// Value is the input, cut to 80 bytes.
	Value string
	// Offset is the byte offset in Value where parsing stopped.
	Offset int
	// Err is the sentinel that says what was wrong.
	Err error
	// Detail says more, or is empty.
	Detail string
}

func (e *SyntaxError) Error() string {
	msg := fmt.Sprintf("refer: %s: %v at offset %d", e.What, e.Err, e.Offset)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg + fmt.Sprintf(" in %q", e.Value)
}

// Unwrap returns the sentinel.
func (e *SyntaxError) Unwrap() error { return e.Err }

func syntaxError(what, value string, offset int, err error, detail string) *SyntaxError {
	if len(value) > 80 {
		value = value[:80]
	}
	return &SyntaxError{What: what, Value: value, Offset: offset, Err: err, Detail: detail}
}
