package refer

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ReferTo is the value of the Refer-To header of a REFER (RFC 3515 §2.1):
// the URI the recipient is asked to contact. URI parameters and headers
// say how: "method=BYE" asks for a BYE instead of an INVITE (RFC 4579
// §5.5, removing a participant from a conference), and the URI header
// Replaces names the dialog the new call replaces (RFC 3891 §7, attended
// transfer). Header parameters after the URI (RFC 4508 feature tags) are
// kept in Params.
type ReferTo struct {
	Address
}

// NewReferTo returns the Refer-To of a blind transfer to target:
// "<target>". The target is copied.
func NewReferTo(target sip.Uri) ReferTo {
	return ReferTo{Address{URI: cloneURI(target)}}
}

// WithReplaces returns a copy of r whose URI carries the Replaces header
// of an attended transfer, escaped as RFC 3261 §19.1.1 requires:
// "<sip:target?Replaces=callid%3Bto-tag%3Dx%3Bfrom-tag%3Dy>". A Replaces
// header already there is replaced.
func (r ReferTo) WithReplaces(rep Replaces) ReferTo {
	r.Address = r.Address.clone()
	r.URI.Headers = append(withoutEscaped(r.URI.Headers, "Replaces"), sip.HeaderKV{K: "Replaces", V: EscapeHeaderValue(rep.String())})
	return r
}

// WithMethod returns a copy of r whose URI carries the method parameter:
// "INVITE" to add a participant to a conference, "BYE" to remove one
// (RFC 4579 §5.5, §5.7). A method parameter already there is replaced.
func (r ReferTo) WithMethod(method string) ReferTo {
	r.Address = r.Address.clone()
	r.URI.UriParams = append(withoutEscaped(r.URI.UriParams, "method"), sip.HeaderKV{K: "method", V: method})
	return r
}

// Method returns the method the recipient is asked to send: the URI's
// method parameter unescaped and in upper case, else a header parameter "method" (the
// reference writes "<uri>;method=BYE"), else "INVITE", the default of
// RFC 3515 §2.1 for SIP URIs.
func (r ReferTo) Method() string {
	if m, ok := getEscaped(r.URI.UriParams, "method"); ok {
		m, _ = Unescape(m)
		return strings.ToUpper(m)
	}
	if m, ok := r.Param("method"); ok {
		return strings.ToUpper(m)
	}
	return "INVITE"
}

// Header returns the unescaped value of the URI header name (names are
// compared unescaped and case-insensitively), as RFC 3261 §19.1.5 adds it to the request built
// from the URI.
func (r ReferTo) Header(name string) (string, bool) {
	v, ok := getEscaped(r.URI.Headers, name)
	if !ok {
		return "", false
	}
	v, ok = Unescape(v)
	return v, ok
}

// Replaces returns the dialog named by the URI header Replaces. ok is
// false when there is none; err is set (wrapping ErrInvalidReplaces) when
// there is one that does not parse, which ParseReferTo already refuses.
func (r ReferTo) Replaces() (rep Replaces, ok bool, err error) {
	raw, ok := getEscaped(r.URI.Headers, "Replaces")
	if !ok {
		return Replaces{}, false, nil
	}
	v, ok := Unescape(raw)
	if !ok {
		return Replaces{}, true, syntaxError("Replaces", raw, 0, ErrInvalidReplaces, "bad escape")
	}
	rep, err = ParseReplaces(v)
	return rep, true, err
}

// Destination returns the target with its URI parameters and headers
// stripped, scheme:user@host:port: what the reference calls
// transfer_destination and dials. URIs of other schemes than sip and sips
// are returned whole.
func (r ReferTo) Destination() sip.Uri {
	u := r.URI
	if u.Scheme != "" && u.Scheme != "sip" && u.Scheme != "sips" {
		return cloneURI(u)
	}
	return sip.Uri{Scheme: u.Scheme, User: u.User, Password: u.Password, Host: u.Host, Port: u.Port}
}

// Validate reports whether r is written as a Refer-To that parses back to
// r, as values built by hand may not be.
func (r ReferTo) Validate() error {
	back, err := ParseReferTo(r.String())
	if err != nil {
		return err
	}
	if !sameAddress(back.Address, r.Address) {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidAddress, r.String())
	}
	return nil
}

// ParseReferTo reads a Refer-To header value (RFC 3515 §2.1): name-addr
// or addr-spec, then header parameters. The URI must be valid; a method
// parameter must be a token; a Replaces URI header must unescape to a
// valid Replaces. Errors are *SyntaxError wrapping ErrInvalidAddress,
// ErrInvalidURI, ErrInvalidParam, ErrInvalidReplaces or ErrEmpty.
func ParseReferTo(value string) (ReferTo, error) {
	a, err := parseAddress("Refer-To", value)
	if err != nil {
		return ReferTo{}, err
	}
	r := ReferTo{a}
	if m, ok := getEscaped(r.URI.UriParams, "method"); ok {
		if m, _ = Unescape(m); !isTokenString(m) {
			return ReferTo{}, syntaxError("Refer-To", value, 0, ErrInvalidURI, "method is no token")
		}
	}
	if _, _, err := r.Replaces(); err != nil {
		return ReferTo{}, syntaxError("Refer-To", value, 0, ErrInvalidReplaces, err.Error())
	}
	return r, nil
}

// sameAddress compares two addresses, treating nil and empty slices alike.
func sameAddress(a, b Address) bool {
	norm := func(a Address) Address {
		if len(a.Params) == 0 {
			a.Params = nil
		}
		if len(a.URI.UriParams) == 0 {
			a.URI.UriParams = nil
		}
		if len(a.URI.Headers) == 0 {
			a.URI.Headers = nil
		}
		if a.URI.Scheme == "" {
			a.URI.Scheme = "sip"
		}
		return a
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
