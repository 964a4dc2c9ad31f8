package refer

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func mustURI(t testing.TB, s string) sip.Uri {
	t.Helper()
	u, err := parseURI(s)
	if err != nil {
		t.Fatalf("parseURI(%q): %s at %d", s, err.detail, err.off)
	}
	return u
}

// TestBuildReferTo checks the three Refer-To values the session layer
// sends, byte for byte, and that each reads back.
func TestBuildReferTo(t *testing.T) {
	carol := mustURI(t, "sip:carol@chicago.example.com;transport=tcp")
	tests := []struct {
		name   string
		rt     ReferTo
		want   string
		method string
	}{
		{"blind", NewReferTo(carol), "<sip:carol@chicago.example.com;transport=tcp>", "INVITE"},
		{"attended",
			NewReferTo(carol).WithReplaces(ReplacesFor("a84b4c76e66710@pc33.atlanta.example.com", "local-1", "remote-2")),
			"<sip:carol@chicago.example.com;transport=tcp?Replaces=a84b4c76e66710%40pc33.atlanta.example.com%3Bto-tag%3Dremote-2%3Bfrom-tag%3Dlocal-1>",
			"INVITE"},
		{"conference add", NewReferTo(carol).WithMethod("INVITE"), "<sip:carol@chicago.example.com;transport=tcp;method=INVITE>", "INVITE"},
		{"conference remove", NewReferTo(carol).WithMethod("BYE"), "<sip:carol@chicago.example.com;transport=tcp;method=BYE>", "BYE"},
		{"method replaced", NewReferTo(carol).WithMethod("INVITE").WithMethod("BYE"), "<sip:carol@chicago.example.com;transport=tcp;method=BYE>", "BYE"},
		{"display name", ReferTo{Address{DisplayName: `Carol "C"`, URI: carol}}, `"Carol \"C\"" <sip:carol@chicago.example.com;transport=tcp>`, "INVITE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rt.String(); got != tt.want {
				t.Fatalf("String = %s\nwant     %s", got, tt.want)
			}
			back, err := ParseReferTo(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if back.Method() != tt.method {
				t.Fatalf("Method = %q, want %q", back.Method(), tt.method)
			}
			if d := back.Destination(); formatURI(&d) != "sip:carol@chicago.example.com" {
				t.Fatalf("Destination = %s", formatURI(&d))
			}
		})
	}
	// The builders copy: the target given keeps its parameters.
	if len(carol.UriParams) != 1 || len(carol.Headers) != 0 {
		t.Fatalf("builders changed their argument: %s", formatURI(&carol))
	}
	// The attended one carries the dialog, to-tag first.
	rt, err := ParseReferTo(tests[1].want)
	if err != nil {
		t.Fatal(err)
	}
	rep, ok, err := rt.Replaces()
	want := Replaces{CallID: "a84b4c76e66710@pc33.atlanta.example.com", ToTag: "remote-2", FromTag: "local-1"}
	if !ok || err != nil || rep != want {
		t.Fatalf("Replaces = %#v, %v, %v; want %#v", rep, ok, err, want)
	}
	// A Replaces already in the target is replaced, not repeated.
	twice := NewReferTo(carol).WithReplaces(want).WithReplaces(Replaces{CallID: "x", ToTag: "y", FromTag: "z"})
	if got := twice.String(); strings.Count(got, "Replaces=") != 1 || !strings.Contains(got, "Replaces=x%3Bto-tag%3Dy%3Bfrom-tag%3Dz") {
		t.Fatalf("WithReplaces twice = %s", got)
	}
}

