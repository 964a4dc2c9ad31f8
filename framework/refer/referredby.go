package refer

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// ReferredBy is the value of the Referred-By header (RFC 3892 §3): who
// asked for the request. A REFER carries it and the transferee copies it
// into the INVITE it sends; the reference puts it into TransferInfo.
//
//	Referred-By: "Alice" <sip:alice@example.com>;cid="20398823.2UWQFN309shb3@example.com"
type ReferredBy struct {
	Address
}

// NewReferredBy returns "<uri>", the Referred-By the reference sends
// (its local identity URI).
func NewReferredBy(uri sip.Uri) ReferredBy {
	return ReferredBy{Address{URI: cloneURI(uri)}}
}

// CID returns the cid parameter, which names a body part carrying a
// signed Referred-By token, without its quotes.
func (r ReferredBy) CID() (string, bool) {
	v, ok := r.Param("cid")
	if ok && v != "" && v[0] == '"' {
		if content, end, bad := parseQuoted(v, 0); bad < 0 && end == len(v) {
			return content, true
		}
	}
	return v, ok
}

// Validate reports whether r is written as a Referred-By that parses back
// to r.
func (r ReferredBy) Validate() error {
	back, err := ParseReferredBy(r.String())
	if err != nil {
		return err
	}
	if !sameAddress(back.Address, r.Address) {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidAddress, r.String())
	}
	return nil
}

// ParseReferredBy reads a Referred-By header value (RFC 3892 §3):
// name-addr or addr-spec, then parameters such as cid. Errors are
// *SyntaxError wrapping ErrInvalidAddress, ErrInvalidURI, ErrInvalidParam
// or ErrEmpty.
func ParseReferredBy(value string) (ReferredBy, error) {
	a, err := parseAddress("Referred-By", value)
	if err != nil {
		return ReferredBy{}, err
	}
	return ReferredBy{a}, nil
}
