package refer

import (
	"strings"
	"unicode/utf8"
)

// Character classes of RFC 3261 §25.1.

func isAlpha(c byte) bool    { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlphanum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isHex(c byte) bool      { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isWSP(c byte) bool      { return c == ' ' || c == '\t' }

// isMark: "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")".
func isMark(c byte) bool { return strings.IndexByte("-_.!~*'()", c) >= 0 }

func isUnreserved(c byte) bool { return isAlphanum(c) || isMark(c) }

// isReserved: ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ",".
func isReserved(c byte) bool { return strings.IndexByte(";/?:@&=+$,", c) >= 0 }

// isToken: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
func isToken(c byte) bool { return isAlphanum(c) || strings.IndexByte("-.!%*_+`'~", c) >= 0 }

// isWord is the word of Call-ID: token characters plus
// "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}".
func isWord(c byte) bool { return isToken(c) || strings.IndexByte("()<>:\\\"/[]?{}", c) >= 0 }

// URI component classes; each also admits escaped (%HH).
func isUserChar(c byte) bool     { return isUnreserved(c) || strings.IndexByte("&=+$,;?/", c) >= 0 }
func isPasswordChar(c byte) bool { return isUnreserved(c) || strings.IndexByte("&=+$,", c) >= 0 }
func isParamChar(c byte) bool    { return isUnreserved(c) || strings.IndexByte("[]/:&+$", c) >= 0 }
func isHeaderChar(c byte) bool   { return isUnreserved(c) || strings.IndexByte("[]/?:+$", c) >= 0 }
func isURIC(c byte) bool         { return isUnreserved(c) || isReserved(c) }

// isTokenString reports whether s is a non-empty token.
func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isToken(s[i]) {
			return false
		}
	}
	return true
}

// spanEscaped returns the end of the longest run from i of characters in
// class or escapes (%HH), and the offset of a bad escape or -1.
func spanEscaped(s string, i int, class func(byte) bool) (end, bad int) {
	for i < len(s) {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return i, i
			}
			i += 3
		case class(c):
			i++
		default:
			return i, -1
		}
	}
	return i, -1
}

// skipWSP returns the index of the first byte at or after i that is no
// space or tab.
func skipWSP(s string, i int) int {
	for i < len(s) && isWSP(s[i]) {
		i++
	}
	return i
}

// trimWSP removes leading and trailing spaces and tabs.
func trimWSP(s string) string { return strings.Trim(s, " \t") }

// Unescape decodes the %HH escapes of a URI component (RFC 3261 §19.1.2).
// It reports false for a truncated or non-hex escape.
func Unescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// EscapeHeaderValue escapes s for use as the value of a URI header (the
// part after "?name=" in a SIP URI, RFC 3261 §19.1.1): every byte other than
// unreserved and "[" / "]" / "/" / "?" / ":" / "+" / "$" becomes %HH, so
// "a;to-tag=b" becomes "a%3Bto-tag%3Db".
func EscapeHeaderValue(s string) string { return escape(s, isHeaderChar) }

func escape(s string, keep func(byte) bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

// parseQuoted reads a quoted-string starting at s[i] == '"' and returns its
// unescaped content and the index after the closing quote, or bad >= 0.
// qdtext is LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair is
// "\" followed by any byte but CR and LF (RFC 3261 §25.1).
func parseQuoted(s string, i int) (content string, end, bad int) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			content = b.String()
			if !utf8.ValidString(content) {
				return "", j, i
			}
			return content, j + 1, -1
		case c == '\\':
			if j+1 >= len(s) || s[j+1] == '\r' || s[j+1] == '\n' || s[j+1] >= 0x80 {
				return "", j, j
			}
			b.WriteByte(s[j+1])
			j++
		case isWSP(c) || c >= 0x21 && c != 0x7f:
			b.WriteByte(c)
		default:
			return "", j, j
		}
	}
	return "", len(s), len(s)
}

// quote writes s as a quoted-string, escaping DQUOTE, backslash and the
// control characters with a quoted-pair. CR and LF cannot be quoted and
// become spaces; use Validate on values built by hand.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r' || c == '\n':
			b.WriteByte(' ')
		case c == '"' || c == '\\' || c < 0x20 && c != '\t' || c == 0x7f:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hasCtl reports whether s holds CR, LF or NUL, which no header value may
// carry once unfolded.
func hasCtl(s string) int {
	return strings.IndexAny(s, "\r\n\x00")
}