// TestAttendedTransferMatches follows the dialog identifiers through an
// attended transfer: the transferor builds Replaces from its dialog with
// the target, the transferee copies it into its INVITE, and the target
// finds its own dialog, where local and remote tags are swapped.
func TestAttendedTransferMatches(t *testing.T) {
	const callID, transferorTag, targetTag = "3848276298220188511@atlanta.example.com", "1930493", "9ad7e3"
	rt := NewReferTo(mustURI(t, "sip:carol@chicago.example.com")).
		WithReplaces(ReplacesFor(callID, transferorTag, targetTag))
	parsed, err := ParseReferTo(rt.String())
	if err != nil {
		t.Fatal(err)
	}
	rep, ok, err := parsed.Replaces()
	if !ok || err != nil {
		t.Fatalf("Replaces = %v, %v", ok, err)
	}
	hdr, ok := parsed.Header("replaces")
	if !ok || hdr != rep.String() {
		t.Fatalf("Header(replaces) = %q, %v; want %q", hdr, ok, rep.String())
	}
	inInvite, err := ParseReplaces(hdr)
	if err != nil {
		t.Fatal(err)
	}
	if !inInvite.Matches(callID, targetTag, transferorTag) {
		t.Fatalf("%v does not match the target's dialog", inInvite)
	}
	if inInvite.Matches(callID, transferorTag, targetTag) {
		t.Fatalf("%v matches with the tags the wrong way round", inInvite)
	}
}

