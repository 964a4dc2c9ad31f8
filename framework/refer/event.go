package refer

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Event packages this framework subscribes to.
const (
	// EventRefer is the package of the implicit subscription a REFER
	// creates (RFC 3515 §2.4.4).
	EventRefer = "refer"
	// EventConference is the conference state package (RFC 4575 §3.1).
	EventConference = "conference"
)

// Event is the value of the Event header of a SUBSCRIBE or NOTIFY
// (RFC 6665 §8.2.1):
//
//	Event: refer;id=93809824
type Event struct {
	// Type is the event package with its templates, such as "refer" or
	// "presence.winfo".
	Type string
	// ID is the id parameter; "" when absent. For refer it is the CSeq
	// number of the REFER (RFC 3515 §2.4.6).
	ID string
	// Params are the other parameters, in order.
	Params sip.HeaderParams
}

// NewReferEvent returns "refer;id=<cseq>", the Event of the NOTIFYs that
// report on the REFER sent with that CSeq number. RFC 3515 §2.4.6 makes
// the id optional only for the first REFER of a dialog; sending it always
// is allowed.
func NewReferEvent(cseq uint32) Event {
	return Event{Type: EventRefer, ID: strconv.FormatUint(uint64(cseq), 10)}
}

// Matches reports whether e and o name the same subscription: the same
// type (compared case-insensitively) and the same id.
func (e Event) Matches(o Event) bool {
	return strings.EqualFold(e.Type, o.Type) && e.ID == o.ID
}

// String writes type[;id=...] then the other parameters.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Type)
	if e.ID != "" {
		b.WriteString(";id=")
		b.WriteString(e.ID)
	}
	writeParams(&b, e.Params)
	return b.String()
}

// Validate reports whether e is written as an Event that parses back to e.
func (e Event) Validate() error {
	back, err := ParseEvent(e.String())
	if err != nil {
		return err
	}
	if len(back.Params) == 0 && len(e.Params) == 0 {
		back.Params, e.Params = nil, nil
	}
	if !reflect.DeepEqual(back, e) {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidEvent, e.String())
	}
	return nil
}

// ParseEvent reads an Event header value: event-type, whose dot-separated
// parts are tokens, then parameters; id must be a token. Errors are
// *SyntaxError wrapping ErrInvalidEvent or ErrEmpty.
func ParseEvent(value string) (Event, error) {
	fail := func(off int, err error, detail string) (Event, error) {
		return Event{}, syntaxError("Event", value, off, err, detail)
	}
	if i := hasCtl(value); i >= 0 {
		return fail(i, ErrInvalidEvent, "control character")
	}
	lead := len(value) - len(strings.TrimLeft(value, " \t"))
	s := trimWSP(value)
	if s == "" {
		return fail(0, ErrEmpty, "")
	}
	i := 0
	for i < len(s) && isToken(s[i]) {
		i++
	}
	e := Event{Type: s[:i]}
	for _, part := range strings.Split(e.Type, ".") {
		if part == "" {
			return fail(lead, ErrInvalidEvent, "bad event type")
		}
	}
	params, off, detail := parseParams(s, i)
	if off >= 0 {
		return fail(lead+off, ErrInvalidEvent, detail)
	}
	haveID := false
	for _, kv := range params {
		if strings.EqualFold(kv.K, "id") {
			if haveID || !isTokenString(kv.V) {
				return fail(lead+i, ErrInvalidEvent, "bad or repeated id")
			}
			e.ID, haveID = kv.V, true
			continue
		}
		e.Params = append(e.Params, kv)
	}
	return e, nil
}

// SubState is the state of a subscription (RFC 6665 §8.2.3).
type SubState string

// The states of RFC 6665. A state of an extension is kept as written, in
// lower case.
const (
	SubStateActive     SubState = "active"
	SubStatePending    SubState = "pending"
	SubStateTerminated SubState = "terminated"
)

// String returns the state as written in the header.
func (s SubState) String() string { return string(s) }

// Reasons a subscription ends with (RFC 6665 §8.2.3 event-reason-value).
const (
	ReasonDeactivated = "deactivated"
	ReasonProbation   = "probation"
	ReasonRejected    = "rejected"
	ReasonTimeout     = "timeout"
	ReasonGiveUp      = "giveup"
	ReasonNoResource  = "noresource"
	ReasonInvariant   = "invariant"
)

// SubscriptionState is the value of the Subscription-State header of a
// NOTIFY (RFC 6665 §8.2.3):
//
//	Subscription-State: active;expires=90
//	Subscription-State: terminated;reason=noresource
type SubscriptionState struct {
	// State is active, pending, terminated or an extension, in lower case.
	State SubState
	// Reason is the reason parameter in lower case, "" when absent.
	Reason string
	// Expires is the expires parameter in seconds when HasExpires.
	Expires    uint32
	HasExpires bool
	// RetryAfter is the retry-after parameter in seconds when
	// HasRetryAfter.
	RetryAfter    uint32
	HasRetryAfter bool
	// Params are the other parameters, in order.
	Params sip.HeaderParams
}

