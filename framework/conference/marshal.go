package conference

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// escape writes s as XML character data: "&", "<" and ">" always, "\""
// and white space other than the space in attribute values (which a
// parser would normalise), CR everywhere (which a parser turns into LF).
// A character XML cannot carry (a control character, invalid UTF-8)
// becomes U+FFFD.
func escape(b *bytes.Buffer, s string, attr bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#xD;")
		case (r == '\n' || r == '\t') && attr:
			b.WriteString("&#x" + strconv.FormatInt(int64(r), 16) + ";")
		case r == utf8.RuneError && n == 1, !isXMLChar(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}

// isXMLChar reports whether r may appear in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// writer writes indented XML.
type writer struct {
	b     bytes.Buffer
	depth int
}

func (w *writer) indent() {
	w.b.WriteString(strings.Repeat("  ", w.depth))
}

// open writes <name attr="v"...>; attrs are name, value pairs, empty
// values left out.
func (w *writer) open(name string, attrs ...string) {
	w.indent()
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		w.b.WriteByte(' ')
		w.b.WriteString(attrs[i])
		w.b.WriteString(`="`)
		escape(&w.b, attrs[i+1], true)
		w.b.WriteByte('"')
	}
	w.b.WriteString(">\n")
	w.depth++
}

func (w *writer) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + name + ">\n")
}

// text writes <name>value</name>, or nothing when value is empty.
func (w *writer) text(name, value string) {
	if value == "" {
		return
	}
	w.always(name, value)
}

// always writes <name>value</name> even when value is empty.
func (w *writer) always(name, value string) {
	w.indent()
	w.b.WriteString("<" + name + ">")
	escape(&w.b, value, false)
	w.b.WriteString("</" + name + ">\n")
}

// Marshal writes the document: an XML declaration, then conference-info
// in the default namespace with its children in the order of the RFC 4575
// schema, indented by two spaces. Absent elements and attributes (empty
// strings, nil pointers and slices) are left out; a nil slice and an empty
// one differ only for roles, languages, keywords and the URI and media
// lists, which are written as empty elements.
func (i *Info) Marshal() []byte {
	var w writer
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	version := ""
	if i.HasVersion {
		version = strconv.FormatUint(uint64(i.Version), 10)
	}
	w.open("conference-info", "xmlns", Namespace, "entity", i.Entity, "state", string(i.State), "version", version)
	if d := i.Description; d != nil {
		w.open("conference-description")
		w.text("display-text", d.DisplayText)
		w.text("subject", d.Subject)
		w.text("free-text", d.FreeText)
		if d.Keywords != nil {
			w.always("keywords", strings.Join(d.Keywords, " "))
		}
		writeURIs(&w, "conf-uris", d.ConfURIs)
		writeURIs(&w, "service-uris", d.ServiceURIs)
		if d.MaximumUserCount != nil {
			w.always("maximum-user-count", strconv.FormatUint(uint64(*d.MaximumUserCount), 10))
		}
		if d.AvailableMedia != nil {
			w.open("available-media")
			for _, m := range d.AvailableMedia {
				w.open("entry", "label", m.Label)
				w.text("display-text", m.DisplayText)
				w.text("type", m.Type)
				w.text("status", string(m.Status))
				w.close("entry")
			}
			w.close("available-media")
		}
		w.close("conference-description")
	}
	if c := i.ConferenceState; c != nil {
		w.open("conference-state")
		if c.UserCount != nil {
			w.always("user-count", strconv.FormatUint(uint64(*c.UserCount), 10))
		}
		if c.Active != nil {
			w.always("active", strconv.FormatBool(*c.Active))
		}
		if c.Locked != nil {
			w.always("locked", strconv.FormatBool(*c.Locked))
		}
		w.close("conference-state")
	}
	if i.UsersState != "" || len(i.Users) > 0 {
		w.open("users", "state", string(i.UsersState))
		for _, u := range i.Users {
			writeUser(&w, &u)
		}
		w.close("users")
	}
	w.close("conference-info")
	return w.b.Bytes()
}

func writeURIs(w *writer, name string, entries []URIEntry) {
	if entries == nil {
		return
	}
	w.open(name)
	for _, e := range entries {
		w.open("entry")
		w.always("uri", e.URI)
		w.text("display-text", e.DisplayText)
		w.text("purpose", e.Purpose)
		w.close("entry")
	}
	w.close(name)
}

func writeUser(w *writer, u *User) {
	w.open("user", "entity", u.Entity, "state", string(u.State))
	w.text("display-text", u.DisplayText)
	if u.Roles != nil {
		w.open("roles")
		for _, r := range u.Roles {
			w.always("entry", r)
		}
		w.close("roles")
	}
	if u.Languages != nil {
		w.always("languages", strings.Join(u.Languages, " "))
	}
	for _, e := range u.Endpoints {
		writeEndpoint(w, &e)
	}
	w.close("user")
}

func writeEndpoint(w *writer, e *Endpoint) {
	w.open("endpoint", "entity", e.Entity, "state", string(e.State))
	w.text("display-text", e.DisplayText)
	writeExecution(w, "referred", e.Referred)
	w.text("status", string(e.Status))
	w.text("joining-method", string(e.JoiningMethod))
	writeExecution(w, "joining-info", e.JoiningInfo)
	w.text("disconnection-method", string(e.DisconnectionMethod))
	writeExecution(w, "disconnection-info", e.DisconnectionInfo)
	for _, m := range e.Media {
		w.open("media", "id", m.ID)
		w.text("display-text", m.DisplayText)
		w.text("type", m.Type)
		w.text("label", m.Label)
		w.text("src-id", m.SrcID)
		w.text("status", string(m.Status))
		w.close("media")
	}
	if c := e.CallInfo; c != nil {
		w.open("call-info")
		w.open("sip")
		w.text("display-text", c.DisplayText)
		w.always("call-id", c.CallID)
		w.always("from-tag", c.FromTag)
		w.always("to-tag", c.ToTag)
		w.close("sip")
		w.close("call-info")
	}
	w.close("endpoint")
}

func writeExecution(w *writer, name string, x *Execution) {
	if x == nil {
		return
	}
	w.open(name)
	if !x.When.IsZero() {
		w.always("when", x.When.Format(time.RFC3339Nano))
	}
	w.text("reason", x.Reason)
	w.text("by", x.By)
	w.close(name)
}
