package cpim

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Parse reads a Message/CPIM payload (the body of an MSRP SEND or SIP
// MESSAGE whose Content-Type is message/cpim). Line ends may be CRLF or LF.
// Errors are *HeaderError values wrapping ErrMalformed and a specific
// sentinel.
func Parse(data []byte) (*Message, error) {
	lines, rest, ok := headerBlock(data, 0)
	if !ok {
		return nil, &HeaderError{Line: len(lines) + 1, Err: ErrNoContent}
	}
	m := new(Message)
	for _, l := range lines {
		if err := m.addHeader(l); err != nil {
			return nil, err
		}
	}
	first := 1
	if len(lines) > 0 {
		first = lines[len(lines)-1].num + 1
	}
	content, body, _ := headerBlock(rest, first)
	for _, l := range content {
		name, value, err := splitName(l)
		if err != nil {
			return nil, err
		}
		value = strings.Trim(value, " \t")
		switch {
		case strings.EqualFold(name, "Content-Type") && m.ContentType == "":
			m.ContentType = value
		case strings.EqualFold(name, "Content-ID") && m.ContentID == "":
			m.ContentID = value
		default:
			m.ContentHeaders = append(m.ContentHeaders, Field{Name: name, Value: value})
		}
	}
	if len(body) > 0 {
		m.Body = bytes.Clone(body)
	}
	return m, nil
}

// line is one logical header line: continuation lines are already joined.
type line struct {
	num  int // 1-based number of its first physical line
	text string
}

// headerBlock splits data into header lines up to the first empty line and
// returns them with what follows that line. ok is false when data ends
// before an empty line. Line numbers count from after. The lines are
// slices of one string, made once for the whole block.
func headerBlock(data []byte, after int) (lines []line, rest []byte, ok bool) {
	end := len(data) // the block is data[:end]
	for i := 0; i < len(data); {
		lineEnd, next := len(data), len(data)
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			lineEnd, next = i+j, i+j+1
		}
		if lineEnd == i || lineEnd == i+1 && data[i] == '\r' {
			end, ok = i, true
			if next < len(data) || lineEnd < len(data) {
				rest = data[next:] // after the empty line's '\n'
			}
			break
		}
		i = next
	}
	block := string(data[:end])
	lines = make([]line, 0, strings.Count(block, "\n")+1)
	num := after
	for len(block) > 0 {
		num++
		var raw string
		if i := strings.IndexByte(block, '\n'); i >= 0 {
			raw, block = block[:i], block[i+1:]
		} else {
			raw, block = block, ""
		}
		raw = strings.TrimSuffix(raw, "\r")
		if (raw[0] == ' ' || raw[0] == '\t') && len(lines) > 0 {
			last := &lines[len(lines)-1]
			last.text += " " + strings.TrimLeft(raw, " \t")
			continue
		}
		lines = append(lines, line{num: num, text: raw})
	}
	return lines, rest, ok
}

// splitName splits `Name: rest` at the colon. The name must be a token.
func splitName(l line) (name, rest string, err error) {
	name, rest, found := strings.Cut(l.text, ":")
	if !found || !isToken(name, true) {
		return "", "", &HeaderError{Line: l.num, Err: fmt.Errorf("%w: %q", ErrHeaderSyntax, l.text)}
	}
	return name, rest, nil
}

// splitParams splits what follows a CPIM header's colon into the parameters
// (from a ';' right after the colon up to the first space, RFC 3862 §3.2)
// and the value, with surrounding blanks removed.
func splitParams(rest string) (params, value string) {
	if strings.HasPrefix(rest, ";") {
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			params, rest = rest[:i], rest[i:]
		} else {
			params, rest = rest, ""
		}
	}
	return params, strings.Trim(rest, " \t")
}

// isToken reports whether s is a non-empty run of token characters: visible
// ASCII except the separators of RFC 2045 (and '.', unless dot is true).
func isToken(s string, dot bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 || (c == '.' && !dot) {
			return false
		}
	}
	return true
}

// addHeader files one CPIM message header into m.
func (m *Message) addHeader(l line) error {
	name, rest, err := splitName(l)
	if err != nil {
		return err
	}
	params, value := splitParams(rest)
	fail := func(sentinel error, cause error) error {
		if cause != nil {
			sentinel = fmt.Errorf("%w: %q: %w", sentinel, value, cause)
		}
		return &HeaderError{Line: l.num, Name: name, Err: sentinel}
	}
	switch {
	case strings.EqualFold(name, "From"):
		if !m.From.IsZero() {
			return fail(ErrDuplicateHeader, nil)
		}
		dn, uri, err := splitNameURI(value)
		if err != nil {
			return fail(ErrInvalidAddress, err)
		}
		m.From = Address{DisplayName: dn, URI: uri}
	case strings.EqualFold(name, "To"), strings.EqualFold(name, "cc"):
		dn, uri, err := splitNameURI(value)
		if err != nil {
			return fail(ErrInvalidAddress, err)
		}
		a := Address{DisplayName: dn, URI: uri}
		if strings.EqualFold(name, "To") {
			m.To = append(m.To, a)
		} else {
			m.CC = append(m.CC, a)
		}
	case strings.EqualFold(name, "Subject"):
		m.Subject = append(m.Subject, Subject{Lang: langOf(params), Text: value})
	case strings.EqualFold(name, "DateTime"):
		if !m.DateTime.IsZero() {
			return fail(ErrDuplicateHeader, nil)
		}
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil || t.IsZero() {
			return fail(ErrInvalidDateTime, err)
		}
		m.DateTime = t.Truncate(time.Microsecond)
	case strings.EqualFold(name, "Require"), strings.EqualFold(name, "Required"):
		for _, r := range strings.Split(value, ",") {
			if r = strings.Trim(r, " \t"); r != "" {
				m.Required = append(m.Required, r)
			}
		}
	case strings.EqualFold(name, "NS"):
		prefix, uri, err := splitNameURI(value)
		if err != nil {
			return fail(ErrInvalidNamespace, err)
		}
		if prefix != "" && !isToken(prefix, false) {
			return fail(ErrInvalidNamespace, fmt.Errorf("prefix %q is not a token", prefix))
		}
		m.Namespaces = append(m.Namespaces, Namespace{Prefix: prefix, URI: uri})
	default:
		prefix, local, dotted := strings.Cut(name, ".")
		if !dotted {
			prefix, local = "", name
		}
		if prefix == "" && dotted || !isToken(local, true) {
			return fail(ErrHeaderSyntax, nil)
		}
		m.Headers = append(m.Headers, Header{Prefix: prefix, Name: local, Params: params, Value: value})
	}
	return nil
}

// langOf returns the lang parameter of a header's raw parameters.
func langOf(params string) string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.Trim(k, " \t"), "lang") {
			return strings.Trim(v, " \t\"")
		}
	}
	return ""
}
