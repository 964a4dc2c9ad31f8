package iscomposing

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MIME type and XML namespace of an is-composing document (RFC 3994 §4).
const (
	ContentType = "application/im-iscomposing+xml"
	Namespace   = "urn:ietf:params:xml:ns:im-iscomposing"
)

// State is the composition state of RFC 3994.
type State string

// The two states.
const (
	StateIdle   State = "idle"
	StateActive State = "active"
)

// String returns the state as written in a document.
func (s State) String() string { return string(s) }

// Valid reports whether s is one of the two states.
func (s State) Valid() bool { return s == StateIdle || s == StateActive }

// Document is one is-composing indication.
type Document struct {
	// State is StateActive or StateIdle.
	State State
	// LastActive is when the composer was last active, to the microsecond;
	// zero when absent.
	LastActive time.Time
	// ContentType is the kind of content being composed, such as "text"
	// (the reference always sends "text"); "" when absent.
	ContentType string
	// Refresh is the refresh interval of an active state in seconds; 0 when
	// absent, which the receiver reads as 120 (RFC 3994 §3.3).
	Refresh int
}

// wireDocument is the XML form; children of other namespaces are ignored.
type wireDocument struct {
	XMLName     xml.Name
	State       *string `xml:"urn:ietf:params:xml:ns:im-iscomposing state"`
	LastActive  *string `xml:"urn:ietf:params:xml:ns:im-iscomposing lastactive"`
	ContentType *string `xml:"urn:ietf:params:xml:ns:im-iscomposing contenttype"`
	Refresh     *string `xml:"urn:ietf:params:xml:ns:im-iscomposing refresh"`
}

// lastActiveLayout is RFC 3339 with up to six fractional digits, the
// precision the reference SDK uses; Parse keeps microseconds too.
const lastActiveLayout = "2006-01-02T15:04:05.999999Z07:00"

// Parse reads an application/im-iscomposing+xml document. Errors wrap
// ErrMalformed and one of the specific sentinels.
func Parse(data []byte) (*Document, error) {
	var w wireDocument
	if err := xml.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("iscomposing: %w: %w", ErrBadXML, err)
	}
	if w.XMLName.Space != Namespace || w.XMLName.Local != "isComposing" {
		return nil, fmt.Errorf("iscomposing: %w: got {%s}%s", ErrWrongRoot, w.XMLName.Space, w.XMLName.Local)
	}
	var d Document
	if w.State == nil {
		return nil, fmt.Errorf("iscomposing: %w: no state element", ErrInvalidState)
	}
	d.State = State(strings.TrimSpace(*w.State))
	if !d.State.Valid() {
		return nil, fmt.Errorf("iscomposing: %w: %q", ErrInvalidState, *w.State)
	}
	if w.LastActive != nil {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*w.LastActive))
		if err != nil || t.IsZero() {
			return nil, fmt.Errorf("iscomposing: %w: %q", ErrInvalidLastActive, *w.LastActive)
		}
		d.LastActive = t.Truncate(time.Microsecond)
	}
	if w.ContentType != nil {
		d.ContentType = strings.TrimSpace(*w.ContentType)
	}
	if w.Refresh != nil {
		n, err := strconv.Atoi(strings.TrimSpace(*w.Refresh))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("iscomposing: %w: %q", ErrInvalidRefresh, *w.Refresh)
		}
		d.Refresh = n
	}
	return &d, nil
}

// Marshal writes the document: an XML declaration, then isComposing with
// state, lastactive, contenttype and refresh, leaving out what is absent.
// A State other than active is written as idle, as the reference does.
func (d *Document) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<isComposing xmlns="` + Namespace + `">`)
	elem := func(name, value string) {
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(&b, []byte(value)) // a bytes.Buffer never fails
		b.WriteString("</" + name + ">")
	}
	state := StateIdle
	if d.State == StateActive {
		state = StateActive
	}
	elem("state", string(state))
	if !d.LastActive.IsZero() {
		elem("lastactive", d.LastActive.Format(lastActiveLayout))
	}
	if d.ContentType != "" {
		elem("contenttype", d.ContentType)
	}
	if d.Refresh > 0 {
		elem("refresh", strconv.Itoa(d.Refresh))
	}
	b.WriteString("</isComposing>\n")
	return b.Bytes()
}
