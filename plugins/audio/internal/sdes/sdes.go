package sdes

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pion/srtp/v2"
)

// Suite is an SRTP crypto suite name as written in a=crypto.
type Suite string

// Supported suites.
const (
	AESCM128HMACSHA180 Suite = "AES_CM_128_HMAC_SHA1_80"
	AESCM128HMACSHA132 Suite = "AES_CM_128_HMAC_SHA1_32"
)

// DefaultSuites is the preference order used when none is given: the
// 80-bit tag first, as the reference offers.
func DefaultSuites() []Suite { return []Suite{AESCM128HMACSHA180, AESCM128HMACSHA132} }

// KeyLen is the length of the inline key material (16-byte master key and
// 14-byte master salt) for both supported suites.
const KeyLen = 30

// Profile returns the pion/srtp protection profile of s.
func (s Suite) Profile() (srtp.ProtectionProfile, error) {
	switch s {
	case AESCM128HMACSHA180:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case AESCM128HMACSHA132:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedSuite, string(s))
}

// Supported reports whether s is handled by this package.
func (s Suite) Supported() bool {
	_, err := s.Profile()
	return err == nil
}

// Crypto is one a=crypto attribute.
type Crypto struct {
	// Tag is the decimal tag (1..999999999) that pairs offer and answer lines.
	Tag int
	// Suite is the crypto suite.
	Suite Suite
	// Key is the master key followed by the master salt (KeyLen bytes).
	Key []byte
	// Lifetime is the optional key lifetime as written ("2^20", "1048576"), or "".
	Lifetime string
	// MKI and MKILength are the optional master key identifier and its byte
	// length (MKILength 0 means no MKI field).
	MKI       uint64
	MKILength int
	// SessionParams are the optional session parameters, as written.
	SessionParams []string
}

// MasterKey returns the 16-byte master key.
func (c Crypto) MasterKey() []byte { return c.Key[:16] }

// MasterSalt returns the 14-byte master salt.
func (c Crypto) MasterSalt() []byte { return c.Key[16:KeyLen] }

// New returns a crypto line with the given tag and suite and a fresh random
// key read from rnd (crypto/rand when rnd is nil).
func New(tag int, s Suite, rnd io.Reader) (Crypto, error) {
	if !s.Supported() {
		return Crypto{}, fmt.Errorf("%w: %q", ErrUnsupportedSuite, string(s))
	}
	key, err := GenerateKey(rnd)
	if err != nil {
		return Crypto{}, err
	}
	return Crypto{Tag: tag, Suite: s, Key: key}, nil
}

// GenerateKey reads KeyLen random bytes from rnd (crypto/rand when nil).
func GenerateKey(rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key := make([]byte, KeyLen)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("sdes: generate key: %w", err)
	}
	return key, nil
}

// Offer returns one crypto line per suite, tagged 1, 2, … in order, each
// with its own fresh key.
func Offer(suites []Suite, rnd io.Reader) ([]Crypto, error) {
	out := make([]Crypto, 0, len(suites))
	for i, s := range suites {
		c, err := New(i+1, s, rnd)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Answer selects the offered line to accept: the first offered line whose
// suite is in supported (DefaultSuites when nil), skipping lines with an MKI
// or session parameters, which this package does not negotiate. It returns
// that remote line and the local answer line (same tag and suite, fresh key).
func Answer(offer []Crypto, supported []Suite, rnd io.Reader) (remote, local Crypto, err error) {
	if supported == nil {
		supported = DefaultSuites()
	}
	for _, o := range offer {
		if o.MKILength != 0 || len(o.SessionParams) != 0 {
			continue
		}
		for _, s := range supported {
			if o.Suite != s {
				continue
			}
			local, err := New(o.Tag, s, rnd)
			if err != nil {
				return Crypto{}, Crypto{}, err
			}
			return o, local, nil
		}
	}
	return Crypto{}, Crypto{}, ErrNoCommonSuite
}

// Select returns the offered line matching an answer's tag and suite: the
// offerer's side of the negotiation.
func Select(offer []Crypto, answer Crypto) (Crypto, error) {
	for _, o := range offer {
		if o.Tag == answer.Tag && o.Suite == answer.Suite {
			return o, nil
		}
	}
	return Crypto{}, fmt.Errorf("%w: answer tag %d %s was not offered", ErrNoCommonSuite, answer.Tag, answer.Suite)
}

// String returns the attribute value, without the "a=crypto:" prefix.
func (c Crypto) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(string(c.Suite))
	b.WriteString(" inline:")
	b.WriteString(base64.StdEncoding.EncodeToString(c.Key))
	if c.Lifetime != "" {
		b.WriteByte('|')
		b.WriteString(c.Lifetime)
	}
	if c.MKILength != 0 {
		b.WriteByte('|')
		b.WriteString(strconv.FormatUint(c.MKI, 10))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(c.MKILength))
	}
	for _, p := range c.SessionParams {
		b.WriteByte(' ')
		b.WriteString(p)
	}
	return b.String()
}

