package cpim

import (
	"errors"
	"fmt"
	"strings"
)

// Address is a CPIM identity: an optional display name and a URI, written
// `"Display Name" <sip:user@host>` or `<sip:user@host>` (RFC 3862 §4.1).
type Address struct {
	DisplayName string
	URI         string
}

// IsZero reports whether a is the empty address (no URI).
func (a Address) IsZero() bool { return a.URI == "" }

// String returns the wire form: the display name, when there is one, in
// double quotes with `"` and `\` escaped, then the URI in angle brackets.
func (a Address) String() string {
	if a.DisplayName == "" {
		return "<" + a.URI + ">"
	}
	return quote(a.DisplayName) + " <" + a.URI + ">"
}

// ParseAddress reads `[display-name] <uri>`. The display name may be a quoted
// string (with backslash escapes) or bare words. Errors wrap
// ErrInvalidAddress.
func ParseAddress(s string) (Address, error) {
	name, uri, err := splitNameURI(s)
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %w", ErrInvalidAddress, s, err)
	}
	return Address{DisplayName: name, URI: uri}, nil
}

var (
	errNoURI         = errors.New("no <uri>")
	errEmptyURI      = errors.New("empty uri")
	errUnterminated  = errors.New("unterminated quoted string")
	errTrailingInput = errors.New("text after the closing '>'")
)

// splitNameURI splits `[name] <uri>` into its parts.
func splitNameURI(s string) (name, uri string, err error) {
	s = strings.Trim(s, " \t")
	rest := s
	if strings.HasPrefix(s, `"`) {
		var n int
		name, n, err = unquote(s)
		if err != nil {
			return "", "", err
		}
		rest = strings.TrimLeft(s[n:], " \t")
		if !strings.HasPrefix(rest, "<") {
			return "", "", errNoURI
		}
	} else {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return "", "", errNoURI
		}
		name = strings.Trim(s[:i], " \t")
		rest = s[i:]
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", "", errNoURI
	}
	uri = rest[1:end]
	if strings.Trim(rest[end+1:], " \t") != "" {
		return "", "", errTrailingInput
	}
	if uri == "" {
		return "", "", errEmptyURI
	}
	return name, uri, nil
}

// unquote reads the quoted string at the start of s and returns its text and
// the number of bytes it took, closing quote included.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				return "", 0, errUnterminated
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errUnterminated
}

// quote writes s as a quoted string, escaping `"` and `\`.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
