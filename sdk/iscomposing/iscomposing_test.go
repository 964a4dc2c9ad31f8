package iscomposing

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the *.golden.xml files")

func sameDocument(a, b *Document) bool {
	x, y := *a, *b
	if !x.LastActive.Equal(y.LastActive) {
		return false
	}
	x.LastActive, y.LastActive = time.Time{}, time.Time{}
	return x == y
}

func TestParseGolden(t *testing.T) {
	tests := []struct {
		file string
		want Document
	}{
		{"rfc3994_idle.xml", Document{State: StateIdle, LastActive: time.Date(2003, 1, 27, 10, 43, 0, 0, time.UTC), ContentType: "audio"}},
		{"rfc3994_active.xml", Document{State: StateActive, ContentType: "text", Refresh: 90}},
		{"prefixed_extension.xml", Document{State: StateActive, LastActive: time.Date(2024, 5, 1, 8, 11, 12, 5e8, time.UTC), ContentType: "text & images"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameDocument(got, &tt.want) {
				t.Fatalf("Parse = %#v, want %#v", got, tt.want)
			}
			out := got.Marshal()
			golden := filepath.Join("testdata", strings.TrimSuffix(tt.file, ".xml")+".golden")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("Marshal:\n got %s\nwant %s", out, want)
			}
			back, err := Parse(out)
			if err != nil || !sameDocument(back, got) {
				t.Fatalf("Parse(Marshal) = %#v, %v; want %#v", back, err, got)
			}
		})
	}
}

