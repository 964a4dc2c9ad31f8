package filetransfer

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
)

// HashSize is the size of a SHA-1 hash, the only algorithm of RFC 5547.
const HashSize = 20

// Hash is the SHA-1 of a whole file, as a=file-selector carries it
// (RFC 5547 §5): "sha-1:" then 20 upper-case hex byte pairs separated by
// ":". The zero value is "no hash".
type Hash [HashSize]byte

// hashPrefix is the algorithm prefix written; legacyHashPrefix is the old
// form the reference still accepts on input.
const (
	hashPrefix       = "sha-1:"
	legacyHashPrefix = "sha1:"
)

// ParseHash reads "sha-1:72:24:5F:…" (or the legacy "sha1:…"); hex digits
// of either case are accepted. Anything else gives an error wrapping
// sdk.ErrInvalidArgument.
func ParseHash(s string) (Hash, error) {
	var h Hash
	rest, ok := cutPrefixFold(s, hashPrefix)
	if !ok {
		if rest, ok = cutPrefixFold(s, legacyHashPrefix); !ok {
			return h, sdk.Errorf(sdk.ErrInvalidArgument, "hash %q: only sha-1 is supported", s)
		}
	}
	if len(rest) != 3*HashSize-1 {
		return h, sdk.Errorf(sdk.ErrInvalidArgument, "hash %q: want 20 hex byte pairs separated by ':'", s)
	}
	for i := range HashSize {
		pair := rest[3*i : 3*i+2]
		if i < HashSize-1 && rest[3*i+2] != ':' {
			return h, sdk.Errorf(sdk.ErrInvalidArgument, "hash %q: want 20 hex byte pairs separated by ':'", s)
		}
		b, err := hex.DecodeString(pair)
		if err != nil {
			return h, sdk.Errorf(sdk.ErrInvalidArgument, "hash %q: %q is not a hex byte", s, pair)
		}
		h[i] = b[0]
	}
	return h, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// IsZero reports whether h is unset.
func (h Hash) IsZero() bool { return h == Hash{} }

// String writes "sha-1:" and the upper-case pairs, or "" for the zero
// value.
func (h Hash) String() string {
	if h.IsZero() {
		return ""
	}
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, len(hashPrefix)+3*HashSize-1)
	b = append(b, hashPrefix...)
	for i, x := range h {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[x>>4], digits[x&15])
	}
	return string(b)
}

// Key is the hash as lower-case hex without separators: the key of a
// partial file's metadata (the reference keys by the lower-cased hash).
func (h Hash) Key() string { return hex.EncodeToString(h[:]) }

// MarshalText writes String.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads ParseHash's forms; empty text is the zero value.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = Hash{}
		return nil
	}
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Selector is a file selector (RFC 5547 §5, the reference's FileSelector):
// the file a stream pushes or pulls, as a=file-selector describes it. Only
// the fields present are written, in the order name, type, size, hash.
// Size 0 stands for "no size" (an empty file cannot be transferred).
type Selector struct {
	// Name is the file's name, without directories.
	Name string `json:"name,omitempty"`
	// Type is the MIME type (see GuessType).
	Type string `json:"type,omitempty"`
	// Size is the file's size in bytes.
	Size int64 `json:"size,omitempty"`
	// Hash is the SHA-1 of the whole file.
	Hash Hash `json:"hash,omitzero"`
}

// maxNameBytes bounds a name read from a file selector; longer ones are
// refused.
const maxNameBytes = 4096

// ParseSelector reads an a=file-selector value:
//
//	name:"report 2024.pdf" type:application/pdf size:32349 hash:sha-1:72:24:…
//
// Fields may come in any order, separated by spaces; unknown fields are
// ignored; the first of a repeated field counts. The name is quoted and
// percent-decoded (RFC 5547 §6: %XX stands for a byte the quoted string
// cannot hold); the hash may use the legacy "sha1:" prefix. What cannot
// be read — an unterminated or empty quoted name, a name of NUL bytes or
// longer than 4096 bytes, a size that is not a decimal count, a hash that
// is not SHA-1 — gives an error wrapping sdk.ErrInvalidArgument.
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	seen := map[string]bool{}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] != ':' && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		key := strings.ToLower(s[i:j])
		if j == len(s) || s[j] != ':' {
			i = j // a token without a value: ignored
			continue
		}
		j++ // past ':'
		var value string
		if key == "name" {
			if j == len(s) || s[j] != '"' {
				return Selector{}, sdk.Errorf(sdk.ErrInvalidArgument, "file-selector name is not a quoted string")
			}
			end := strings.IndexByte(s[j+1:], '"')
			if end < 0 {
				return Selector{}, sdk.Errorf(sdk.ErrInvalidArgument, "file-selector name has no closing quote")
			}
			value = s[j+1 : j+1+end]
			i = j + 1 + end + 1
		} else {
			k := j
			for k < len(s) && s[k] != ' ' && s[k] != '\t' {
				k++
			}
			value = s[j:k]
			i = k
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := sel.set(key, value); err != nil {
			return Selector{}, err
		}
	}
	return sel, nil
}

// set reads one field of a file selector.
func (sel *Selector) set(key, value string) error {
	switch key {
	case "name":
		name := percentDecode(value)
		switch {
		case name == "":
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector name is empty")
		case len(name) > maxNameBytes:
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector name is longer than %d bytes", maxNameBytes)
		case strings.Trim(name, "\x00") == "":
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector name is only NUL bytes")
		}
		sel.Name = name
	case "type":
		if value == "" {
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector type is empty")
		}
		sel.Type = value
	case "size":
		if value == "" || len(value) > 18 || strings.Trim(value, "0123456789") != "" {
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector size %q is not a byte count", value)
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return sdk.Errorf(sdk.ErrInvalidArgument, "file-selector size %q: %v", value, err)
		}
		sel.Size = n
	case "hash":
		h, err := ParseHash(value)
		if err != nil {
			return err
		}
		sel.Hash = h
	}
	return nil
}

// String writes the selector as a=file-selector carries it: only the
// fields present, in the reference's order (name, type, size, hash). The
// name is quoted; the bytes a quoted string cannot hold (NUL, CR, LF, '"')
// and '%' are percent-encoded (RFC 5547 §6).
func (sel Selector) String() string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(v)
	}
	if sel.Name != "" {
		add("name", `"`+percentEncode(sel.Name)+`"`)
	}
	if sel.Type != "" {
		add("type", sel.Type)
	}
	if sel.Size > 0 {
		add("size", strconv.FormatInt(sel.Size, 10))
	}
	if !sel.Hash.IsZero() {
		add("hash", sel.Hash.String())
	}
	return b.String()
}

// percentEncode escapes the bytes a file-selector name cannot carry.
func percentEncode(s string) string {
	if !strings.ContainsAny(s, "\x00\r\n\"%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, '\r', '\n', '"', '%':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// percentDecode undoes percentEncode; a '%' not followed by two hex
// digits is kept as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				b.WriteByte(v[0])
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
