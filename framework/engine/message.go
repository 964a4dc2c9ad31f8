package engine

import (
	"bytes"
	"strings"
)

// rawMessage is a SIP message cut into its start line, header fields and
// body without interpreting the values (RFC 3261 §7): what the engine
// looks at before sipgo parses a message, and what it answers from when
// sipgo cannot parse it at all.
type rawMessage struct {
	// start is the start line, as written.
	start string
	// headers are the header fields in order, folded lines joined.
	headers []rawHeader
	// body is what follows the blank line after the headers: on a stream
	// the framer cut it to Content-Length; in a datagram it is the rest of
	// the datagram.
	body []byte
	// ended reports that a blank line ended the headers.
	ended bool
	// badLine is the first line that is neither a header field nor a
	// continuation ("" when there is none).
	badLine string
	// bareEOL reports a CR or LF in the start line or headers that is not
	// part of a CRLF: a line break sipgo would keep inside a value.
	bareEOL bool
}

// rawHeader is one header field.
type rawHeader struct {
	// name is canonical: compact forms expanded and the names the engine
	// checks in their RFC 3261 spelling ("Call-ID" for "i" and "call-id");
	// other names as written.
	name string
	// value has its folds replaced by single spaces and is trimmed.
	value string
}

// compactForms maps the compact header names of RFC 3261 §7.3.3 (and
// later RFCs) to the full names.
var compactForms = map[string]string{
	"a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
	"e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact",
	"k": "Supported", "l": "Content-Length", "m": "Contact", "o": "Event",
	"r": "Refer-To", "s": "Subject", "t": "To", "u": "Allow-Events", "v": "Via",
	"x": "Session-Expires", "y": "Identity",
}

// checkedNames are the header names the engine checks, in their RFC 3261
// spelling.
var checkedNames = [...]string{
	"Accept", "Call-ID", "Contact", "Content-Encoding", "Content-Length", "Content-Type", "CSeq",
	"Date", "From", "Max-Forwards", "Require", "To", "Via",
}

// canonicalName returns the canonical spelling of a header name.
func canonicalName(name string) string {
	if len(name) == 1 {
		c := name[0]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if full, ok := compactForms[string(c)]; ok {
			return full
		}
	}
	for _, n := range checkedNames {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return n
		}
	}
	return name
}

var crlfcrlf = []byte("\r\n\r\n")

// scanMessage cuts data into a rawMessage. It never fails: what it cannot
// make sense of is recorded (badLine, ended, bareEOL) for the checks to
// judge. The start line and header values are substrings of one copy of
// the header section.
func scanMessage(data []byte) rawMessage {
	var m rawMessage
	headBytes := data
	if end := bytes.Index(data, crlfcrlf); end >= 0 {
		headBytes, m.body, m.ended = data[:end], data[end+4:], true
	}
	crlfs := bytes.Count(headBytes, []byte("\r\n"))
	m.bareEOL = bytes.Count(headBytes, []byte("\r")) != crlfs || bytes.Count(headBytes, []byte("\n")) != crlfs
	head := string(headBytes)
	m.headers = make([]rawHeader, 0, crlfs)
	first, joinable := true, false
	for len(head) > 0 || first {
		line, rest, _ := strings.Cut(head, "\r\n")
		head = rest
		if first {
			m.start = line
			first = false
			continue
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if joinable {
				h := &m.headers[len(m.headers)-1]
				h.value = strings.TrimSpace(h.value + " " + strings.TrimSpace(line))
			} else if len(m.headers) == 0 {
				m.noteBad(line) // a fold with nothing to continue
			}
			continue // the fold of a bad line belongs to it
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimRight(name, " \t")
		if !ok || !isTokenString(name) {
			m.noteBad(line)
			joinable = false
			continue
		}
		joinable = true
		m.headers = append(m.headers, rawHeader{name: canonicalName(name), value: strings.TrimSpace(value)})
	}
	return m
}

func (m *rawMessage) noteBad(line string) {
	if m.badLine == "" {
		m.badLine = line
		if m.badLine == "" {
			m.badLine = "(empty line)"
		}
	}
}

// values returns the values of every header field named name (canonical).
func (m *rawMessage) values(name string) []string {
	var out []string
	for _, h := range m.headers {
		if h.name == name {
			out = append(out, h.value)
		}
	}
	return out
}

// count returns how many header fields are named name.
func (m *rawMessage) count(name string) int {
	n := 0
	for _, h := range m.headers {
		if h.name == name {
			n++
		}
	}
	return n
}

// first returns the value of the first header field named name.
func (m *rawMessage) first(name string) (string, bool) {
	for _, h := range m.headers {
		if h.name == name {
			return h.value, true
		}
	}
	return "", false
}

// isResponse reports whether the start line is a status line.
func (m *rawMessage) isResponse() bool {
	return len(m.start) >= 4 && strings.EqualFold(m.start[:4], "SIP/")
}

// requestLine splits a Request-Line (RFC 3261 §7.1): exactly three
// elements separated by single spaces, nothing before or after.
func (m *rawMessage) requestLine() (method, uri, version string, ok bool) {
	parts := strings.Split(m.start, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	if !isTokenString(parts[0]) || strings.ContainsAny(m.start, "\t\x00") {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// isTokenString is isToken for a string.
func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isToken reports whether b is an RFC 3261 §25.1 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// parseVersion reads "SIP/major.minor" (case-insensitive "SIP").
func parseVersion(v string) (major, minor string, ok bool) {
	if len(v) < 4 || !strings.EqualFold(v[:4], "SIP/") {
		return "", "", false
	}
	major, minor, ok = strings.Cut(v[4:], ".")
	if !ok || !isDigits(major) || !isDigits(minor) {
		return "", "", false
	}
	return major, minor, true
}

// isDigits reports whether s is 1*DIGIT.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
