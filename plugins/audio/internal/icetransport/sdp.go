package icetransport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Candidate is one a=candidate attribute (RFC 5245 §15.1).
type Candidate struct {
	Foundation string
	Component  int // 1 RTP, 2 RTCP
	Transport  string
	Priority   uint32
	Address    string
	Port       int
	Type       string // host, srflx, prflx, relay
	RelAddr    string
	RelPort    int
	Extensions []string // extension name/value pairs, as written
	hasRelPort bool
	hasRelAddr bool
}

// String returns the attribute value, without "a=candidate:".
func (c Candidate) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s %d %s %d typ %s", c.Foundation, c.Component, c.Transport, c.Priority, c.Address, c.Port, c.Type)
	if c.RelAddr != "" {
		b.WriteString(" raddr " + c.RelAddr + " rport " + strconv.Itoa(c.RelPort))
	}
	for _, e := range c.Extensions {
		b.WriteByte(' ')
		b.WriteString(e)
	}
	return b.String()
}

// ParseCandidate parses an a=candidate attribute; the "a=" and "candidate:"
// prefixes and a trailing CRLF are optional.
func ParseCandidate(s string) (Candidate, error) {
	in := s
	fail := func(reason string) (Candidate, error) { return Candidate{}, &ParseError{Input: in, Reason: reason} }
	s = strings.TrimRight(s, "\r\n")
	s = strings.TrimPrefix(s, "a=")
	s = strings.TrimPrefix(s, "candidate:")
	f := strings.Fields(s)
	if len(f) < 8 || f[6] != "typ" {
		return fail("want FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE")
	}
	var c Candidate
	c.Foundation = f[0]
	if len(c.Foundation) > 32 || !iceChars(c.Foundation) {
		return fail("bad foundation")
	}
	comp, err := strconv.Atoi(f[1])
	if err != nil || comp < 1 || comp > 256 || !digits(f[1]) {
		return fail("bad component")
	}
	c.Component = comp
	c.Transport = f[2]
	if !strings.EqualFold(c.Transport, "udp") && !strings.EqualFold(c.Transport, "tcp") {
		return fail("unknown transport")
	}
	prio, err := strconv.ParseUint(f[3], 10, 32)
	if err != nil || !digits(f[3]) {
		return fail("bad priority")
	}
	c.Priority = uint32(prio)
	c.Address = f[4]
	if net.ParseIP(c.Address) == nil && !validHost(c.Address) {
		return fail("bad address")
	}
	port, err := strconv.Atoi(f[5])
	if err != nil || port < 0 || port > 65535 || !digits(f[5]) {
		return fail("bad port")
	}
	c.Port = port
	c.Type = f[7]
	switch c.Type {
	case "host", "srflx", "prflx", "relay":
	default:
		return fail("unknown candidate type")
	}
	rest := f[8:]
	// raddr and rport go together (RFC 5245 §15.1 sends both for
	// reflexive and relayed candidates).
	if len(rest) >= 1 && (rest[0] == "raddr" || rest[0] == "rport") {
		if len(rest) < 4 || rest[0] != "raddr" || rest[2] != "rport" {
			return fail("want raddr ADDRESS rport PORT")
		}
		if net.ParseIP(rest[1]) == nil && !validHost(rest[1]) {
			return fail("bad raddr")
		}
		p, err := strconv.Atoi(rest[3])
		if err != nil || p < 0 || p > 65535 || !digits(rest[3]) {
			return fail("bad rport")
		}
		c.RelAddr, c.RelPort = rest[1], p
		rest = rest[4:]
	}
	if len(rest)%2 != 0 {
		return fail("extension without value")
	}
	for i := 0; i < len(rest); i += 2 {
		c.Extensions = append(c.Extensions, rest[i]+" "+rest[i+1])
	}
	return c, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// iceChars reports whether s uses only ice-char (ALPHA / DIGIT / "+" / "/").
func iceChars(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '/') {
			return false
		}
	}
	return s != ""
}

// validHost accepts an FQDN-like token (for mDNS .local names).
func validHost(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return s != ""
}

// Remote is what the remote SDP says about ICE for one media stream.
type Remote struct {
	Ufrag, Pwd string
	Candidates []Candidate
	// Lite is set by a=ice-lite.
	Lite bool
}

// HasICE reports whether the remote m-line carries ICE (credentials and at
// least one candidate), the reference's condition for using ICE when
// answering.
func (r Remote) HasICE() bool {
	return r.Ufrag != "" && r.Pwd != "" && len(r.Candidates) > 0
}

// ParseAttributes extracts ICE data from SDP attribute lines (with or
// without "a="). Other attributes are ignored; a malformed ICE attribute is
// an error.
func ParseAttributes(attrs []string) (Remote, error) {
	var r Remote
	for _, a := range attrs {
		a = strings.TrimPrefix(strings.TrimRight(a, "\r\n"), "a=")
		name, value, _ := strings.Cut(a, ":")
		switch name {
		case "ice-ufrag":
			if len(value) < 4 || len(value) > 256 || !iceChars(value) {
				return Remote{}, &ParseError{Input: a, Reason: "ice-ufrag must be 4-256 ice-chars"}
			}
			r.Ufrag = value
		case "ice-pwd":
			// RFC 5245 asks for 22-256 characters, but older peers (the
			// seed's Blink offer) send 8: accept any ice-chars.
			if len(value) > 256 || !iceChars(value) {
				return Remote{}, &ParseError{Input: a, Reason: "bad ice-pwd"}
			}
			r.Pwd = value
		case "ice-lite":
			r.Lite = true
		case "candidate":
			c, err := ParseCandidate(value)
			if err != nil {
				return Remote{}, err
			}
			r.Candidates = append(r.Candidates, c)
		}
	}
	return r, nil
}
