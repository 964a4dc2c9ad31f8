package cpim

import (
	"strings"
	"time"
)

// Message is a parsed Message/CPIM payload: the CPIM message headers and the
// encapsulated MIME object (its content headers and body).
type Message struct {
	// From is the sender; the zero Address when the header is absent.
	From Address
	// To holds one address per To header, in order.
	To []Address
	// CC holds one address per cc header (courtesy recipients), in order.
	CC []Address
	// Subject holds the Subject headers in order; each may carry a
	// language tag (`Subject:;lang=fr ...`, RFC 3862 §3.3).
	Subject []Subject
	// DateTime is the sending time; the zero Time when absent. It is
	// written, and read, with microsecond precision.
	DateTime time.Time
	// Required lists the header names the receiver must understand
	// (the Require header, RFC 3862 §4.6).
	Required []string
	// Namespaces holds the NS declarations in order (RFC 3862 §3.4).
	Namespaces []Namespace
	// Headers holds every other message header in order: prefixed
	// extension headers and unknown headers of the default namespace.
	Headers []Header

	// ContentType is the Content-Type of the encapsulated object.
	ContentType string
	// ContentID is its Content-ID, when it has one.
	ContentID string
	// ContentHeaders holds the other headers of the encapsulated object
	// (MIME-Version, Content-Transfer-Encoding, ...) in order.
	ContentHeaders []Field
	// Body is the content, byte for byte.
	Body []byte
}

// Subject is one Subject header: the text and its language tag, "" when
// untagged.
type Subject struct {
	Lang string
	Text string
}

// Namespace is an NS declaration binding a header-name prefix to a
// namespace URI; an empty Prefix declares the default namespace.
type Namespace struct {
	Prefix string
	URI    string
}

// Header is a CPIM message header outside the standard set:
// `Prefix.Name:Params Value`. Params is the raw parameter text
// (such as ";lang=en"), "" when there is none.
type Header struct {
	Prefix string
	Name   string
	Params string
	Value  string
}

// FullName returns the header name as written: "Prefix.Name" or "Name".
func (h Header) FullName() string {
	if h.Prefix == "" {
		return h.Name
	}
	return h.Prefix + "." + h.Name
}

// Field is a plain `Name: value` header of the encapsulated MIME object.
type Field struct {
	Name  string
	Value string
}

// DefaultNamespace is the namespace of unprefixed CPIM headers
// (RFC 3862 §3.4).
const DefaultNamespace = "urn:ietf:params:cpim-headers:"

// NamespaceURI returns the URI bound to prefix by the last NS declaration
// for it; for the empty prefix without a declaration it is DefaultNamespace.
func (m *Message) NamespaceURI(prefix string) (string, bool) {
	for i := len(m.Namespaces) - 1; i >= 0; i-- {
		if m.Namespaces[i].Prefix == prefix {
			return m.Namespaces[i].URI, true
		}
	}
	if prefix == "" {
		return DefaultNamespace, true
	}
	return "", false
}

// Lookup returns the value of the first extension header named name in the
// namespace uri, whatever prefix the sender bound to it.
func (m *Message) Lookup(uri, name string) (string, bool) {
	for _, h := range m.Headers {
		if h.Name != name {
			continue
		}
		if u, ok := m.NamespaceURI(h.Prefix); ok && u == uri {
			return h.Value, true
		}
	}
	return "", false
}

// dateTimeLayout writes RFC 3339 with up to six fractional digits: the
// reference SDK sends and expects microseconds.
const dateTimeLayout = "2006-01-02T15:04:05.999999Z07:00"

// Marshal returns the payload with CRLF line ends: From, To, cc, Subject,
// DateTime, Require, the NS declarations and the other headers, a blank
// line, then Content-Type, Content-ID, the other content headers, a blank
// line and the body. Line breaks inside values are written as spaces.
func (m *Message) Marshal() []byte {
	var b strings.Builder
	line := func(name, params, value string) {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(oneLine(params))
		if value != "" {
			b.WriteByte(' ')
			b.WriteString(oneLine(value))
		}
		b.WriteString("\r\n")
	}
	if !m.From.IsZero() {
		line("From", "", m.From.String())
	}
	for _, a := range m.To {
		line("To", "", a.String())
	}
	for _, a := range m.CC {
		line("cc", "", a.String())
	}
	for _, s := range m.Subject {
		params := ""
		if s.Lang != "" {
			params = ";lang=" + s.Lang
		}
		line("Subject", params, s.Text)
	}
	if !m.DateTime.IsZero() {
		line("DateTime", "", m.DateTime.Format(dateTimeLayout))
	}
	if len(m.Required) > 0 {
		line("Require", "", strings.Join(m.Required, ","))
	}
	for _, ns := range m.Namespaces {
		v := "<" + ns.URI + ">"
		if ns.Prefix != "" {
			v = ns.Prefix + " " + v
		}
		line("NS", "", v)
	}
	for _, h := range m.Headers {
		params := h.Params
		if params != "" && !strings.HasPrefix(params, ";") {
			params = ";" + params
		}
		line(h.FullName(), params, h.Value)
	}
	b.WriteString("\r\n")
	if m.ContentType != "" {
		line("Content-Type", "", m.ContentType)
	}
	if m.ContentID != "" {
		line("Content-ID", "", m.ContentID)
	}
	for _, f := range m.ContentHeaders {
		line(f.Name, "", f.Value)
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return []byte(b.String())
}

// oneLine replaces line feeds, which would end the header, with spaces.
func oneLine(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	return strings.ReplaceAll(s, "\n", " ")
}
