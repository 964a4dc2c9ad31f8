package msrp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the port an MSRP URI without an explicit port implies when
// it is used to open a connection (the reference's SDP default).
const DefaultPort = 2855

// URI is an MSRP or MSRPS URI (RFC 4975 §6):
//
//	msrp[s]://[userinfo@]host[:port][/session-id];transport[;name[=value]]...
//
// Host holds an IPv6 literal without its brackets. Port 0 means the URI
// carries no explicit port.
type URI struct {
	Secure    bool // msrps scheme (TLS)
	User      string
	Host      string
	Port      int
	SessionID string
	Transport string
	Params    []Param
}

// Param is one URI parameter after the transport. A Param with an empty
// Value is written without "=".
type Param struct {
	Name  string
	Value string
}

// ParseURI parses an MSRP URI. The scheme is matched case-insensitively;
// the transport is required.
func ParseURI(s string) (URI, error) {
	var u URI
	rest, ok := cutPrefixFold(s, "msrps://")
	if ok {
		u.Secure = true
	} else if rest, ok = cutPrefixFold(s, "msrp://"); !ok {
		return URI{}, uriError(s, "scheme is not msrp or msrps")
	}
	end := strings.IndexAny(rest, "/;")
	if end < 0 {
		return URI{}, uriError(s, "missing transport")
	}
	authority := rest[:end]
	rest = rest[end:]
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		u.User = authority[:i]
		authority = authority[i+1:]
		if u.User == "" || !validChars(u.User, userChars) {
			return URI{}, uriError(s, "invalid userinfo")
		}
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return URI{}, uriError(s, err.Error())
	}
	u.Host, u.Port = host, port
	if strings.HasPrefix(rest, "/") {
		semi := strings.IndexByte(rest, ';')
		if semi < 0 {
			return URI{}, uriError(s, "missing transport")
		}
		u.SessionID = rest[1:semi]
		if u.SessionID == "" || !validChars(u.SessionID, sessionIDChars) {
			return URI{}, uriError(s, "invalid session-id")
		}
		rest = rest[semi:]
	}
	// rest starts with ';'.
	parts := strings.Split(rest[1:], ";")
	u.Transport = parts[0]
	if u.Transport == "" || !validChars(u.Transport, alnum) {
		return URI{}, uriError(s, "invalid transport")
	}
	for _, p := range parts[1:] {
		name, value, _ := strings.Cut(p, "=")
		if name == "" || !validChars(name, tokenChars) || (value != "" && !validChars(value, tokenChars)) {
			return URI{}, uriError(s, "invalid parameter")
		}
		u.Params = append(u.Params, Param{Name: name, Value: value})
	}
	return u, nil
}

// MustParseURI is ParseURI for constants in tests and examples; it panics on
// an invalid URI.
func MustParseURI(s string) URI {
	u, err := ParseURI(s)
	if err != nil {
		panic(err)
	}
	return u
}

func splitHostPort(a string) (string, int, error) {
	var host, port string
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", 0, fmt.Errorf("unterminated IPv6 literal")
		}
		host = a[1:i]
		if ip := net.ParseIP(host); ip == nil || !strings.Contains(host, ":") {
			return "", 0, fmt.Errorf("invalid IPv6 literal")
		}
		a = a[i+1:]
		if a != "" {
			if a[0] != ':' {
				return "", 0, fmt.Errorf("junk after IPv6 literal")
			}
			port = a[1:]
			if port == "" {
				return "", 0, fmt.Errorf("empty port")
			}
		}
	} else {
		var hasPort bool
		host, port, hasPort = strings.Cut(a, ":")
		if hasPort && port == "" {
			return "", 0, fmt.Errorf("empty port")
		}
		if host == "" || !validChars(host, hostChars) {
			return "", 0, fmt.Errorf("invalid host")
		}
	}
	if port == "" {
		return host, 0, nil
	}
	if !validChars(port, digits) || len(port) > 5 {
		return "", 0, fmt.Errorf("invalid port")
	}
	n, _ := strconv.Atoi(port)
	if n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("port out of range")
	}
	return host, n, nil
}

// String formats the URI in its canonical wire form.
func (u URI) String() string {
	var b strings.Builder
	if u.Secure {
		b.WriteString("msrps://")
	} else {
		b.WriteString("msrp://")
	}
	if u.User != "" {
		b.WriteString(u.User)
		b.WriteByte('@')
	}
	if strings.Contains(u.Host, ":") {
		b.WriteByte('[')
		b.WriteString(u.Host)
		b.WriteByte(']')
	} else {
		b.WriteString(u.Host)
	}
	if u.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	if u.SessionID != "" {
		b.WriteByte('/')
		b.WriteString(u.SessionID)
	}
	b.WriteByte(';')
	b.WriteString(u.Transport)
	for _, p := range u.Params {
		b.WriteByte(';')
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// Equal reports whether u and v identify the same MSRP resource following
// RFC 4975 §6.1: the scheme, host and transport compare case-insensitively,
// the session-id case-sensitively, an explicit port never equals an absent
// one, and neither userinfo nor URI parameters take part.
func (u URI) Equal(v URI) bool {
	return u.Secure == v.Secure &&
		strings.EqualFold(u.Host, v.Host) &&
		u.Port == v.Port &&
		u.SessionID == v.SessionID &&
		strings.EqualFold(u.Transport, v.Transport)
}

// Addr returns the host:port to dial for u, using DefaultPort when u has no
// explicit port.
func (u URI) Addr() string {
	p := u.Port
	if p == 0 {
		p = DefaultPort
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(p))
}

// NewSessionID returns a fresh random session-id: 80 bits as in the
// reference, hex encoded, so it is URL-safe and case-stable.
func NewSessionID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("msrp: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

const (
	digits     = "0123456789"
	alnum      = digits + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	unreserved = alnum + "-._~"
	// session-id = 1*( unreserved / "+" / "=" / "/" )
	sessionIDChars = unreserved + "+=/"
	// userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) (RFC 3986)
	userChars  = unreserved + "%!$&'()*+,=:"
	hostChars  = alnum + "-."
	tokenChars = alnum + "-.!%*_+`'~"
)

func validChars[T string | []byte](s T, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