func TestReplacesMatches(t *testing.T) {
	r := Replaces{CallID: "abc@host", ToTag: "local", FromTag: "remote"}
	wild := Replaces{CallID: "abc@host", ToTag: "local", FromTag: "0"}
	tests := []struct {
		name                        string
		r                           Replaces
		callID, localTag, remoteTag string
		want                        bool
	}{
		{"exact", r, "abc@host", "local", "remote", true},
		{"other call-id", r, "abd@host", "local", "remote", false},
		{"call-id case matters", r, "ABC@host", "local", "remote", false},
		{"other local tag", r, "abc@host", "x", "remote", false},
		{"other remote tag", r, "abc@host", "local", "x", false},
		{"swapped tags", r, "abc@host", "remote", "local", false},
		{"from-tag 0 is a wildcard", wild, "abc@host", "local", "anything", true},
		{"wildcard still needs the to-tag", wild, "abc@host", "x", "anything", false},
		{"wildcard still needs the call-id", wild, "x", "local", "anything", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Matches(tt.callID, tt.localTag, tt.remoteTag); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestValidateBuilt checks that Validate refuses values built by hand that
// would not read back, and accepts good ones.
func TestValidateBuilt(t *testing.T) {
	tests := []struct {
		name string
		v    interface{ Validate() error }
		want error
	}{
		{"replaces ok", Replaces{CallID: "a@b", ToTag: "x", FromTag: "y", EarlyOnly: true}, nil},
		{"replaces call-id with space", Replaces{CallID: "a b", ToTag: "x", FromTag: "y"}, ErrInvalidReplaces},
		{"replaces call-id with ;", Replaces{CallID: "a;to-tag=z", ToTag: "x", FromTag: "y"}, ErrInvalidReplaces},
		{"replaces empty tag", Replaces{CallID: "a", ToTag: "", FromTag: "y"}, ErrInvalidReplaces},
		{"replaces empty", Replaces{}, ErrInvalidReplaces},
		{"refer-to ok", NewReferTo(mustURI(t, "sip:a@b")), nil},
		{"refer-to empty", ReferTo{}, ErrInvalidURI},
		{"refer-to bad host", ReferTo{Address{URI: sip.Uri{Scheme: "sip", Host: "a b"}}}, ErrInvalidURI},
		{"refer-to CR in display name", ReferTo{Address{DisplayName: "a\r\nb", URI: mustURI(t, "sip:a@b")}}, ErrInvalidAddress},
		{"referred-by ok", NewReferredBy(mustURI(t, "sips:alice@atlanta.example.com")), nil},
		{"sipfrag ok", NewSipfrag(180, ""), nil},
		{"sipfrag bad code", Sipfrag{StatusCode: 99, Reason: "x"}, ErrInvalidSipfrag},
		{"sipfrag CRLF in reason", Sipfrag{StatusCode: 200, Reason: "OK\r\nX: y"}, ErrInvalidSipfrag},
		{"event ok", NewReferEvent(93809824), nil},
		{"event bad type", Event{Type: "a b"}, ErrInvalidEvent},
		{"subscription-state ok", Active(90), nil},
		{"subscription-state terminated", Terminated(ReasonNoResource), nil},
		{"subscription-state bad reason", Terminated("no resource"), ErrInvalidSubscriptionState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.Validate()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSipfragBuild(t *testing.T) {
	tests := []struct {
		f     Sipfrag
		want  string
		final bool
	}{
		{NewSipfrag(100, ""), "SIP/2.0 100 Trying\r\n", false},
		{NewSipfrag(180, ""), "SIP/2.0 180 Ringing\r\n", false},
		{NewSipfrag(200, ""), "SIP/2.0 200 OK\r\n", true},
		{NewSipfrag(500, ""), "SIP/2.0 500 Server Internal Error\r\n", true},
		{NewSipfrag(603, "Decline"), "SIP/2.0 603 Decline\r\n", true},
		{NewSipfrag(499, ""), "SIP/2.0 499 Request Failure\r\n", true},
		{Sipfrag{StatusCode: 200, Reason: "OK", Headers: []Header{{"Contact", "<sip:c@h>"}}}, "SIP/2.0 200 OK\r\nContact: <sip:c@h>\r\n", true},
	}
	for _, tt := range tests {
		if got := string(tt.f.Marshal()); got != tt.want {
			t.Errorf("Marshal = %q, want %q", got, tt.want)
		}
		if tt.f.Final() != tt.final {
			t.Errorf("%v Final = %v", tt.f, !tt.final)
		}
		if got := tt.f.String(); got != strings.TrimSuffix(strings.SplitN(tt.want, "\r\n", 2)[0], "\r\n") {
			t.Errorf("String = %q", got)
		}
	}
}

func TestEventAndSubscriptionState(t *testing.T) {
	if got := NewReferEvent(7).String(); got != "refer;id=7" {
		t.Fatalf("NewReferEvent = %q", got)
	}
	e, err := ParseEvent("Refer;ID=7")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Matches(NewReferEvent(7)) || e.Matches(NewReferEvent(8)) || e.Matches(Event{Type: EventRefer}) {
		t.Fatalf("Matches wrong for %#v", e)
	}
	if got := Active(90).String(); got != "active;expires=90" {
		t.Fatalf("Active = %q", got)
	}
	if got := Terminated(ReasonNoResource).String(); got != "terminated;reason=noresource" {
		t.Fatalf("Terminated = %q", got)
	}
	if got := Terminated("").String(); got != "terminated" {
		t.Fatalf("Terminated('') = %q", got)
	}
}

func TestEscapeHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc@host;to-tag=1;from-tag=2", "abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2"},
		{"a b%c\"d<e>", "a%20b%25c%22d%3Ce%3E"},
		{"keep-_.!~*'()[]/?:+$", "keep-_.!~*'()[]/?:+$"},
		{"\xff", "%FF"},
	}
	for _, tt := range tests {
		got := EscapeHeaderValue(tt.in)
		if got != tt.want {
			t.Errorf("EscapeHeaderValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, ok := Unescape(got)
		if !ok || back != tt.in {
			t.Errorf("Unescape(%q) = %q, %v", got, back, ok)
		}
	}
	for _, bad := range []string{"%", "%4", "%4g", "a%zz"} {
		if _, ok := Unescape(bad); ok {
			t.Errorf("Unescape(%q) accepted", bad)
		}
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := ParseReferTo("<sip:bob@example.com:99999>")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if se.What != "Refer-To" || se.Offset != 21 || !errors.Is(err, ErrInvalidURI) {
		t.Fatalf("SyntaxError = %+v", se)
	}
	if msg := err.Error(); !strings.Contains(msg, "invalid URI at offset 21") || !strings.Contains(msg, "bad port") {
		t.Fatalf("message = %q", msg)
	}
	long := "<sip:" + strings.Repeat("a", 200)
	_, err = ParseReferTo(long)
	if !errors.As(err, &se) || len(se.Value) != 80 {
		t.Fatalf("long value not cut: %v", err)
	}
}