// Active returns "active;expires=<expires>".
func Active(expires uint32) SubscriptionState {
	return SubscriptionState{State: SubStateActive, Expires: expires, HasExpires: true}
}

// Terminated returns "terminated;reason=<reason>", or "terminated" when
// reason is empty.
func Terminated(reason string) SubscriptionState {
	return SubscriptionState{State: SubStateTerminated, Reason: reason}
}

// String writes state[;reason=...][;expires=...][;retry-after=...] and the
// other parameters.
func (s SubscriptionState) String() string {
	var b strings.Builder
	b.WriteString(string(s.State))
	if s.Reason != "" {
		b.WriteString(";reason=")
		b.WriteString(s.Reason)
	}
	if s.HasExpires {
		b.WriteString(";expires=")
		b.WriteString(strconv.FormatUint(uint64(s.Expires), 10))
	}
	if s.HasRetryAfter {
		b.WriteString(";retry-after=")
		b.WriteString(strconv.FormatUint(uint64(s.RetryAfter), 10))
	}
	writeParams(&b, s.Params)
	return b.String()
}

// Validate reports whether s is written as a Subscription-State that parses
// back to s.
func (s SubscriptionState) Validate() error {
	back, err := ParseSubscriptionState(s.String())
	if err != nil {
		return err
	}
	if len(back.Params) == 0 && len(s.Params) == 0 {
		back.Params, s.Params = nil, nil
	}
	if !reflect.DeepEqual(back, s) {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidSubscriptionState, s.String())
	}
	return nil
}

// ParseSubscriptionState reads a Subscription-State header value: a token
// state, then parameters. reason must be a token; expires and retry-after
// are delta-seconds, and a value above 2^32-1 reads as 2^32-1 (RFC 3261
// §20.19). State and reason are lowered. Errors are *SyntaxError wrapping
// ErrInvalidSubscriptionState or ErrEmpty.
func ParseSubscriptionState(value string) (SubscriptionState, error) {
	fail := func(off int, err error, detail string) (SubscriptionState, error) {
		return SubscriptionState{}, syntaxError("Subscription-State", value, off, err, detail)
	}
	if i := hasCtl(value); i >= 0 {
		return fail(i, ErrInvalidSubscriptionState, "control character")
	}
	lead := len(value) - len(strings.TrimLeft(value, " \t"))
	s := trimWSP(value)
	if s == "" {
		return fail(0, ErrEmpty, "")
	}
	i := 0
	for i < len(s) && isToken(s[i]) {
		i++
	}
	if i == 0 {
		return fail(lead, ErrInvalidSubscriptionState, "no state")
	}
	st := SubscriptionState{State: SubState(strings.ToLower(s[:i]))}
	params, off, detail := parseParams(s, i)
	if off >= 0 {
		return fail(lead+off, ErrInvalidSubscriptionState, detail)
	}
	var haveReason bool
	for _, kv := range params {
		switch strings.ToLower(kv.K) {
		case "reason":
			if haveReason || !isTokenString(kv.V) {
				return fail(lead+i, ErrInvalidSubscriptionState, "bad or repeated reason")
			}
			st.Reason, haveReason = strings.ToLower(kv.V), true
		case "expires":
			n, ok := deltaSeconds(kv.V)
			if !ok || st.HasExpires {
				return fail(lead+i, ErrInvalidSubscriptionState, "bad or repeated expires")
			}
			st.Expires, st.HasExpires = n, true
		case "retry-after":
			n, ok := deltaSeconds(kv.V)
			if !ok || st.HasRetryAfter {
				return fail(lead+i, ErrInvalidSubscriptionState, "bad or repeated retry-after")
			}
			st.RetryAfter, st.HasRetryAfter = n, true
		default:
			st.Params = append(st.Params, kv)
		}
	}
	return st, nil
}

// deltaSeconds reads 1*DIGIT, saturating at 2^32-1.
func deltaSeconds(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		if n <= math.MaxUint32 {
			n = n*10 + uint64(s[i]-'0')
		}
	}
	return uint32(min(n, math.MaxUint32)), true
}

// writeParams writes ;name[=value] for each parameter.
func writeParams(b *strings.Builder, params sip.HeaderParams) {
	for _, kv := range params {
		b.WriteByte(';')
		b.WriteString(kv.K)
		if kv.V != "" {
			b.WriteByte('=')
			b.WriteString(kv.V)
		}
	}
}