func TestMarshalReferenceOrder(t *testing.T) {
	d := Document{State: StateActive, LastActive: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), ContentType: "text", Refresh: 120}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state>` +
		`<lastactive>2024-05-01T10:00:00Z</lastactive><contenttype>text</contenttype><refresh>120</refresh></isComposing>` + "\n"
	if got := string(d.Marshal()); got != want {
		t.Fatalf("Marshal:\n got %s\nwant %s", got, want)
	}
	odd := Document{State: "typing"}
	if got, err := Parse(odd.Marshal()); err != nil || got.State != StateIdle {
		t.Fatalf("a state other than active must be written as idle; got %+v, %v", got, err)
	}
}

func TestParseErrors(t *testing.T) {
	const ns = `xmlns="urn:ietf:params:xml:ns:im-iscomposing"`
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrBadXML},
		{"not xml", "active", ErrBadXML},
		{"unclosed", `<isComposing ` + ns + `><state>active</state>`, ErrBadXML},
		{"no namespace", `<isComposing><state>active</state></isComposing>`, ErrWrongRoot},
		{"wrong root", `<composing ` + ns + `><state>active</state></composing>`, ErrWrongRoot},
		{"no state", `<isComposing ` + ns + `><refresh>60</refresh></isComposing>`, ErrInvalidState},
		{"bad state", `<isComposing ` + ns + `><state>typing</state></isComposing>`, ErrInvalidState},
		{"state in other namespace", `<isComposing ` + ns + `><state xmlns="urn:x">active</state></isComposing>`, ErrInvalidState},
		{"zero refresh", `<isComposing ` + ns + `><state>active</state><refresh>0</refresh></isComposing>`, ErrInvalidRefresh},
		{"word refresh", `<isComposing ` + ns + `><state>active</state><refresh>soon</refresh></isComposing>`, ErrInvalidRefresh},
		{"bad lastactive", `<isComposing ` + ns + `><state>idle</state><lastactive>27/01/2003</lastactive></isComposing>`, ErrInvalidLastActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v, want %v and ErrMalformed", err, tt.want)
			}
		})
	}
}

// clock is a fake time source that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestSender(t *testing.T) {
	type step struct {
		advance time.Duration
		action  string // "type", "sent" or "tick"
		want    State  // state of the document returned; "" for none
		state   State  // Sender state afterwards
	}
	tests := []struct {
		name  string
		opts  []Option
		steps []step
	}{
		{"typing goes active once", nil, []step{
			{0, "type", StateActive, StateActive},
			{time.Second, "type", "", StateActive},
			{10 * time.Second, "tick", "", StateActive},
		}},
		{"idle after 15 s without typing", nil, []step{
			{0, "type", StateActive, StateActive},
			{14 * time.Second, "tick", "", StateActive},
			{time.Second, "tick", StateIdle, StateIdle},
			{time.Hour, "tick", "", StateIdle},
		}},
		{"typing postpones idle", nil, []step{
			{0, "type", StateActive, StateActive},
			{10 * time.Second, "type", "", StateActive},
			{10 * time.Second, "tick", "", StateActive},
			{5 * time.Second, "tick", StateIdle, StateIdle},
		}},
		{"active state is refreshed", []Option{WithRefresh(60 * time.Second)}, []step{
			{0, "type", StateActive, StateActive},
			{14 * time.Second, "type", "", StateActive},
			{14 * time.Second, "type", "", StateActive},
			{14 * time.Second, "type", "", StateActive},
			{14 * time.Second, "type", "", StateActive},
			{4 * time.Second, "tick", StateActive, StateActive},
			{time.Second, "type", "", StateActive},
		}},
		{"refresh due at a keystroke", []Option{WithRefresh(20 * time.Second), WithIdleTimeout(time.Minute)}, []step{
			{0, "type", StateActive, StateActive},
			{20 * time.Second, "type", StateActive, StateActive},
		}},
		{"sending the message goes idle silently", nil, []step{
			{0, "type", StateActive, StateActive},
			{time.Second, "sent", "", StateIdle},
			{time.Minute, "tick", "", StateIdle},
			{0, "type", StateActive, StateActive},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
			s := NewSender(append([]Option{WithClock(c.now)}, tt.opts...)...)
			for i, st := range tt.steps {
				c.advance(st.advance)
				var d *Document
				switch st.action {
				case "type":
					d = s.Typed()
				case "sent":
					s.Sent()
				case "tick":
					if next := s.Next(); !next.IsZero() && c.t.Before(next) && st.want != "" {
						t.Fatalf("step %d: Next() = %v is after now %v yet a document is due", i, next, c.t)
					}
					d = s.Tick()
				}
				var got State
				if d != nil {
					got = d.State
				}
				if got != st.want || s.State() != st.state {
					t.Fatalf("step %d (%s): document %q, state %q; want %q, %q", i, st.action, got, s.State(), st.want, st.state)
				}
			}
		})
	}
}

func TestSenderDocuments(t *testing.T) {
	c := &clock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	s := NewSender(WithClock(c.now), WithRefresh(90500*time.Millisecond), WithContentType("image"))
	d := s.Typed()
	if want := (Document{State: StateActive, ContentType: "image", Refresh: 91}); *d != want {
		t.Fatalf("active document %+v, want %+v", *d, want)
	}
	typedAt := c.t
	c.advance(DefaultIdleTimeout)
	if next := s.Next(); !next.Equal(c.t) {
		t.Fatalf("Next() = %v, want the idle timeout %v", next, c.t)
	}
	d = s.Tick()
	if d == nil || d.State != StateIdle || !d.LastActive.Equal(typedAt) || d.ContentType != "image" {
		t.Fatalf("idle document %+v, want idle with lastactive %v", d, typedAt)
	}
	if !s.Next().IsZero() {
		t.Fatalf("Next() of an idle sender = %v, want zero", s.Next())
	}
}

func TestReceiver(t *testing.T) {
	type step struct {
		advance time.Duration
		action  string // "active", "active90", "idle", "message" or "tick"
		changed bool
		state   State
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"active expires after the default refresh", []step{
			{0, "active", true, StateActive},
			{119 * time.Second, "tick", false, StateActive},
			{time.Second, "tick", true, StateIdle},
		}},
		{"document refresh is honoured", []step{
			{0, "active90", true, StateActive},
			{89 * time.Second, "tick", false, StateActive},
			{time.Second, "tick", true, StateIdle},
		}},
		{"a refresh restarts the timer", []step{
			{0, "active90", true, StateActive},
			{80 * time.Second, "active90", false, StateActive},
			{80 * time.Second, "tick", false, StateActive},
			{10 * time.Second, "tick", true, StateIdle},
		}},
		{"idle document", []step{
			{0, "active", true, StateActive},
			{time.Second, "idle", true, StateIdle},
			{time.Hour, "tick", false, StateIdle},
		}},
		{"message goes idle", []step{
			{0, "message", false, StateIdle},
			{0, "active", true, StateActive},
			{time.Second, "message", true, StateIdle},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
			r := NewReceiver(WithClock(c.now))
			for i, st := range tt.steps {
				c.advance(st.advance)
				var changed bool
				switch st.action {
				case "active":
					changed = r.Received(Document{State: StateActive})
				case "active90":
					changed = r.Received(Document{State: StateActive, Refresh: 90})
				case "idle":
					changed = r.Received(Document{State: StateIdle})
				case "message":
					changed = r.MessageReceived()
				case "tick":
					changed = r.Tick()
				}
				if changed != st.changed || r.State() != st.state {
					t.Fatalf("step %d (%s): changed %v, state %q; want %v, %q", i, st.action, changed, r.State(), st.changed, st.state)
				}
				if r.State() == StateIdle && !r.Next().IsZero() {
					t.Fatalf("step %d: idle receiver has Next() = %v", i, r.Next())
				}
			}
		})
	}
}
