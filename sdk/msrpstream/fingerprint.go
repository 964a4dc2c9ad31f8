package msrpstream

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	// The hash functions of a=fingerprint.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/sipstreams/sipstreams/sdk"
)

// Fingerprint is an SDP a=fingerprint (RFC 8122 §5): the hash of the
// certificate an endpoint presents on its TLS connections, by which the
// other end authenticates it through the signalling, self-signed
// certificates included.
//
//	a=fingerprint:sha-256 4A:AD:B9:...:7E
type Fingerprint struct {
	// Hash is the hash function, lower case: "sha-256", "sha-1", ...
	Hash string
	// Value is the digest of the certificate's DER encoding.
	Value []byte
}

// Hash functions of a=fingerprint that Matches computes (RFC 8122 §5; MD5
// and MD2 are parsed but never trusted), strongest first.
var fingerprintHashes = []struct {
	name string
	hash crypto.Hash
}{
	{"sha-512", crypto.SHA512},
	{"sha-384", crypto.SHA384},
	{"sha-256", crypto.SHA256},
	{"sha-224", crypto.SHA224},
	{"sha-1", crypto.SHA1},
}

func hashOf(name string) (crypto.Hash, int, bool) {
	for i, h := range fingerprintHashes {
		if h.name == name {
			return h.hash, i, true
		}
	}
	return 0, 0, false
}

// maxFingerprintSize bounds the digest of an unknown hash function; the
// longest known one, SHA-512, has 64 bytes.
const maxFingerprintSize = 64

// NewFingerprint returns the sha-256 fingerprint of a certificate's DER
// encoding, the one a=fingerprint offers.
func NewFingerprint(certDER []byte) Fingerprint {
	h := crypto.SHA256.New()
	h.Write(certDER)
	return Fingerprint{Hash: "sha-256", Value: h.Sum(nil)}
}

// ParseFingerprint reads an a=fingerprint value: a hash function token,
// one space or more, and the digest as hex pairs separated by colons
// (RFC 8122 §5; lower-case hex is accepted too). A known hash function
// must come with a digest of its size. Errors wrap sdk.ErrInvalidStream.
func ParseFingerprint(v string) (Fingerprint, error) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint:%s is not <hash-function> <hex>", clip(v))
	}
	name := strings.ToLower(f[0])
	if !isToken(name) {
		return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint: invalid hash function %q", clip(f[0]))
	}
	pairs := strings.Split(f[1], ":")
	if len(pairs) > maxFingerprintSize {
		return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint: digest longer than %d bytes", maxFingerprintSize)
	}
	value := make([]byte, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint: %q is not a hex pair", clip(p))
		}
		if _, err := hex.Decode(value[i:i+1], []byte(p)); err != nil {
			return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint: %q is not a hex pair", p)
		}
	}
	if h, _, ok := hashOf(name); ok && h.Size() != len(value) {
		return Fingerprint{}, sdk.Errorf(sdk.ErrInvalidStream, "a=fingerprint: a %s digest has %d bytes, not %d", name, h.Size(), len(value))
	}
	return Fingerprint{Hash: name, Value: value}, nil
}

// String returns the a=fingerprint value: the hash function and the
// digest in upper-case hex pairs.
func (f Fingerprint) String() string {
	var b strings.Builder
	b.WriteString(f.Hash)
	b.WriteByte(' ')
	for i, c := range f.Value {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// Supported reports whether Matches can check f: its hash function is
// SHA-1 or SHA-2.
func (f Fingerprint) Supported() bool {
	_, _, ok := hashOf(f.Hash)
	return ok
}

// Matches reports whether f is the fingerprint of the certificate whose
// DER encoding is certDER; an unsupported hash function never matches.
func (f Fingerprint) Matches(certDER []byte) bool {
	h, _, ok := hashOf(f.Hash)
	if !ok {
		return false
	}
	d := h.New()
	d.Write(certDER)
	return string(d.Sum(nil)) == string(f.Value)
}

// CheckPeer authenticates a peer by its a=fingerprint values (RFC 8122
// §5): certs are the certificates the peer presented, its own first. The
// fingerprints of the strongest supported hash function present are used;
// the certificate must match one of them. The error is a
// *FingerprintError.
func CheckPeer(want []Fingerprint, certs []*x509.Certificate) error {
	best := -1
	for _, f := range want {
		if _, rank, ok := hashOf(f.Hash); ok && (best < 0 || rank < best) {
			best = rank
		}
	}
	if best < 0 {
		return &FingerprintError{Want: want, Reason: "no a=fingerprint with a supported hash function"}
	}
	name := fingerprintHashes[best].name
	var use []Fingerprint
	for _, f := range want {
		if f.Hash == name {
			use = append(use, f)
		}
	}
	if len(certs) == 0 {
		return &FingerprintError{Want: use, Reason: "the peer presented no certificate for its a=fingerprint"}
	}
	for _, f := range use {
		if f.Matches(certs[0].Raw) {
			return nil
		}
	}
	h := fingerprintHashes[best].hash.New()
	h.Write(certs[0].Raw)
	got := Fingerprint{Hash: name, Value: h.Sum(nil)}
	return &FingerprintError{Want: use, Got: &got, Reason: "the peer's certificate does not match its a=fingerprint"}
}

// fingerprintsOf reads the a=fingerprint attributes of a media section, or
// else of the session (RFC 8122 §5 allows both levels).
func fingerprintsOf(session, media []string) ([]Fingerprint, error) {
	values := media
	if len(values) == 0 {
		values = session
	}
	var out []Fingerprint
	for _, v := range values {
		f, err := ParseFingerprint(v)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// isToken reports whether s is an SDP token (RFC 4566 §9).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
