package msrp

import (
	"fmt"
	"strings"
)

// Setup is an SDP a=setup value (RFC 4145), which decides which side of an
// MSRP session opens the connection (RFC 6135).
type Setup int

// Setup values.
const (
	SetupActive Setup = iota
	SetupPassive
	SetupActpass
)

// String returns the a=setup value.
func (s Setup) String() string {
	switch s {
	case SetupActive:
		return "active"
	case SetupPassive:
		return "passive"
	case SetupActpass:
		return "actpass"
	}
	return fmt.Sprintf("Setup(%d)", int(s))
}

// ParseSetup parses an a=setup value. An absent attribute ("") means
// active in an offer and passive in an answer (RFC 4145 §4).
func ParseSetup(s string, inOffer bool) (Setup, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		if inOffer {
			return SetupActive, nil
		}
		return SetupPassive, nil
	case "active":
		return SetupActive, nil
	case "passive":
		return SetupPassive, nil
	case "actpass":
		return SetupActpass, nil
	}
	return 0, fmt.Errorf("%w: a=setup %q", ErrInvalidArgument, s)
}

// AnswerSetup returns the answerer's a=setup for an offer: active when the
// offer is actpass or passive (the answerer connects, as RFC 6135 asks),
// passive when the offer is active.
//
// The reference SDK intends the same, but under Python 3 it compares the
// remote role as bytes with a str, so its answerer never goes active; this
// function implements the intended table.
func AnswerSetup(offer Setup) Setup {
	if offer == SetupActive {
		return SetupPassive
	}
	return SetupActive
}

// OffererConnects reports whether the offerer opens the connection, given
// the setup it offered and the one it got in the answer. Inconsistent
// pairs (both active, both passive, actpass in an answer) are errors.
func OffererConnects(offer, answer Setup) (bool, error) {
	switch {
	case answer == SetupActpass:
	case offer == SetupActive && answer == SetupPassive:
		return true, nil
	case offer == SetupPassive && answer == SetupActive:
		return false, nil
	case offer == SetupActpass:
		return answer == SetupPassive, nil
	}
	return false, fmt.Errorf("%w: a=setup offer %v with answer %v", ErrInvalidArgument, offer, answer)
}