// Line returns the full SDP attribute line "a=crypto:…" without line ending.
func (c Crypto) Line() string { return "a=crypto:" + c.String() }

const prefix = "a=crypto:"

// Parse parses an a=crypto attribute. It accepts the full line ("a=crypto:…"),
// the value alone, and a trailing CRLF.
func Parse(s string) (Crypto, error) {
	in := s
	fail := func(err error, reason string) (Crypto, error) {
		return Crypto{}, &ParseError{Input: in, Reason: reason, Err: err}
	}
	s = strings.TrimRight(s, "\r\n")
	s = strings.TrimPrefix(s, prefix)
	fields := strings.Fields(s)
	if len(fields) < 3 || strings.Join(fields, " ") != s {
		return fail(ErrSyntax, "want TAG SUITE KEY-PARAMS separated by single spaces")
	}
	var c Crypto
	tag, err := strconv.Atoi(fields[0])
	if err != nil || tag < 0 || tag > 999999999 || len(fields[0]) > 10 || fields[0][0] == '+' || fields[0][0] == '-' {
		return fail(ErrSyntax, "bad tag")
	}
	c.Tag = tag
	c.Suite = Suite(fields[1])
	if !c.Suite.Supported() {
		return fail(ErrUnsupportedSuite, fields[1])
	}
	kp := fields[2]
	if strings.Contains(kp, ";") {
		return fail(ErrSyntax, "several key parameters are not supported")
	}
	method, info, ok := strings.Cut(kp, ":")
	if !ok || method != "inline" {
		return fail(ErrSyntax, "key method must be inline")
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return fail(ErrSyntax, "too many key-info fields")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		// RFC 4568 §6.1 keys have no padding when the length is a multiple
		// of 3 (30 bytes), but tolerate unpadded input anyway.
		key, err = base64.RawStdEncoding.Strict().DecodeString(parts[0])
		if err != nil {
			return fail(ErrSyntax, "key is not base64")
		}
	}
	if len(key) != KeyLen {
		return fail(ErrKeyLength, fmt.Sprintf("%d bytes, want %d", len(key), KeyLen))
	}
	c.Key = key
	rest := parts[1:]
	if len(rest) > 0 && !strings.Contains(rest[0], ":") {
		if !validLifetime(rest[0]) {
			return fail(ErrSyntax, "bad lifetime")
		}
		c.Lifetime = rest[0]
		rest = rest[1:]
	}
	if len(rest) > 0 {
		v, l, _ := strings.Cut(rest[0], ":")
		mki, err1 := strconv.ParseUint(v, 10, 64)
		n, err2 := strconv.Atoi(l)
		if err1 != nil || err2 != nil || n < 1 || n > 128 || !digits(v) || !digits(l) {
			return fail(ErrSyntax, "bad MKI")
		}
		c.MKI, c.MKILength = mki, n
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return fail(ErrSyntax, "unexpected key-info field")
	}
	if len(fields) > 3 {
		c.SessionParams = fields[3:]
	}
	return c, nil
}

// validLifetime accepts "2^N" or a decimal number, as RFC 4568 §9.2 allows.
func validLifetime(s string) bool {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		return digits(e) && len(e) <= 2
	}
	return digits(s) && len(s) <= 20
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
