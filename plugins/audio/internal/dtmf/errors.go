package dtmf

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrShortPayload means a telephone-event payload has fewer than 4
	// bytes.
	ErrShortPayload = errors.New("dtmf: payload shorter than 4 bytes")
	// ErrInvalidDigit means a digit is not one of 0-9 * # A-D.
	ErrInvalidDigit = errors.New("dtmf: invalid DTMF digit")
	// ErrQueueFull means the sender already holds as many digits as its
	// queue allows (the reference's PJ_ETOOMANY).
	ErrQueueFull = errors.New("dtmf: digit queue full")
	// ErrInvalidConfig means a sender option is out of range.
	ErrInvalidConfig = errors.New("dtmf: invalid sender configuration")
)
