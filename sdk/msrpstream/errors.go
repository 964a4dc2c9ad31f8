package msrpstream

import (
	"errors"
	"strings"
)

// ErrFingerprintMismatch means a peer's TLS certificate is not the one its
// SDP a=fingerprint announced (or it presented none, or the announcement
// uses no hash function we can check): the MSRP connection is refused and
// the stream fails. *FingerprintError wraps it.
var ErrFingerprintMismatch = errors.New("msrpstream: peer certificate does not match a=fingerprint")

// FingerprintError is a failed a=fingerprint check (CheckPeer). It wraps
// ErrFingerprintMismatch.
type FingerprintError struct {
	// Want are the peer's a=fingerprint values checked.
	Want []Fingerprint
	// Got is the fingerprint of the certificate presented, with the hash
	// function of Want; nil when there was none to compare.
	Got *Fingerprint
	// Reason says what failed.
	Reason string
}

// Error names what failed, the fingerprints announced and the one found.
func (e *FingerprintError) Error() string {
	var b strings.Builder
	b.WriteString("msrpstream: ")
	b.WriteString(e.Reason)
	if len(e.Want) > 0 {
		b.WriteString(" (announced:")
		for _, f := range e.Want {
			b.WriteString(" ")
			b.WriteString(f.String())
		}
		if e.Got != nil {
			b.WriteString("; presented: ")
			b.WriteString(e.Got.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns ErrFingerprintMismatch.
func (e *FingerprintError) Unwrap() error { return ErrFingerprintMismatch }
