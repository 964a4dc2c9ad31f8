package refer

import (
	"fmt"
	"strings"
)

// Replaces names a dialog to be replaced (RFC 3891): the value of the
// Replaces header of an INVITE, or of the Replaces URI header inside a
// Refer-To for an attended transfer.
//
//	Replaces: 98732@sip.example.com;to-tag=r33th4x0r;from-tag=ff87ff;early-only
//
// The tags are seen from the side that receives the INVITE: ToTag is its
// local tag, FromTag the tag of its peer (RFC 3891 §3).
type Replaces struct {
	// CallID is the Call-ID of the dialog, compared byte for byte.
	CallID string
	// ToTag is the local tag of the dialog at the recipient.
	ToTag string
	// FromTag is the remote tag of the dialog at the recipient; "0" is a
	// wildcard in Matches.
	FromTag string
	// EarlyOnly asks the recipient to replace only an early dialog
	// (RFC 3891 §3: a confirmed one answers 486).
	EarlyOnly bool
}

// ReplacesFor returns the Replaces value that names one of our dialogs to
// its other end: the transferor of an attended transfer builds it from its
// dialog with the transfer target (callID, localTag, remoteTag) and the
// target matches it against its own dialog, where the tags are swapped. So
// ToTag is remoteTag and FromTag is localTag.
func ReplacesFor(callID, localTag, remoteTag string) Replaces {
	return Replaces{CallID: callID, ToTag: remoteTag, FromTag: localTag}
}

// Matches reports whether r names the dialog (callID, localTag, remoteTag)
// of the recipient: the Call-ID and to-tag (our local tag) must be equal,
// and the from-tag must equal our remote tag unless it is "0", which the
// reference treats as a wildcard (sipsimple-behaviour.md §2.8).
func (r Replaces) Matches(callID, localTag, remoteTag string) bool {
	return r.CallID == callID && r.ToTag == localTag && (r.FromTag == "0" || r.FromTag == remoteTag)
}

// String writes the header value: callid;to-tag=...;from-tag=...[;early-only].
func (r Replaces) String() string {
	var b strings.Builder
	b.Grow(len(r.CallID) + len(r.ToTag) + len(r.FromTag) + 32)
	b.WriteString(r.CallID)
	b.WriteString(";to-tag=")
	b.WriteString(r.ToTag)
	b.WriteString(";from-tag=")
	b.WriteString(r.FromTag)
	if r.EarlyOnly {
		b.WriteString(";early-only")
	}
	return b.String()
}

// Validate reports whether r would be written as a valid header value that
// parses back to r: a Call-ID of word characters with at most one "@", and
// token tags.
func (r Replaces) Validate() error {
	back, err := ParseReplaces(r.String())
	if err != nil {
		return err
	}
	if back != r {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidReplaces, r.String())
	}
	return nil
}

// ParseReplaces reads a Replaces header value (RFC 3891 §6.1):
//
//	callid *( SEMI ( to-tag / from-tag / early-flag / generic-param ) )
//
// Exactly one to-tag and one from-tag are required; parameter names are
// case-insensitive; extension parameters are checked and dropped. Errors
// are *SyntaxError wrapping ErrInvalidReplaces (or ErrEmpty).
func ParseReplaces(value string) (Replaces, error) {
	fail := func(off int, err error, detail string) (Replaces, error) {
		return Replaces{}, syntaxError("Replaces", value, off, err, detail)
	}
	if i := hasCtl(value); i >= 0 {
		return fail(i, ErrInvalidReplaces, "control character")
	}
	lead := len(value) - len(strings.TrimLeft(value, " \t"))
	s := trimWSP(value)
	if s == "" {
		return fail(0, ErrEmpty, "")
	}
	// callid = word [ "@" word ]
	i := 0
	for i < len(s) && isWord(s[i]) {
		i++
	}
	if i == 0 {
		return fail(lead, ErrInvalidReplaces, "empty call-id")
	}
	if i < len(s) && s[i] == '@' {
		j := i + 1
		for j < len(s) && isWord(s[j]) {
			j++
		}
		if j == i+1 {
			return fail(lead+j, ErrInvalidReplaces, "empty word after @ in call-id")
		}
		i = j
	}
	r := Replaces{CallID: s[:i]}
	params, off, detail := parseParams(s, i)
	if off >= 0 {
		return fail(lead+off, ErrInvalidReplaces, detail)
	}
	var haveTo, haveFrom bool
	for _, kv := range params {
		switch strings.ToLower(kv.K) {
		case "to-tag":
			if haveTo || !isTokenString(kv.V) {
				return fail(lead+i, ErrInvalidReplaces, "bad or repeated to-tag")
			}
			r.ToTag, haveTo = kv.V, true
		case "from-tag":
			if haveFrom || !isTokenString(kv.V) {
				return fail(lead+i, ErrInvalidReplaces, "bad or repeated from-tag")
			}
			r.FromTag, haveFrom = kv.V, true
		case "early-only":
			if kv.V != "" {
				return fail(lead+i, ErrInvalidReplaces, "early-only takes no value")
			}
			r.EarlyOnly = true
		}
	}
	if !haveTo || !haveFrom {
		return fail(len(value), ErrInvalidReplaces, "to-tag and from-tag are required")
	}
	return r, nil
}
