package conference

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the testdata golden files")

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with the file, rewriting it under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
	}
}

func u32(v uint32) *uint32 { return &v }
func yes(v bool) *bool     { return &v }

// The RFC 4575 §6.1 example, as Parse must read it.
func rfc4575Basic() *Info {
	when := time.Date(2005, 3, 4, 20, 0, 0, 0, time.UTC)
	return &Info{
		Entity: "sips:conf233@example.com", State: StateFull, Version: 1, HasVersion: true,
		Description: &Description{
			Subject:     "Agenda: This month's goals",
			ServiceURIs: []URIEntry{{URI: "http://sharepoint/salesgroup/", Purpose: "web-page"}},
		},
		ConferenceState: &ConferenceState{UserCount: u32(33)},
		UsersState:      StateFull,
		Users: []User{
			{Entity: "sip:bob@example.com", State: StateFull, DisplayText: "Bob Hoskins", Endpoints: []Endpoint{{
				Entity: "sip:bob@pc33.example.com", DisplayText: "Bob's Laptop",
				Status: StatusDisconnected, DisconnectionMethod: DisconnectedDeparted,
				DisconnectionInfo: &Execution{When: when, Reason: "bad voice quality", By: "sip:mike@example.com"},
				Media:             []Media{{ID: "1", DisplayText: "main audio", Type: "audio", Label: "34567", SrcID: "432424", Status: MediaSendRecv}},
			}}},
			{Entity: "sip:alice@example.com", State: StateFull, DisplayText: "Alice", Endpoints: []Endpoint{{
				Entity: "sip:4kfk4j392jsu@example.com;grid=433kj4j3u",
				Status: StatusConnected, JoiningMethod: JoinedDialedOut,
				JoiningInfo: &Execution{When: when, By: "sip:mike@example.com"},
				Media:       []Media{{ID: "1", DisplayText: "main audio", Type: "audio", Label: "34567", SrcID: "534232", Status: MediaSendRecv}},
			}}},
		},
	}
}

// TestParseRFC4575Basic checks every value of the RFC's basic example.
func TestParseRFC4575Basic(t *testing.T) {
	got, err := Parse(readFile(t, filepath.Join("testdata", "valid", "rfc4575-basic.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if want := rfc4575Basic(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse =\n%s\nwant\n%s", got.Marshal(), want.Marshal())
	}
}

// TestParseRich checks the parts of the rich document the basic one lacks.
func TestParseRich(t *testing.T) {
	got, err := Parse(readFile(t, filepath.Join("testdata", "valid", "rfc4575-rich.xml")))
	if err != nil {
		t.Fatal(err)
	}
	d := got.Description
	if d == nil || d.DisplayText != "Weekly Sales Meeting" || d.FreeText != "Our monthly meeting,\n      with everyone." ||
		!reflect.DeepEqual(d.Keywords, []string{"sales", "marketing", "results"}) ||
		len(d.ConfURIs) != 2 || d.ConfURIs[0] != (URIEntry{"tel:+3585671234", "Conference Bridge", "participation"}) ||
		d.MaximumUserCount == nil || *d.MaximumUserCount != 50 ||
		!reflect.DeepEqual(d.AvailableMedia, []AvailableMedia{
			{Label: "10234", DisplayText: "main audio", Type: "audio", Status: MediaSendRecv},
			{Label: "10235", DisplayText: "main video", Type: "video", Status: MediaSendRecv},
			{Label: "10236", Type: "message"},
		}) {
		t.Fatalf("description = %+v", d)
	}
	if c := got.ConferenceState; c == nil || *c.UserCount != 33 || !*c.Active || *c.Locked {
		t.Fatalf("conference-state = %+v", c)
	}
	if len(got.Users) != 2 {
		t.Fatalf("users = %d (the sidebar's user must not count)", len(got.Users))
	}
	bob := got.Users[0]
	if bob.DisplayText != "Bob Hoskins & Co. <sales>" || !reflect.DeepEqual(bob.Roles, []string{"participant", "admin"}) ||
		!reflect.DeepEqual(bob.Languages, []string{"en-US", "fr"}) || bob.State != "" {
		t.Fatalf("bob = %+v", bob)
	}
	e := bob.Endpoints[0]
	wantReferred := time.Date(2005, 3, 4, 19, 59, 0, 250e6, time.FixedZone("", 3600))
	if e.State != StateFull || e.Status != StatusMutedViaFocus || e.JoiningMethod != JoinedDialedIn ||
		e.Referred == nil || !e.Referred.When.Equal(wantReferred) || e.Referred.By != "sip:alice@example.com" ||
		!e.JoiningInfo.When.Equal(time.Date(2005, 3, 4, 20, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(e.CallInfo, &SIPDialogID{DisplayText: "full info", CallID: "hsjh8980vhsb78", FromTag: "vav738dvbs", ToTag: "8954jgjg8432"}) ||
		len(e.Media) != 2 || e.Media[1] != (Media{ID: "2", Type: "video", Label: "10235", Status: MediaInactive}) {
		t.Fatalf("bob's endpoint = %+v", e)
	}
	alice := got.Users[1].Endpoints[0]
	if alice.Status != StatusOnHold || alice.JoiningMethod != JoinedFocusOwner || alice.DisconnectionMethod != DisconnectedBooted {
		t.Fatalf("alice's endpoint = %+v", alice)
	}
}

// TestParseFocusChat checks the prefixed-namespace document of a chat focus.
func TestParseFocusChat(t *testing.T) {
	got, err := Parse(readFile(t, filepath.Join("testdata", "valid", "focus-chat.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if got.Entity != "sip:room1@conference.example.com" || got.Version != 7 || got.UsersState != StateFull || len(got.Users) != 2 {
		t.Fatalf("info = %+v", got)
	}
	a := got.Users[0].Endpoints[0]
	if a.CallInfo == nil || a.CallInfo.CallID != "8b0f7e2a@192.0.2.10" || a.CallInfo.ToTag != "f1" ||
		len(a.Media) != 2 || a.Media[1].Type != "message" ||
		!a.JoiningInfo.When.Equal(time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC)) {
		t.Fatalf("alice's endpoint = %+v", a)
	}
}

// TestParsePartialBareUsers: a users element without state in a partial
// document reads as partial; user states are kept as written.
func TestParsePartialBareUsers(t *testing.T) {
	got, err := Parse(readFile(t, filepath.Join("testdata", "valid", "partial-bare-users.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StatePartial || got.UsersState != StatePartial || got.Users[0].State != StateFull || got.Users[1].State != StateDeleted {
		t.Fatalf("states = %s %s %s %s", got.State, got.UsersState, got.Users[0].State, got.Users[1].State)
	}
}

// TestParseUnknownValues: values outside the enumerations are kept and
// reported by Valid; empty elements are present.
func TestParseUnknownValues(t *testing.T) {
	got, err := Parse(readFile(t, filepath.Join("testdata", "valid", "unknown-values.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if got.Entity != "sip:conf@example.com" || got.State != StateDeleted || got.Version != 4294967295 {
		t.Fatalf("info = %+v", got)
	}
	if got.Description.Keywords == nil || len(got.Description.Keywords) != 0 || got.ConferenceState == nil {
		t.Fatalf("empty elements lost: %+v %+v", got.Description, got.ConferenceState)
	}
	u := got.Users[0]
	if u.Roles == nil || u.Languages == nil {
		t.Fatalf("empty roles/languages lost: %+v", u)
	}
	e := u.Endpoints[0]
	if e.Status != "on-fire" || e.Status.Valid() || e.JoiningMethod.Valid() || e.DisconnectionMethod.Valid() ||
		e.Media[0].ID != "m" || e.Media[0].Status.Valid() || e.CallInfo != nil {
		t.Fatalf("endpoint = %+v", e)
	}
	for _, ok := range []bool{StatusConnected.Valid(), JoinedDialedIn.Valid(), DisconnectedBusy.Valid(), MediaRecvOnly.Valid(), State("").Valid()} {
		if !ok {
			t.Fatal("a value of the RFC is not Valid")
		}
	}
}

// TestParseGolden writes every valid document back and compares with
// testdata/valid/*.golden; what is written must parse to the same
// document.
func TestParseGolden(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "valid", "*.xml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no documents: %v", err)
	}
	for _, n := range names {
		t.Run(filepath.Base(n), func(t *testing.T) {
			doc, err := Parse(readFile(t, n))
			if err != nil {
				t.Fatal(err)
			}
			out := doc.Marshal()
			checkGolden(t, strings.TrimSuffix(n, ".xml")+".golden", out)
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Marshal) = %v", err)
			}
			if !sameInfo(back, doc) {
				t.Fatalf("round trip changed the document:\n%+v\n%+v", doc, back)
			}
		})
	}
}

// sameInfo compares documents; times are compared as instants.
func sameInfo(a, b *Info) bool {
	return bytes.Equal(a.Marshal(), b.Marshal()) && reflect.DeepEqual(normTimes(a), normTimes(b))
}

func normTimes(i *Info) *Info {
	c := i.Clone()
	for ui := range c.Users {
		for ei := range c.Users[ui].Endpoints {
			e := &c.Users[ui].Endpoints[ei]
			for _, x := range []*Execution{e.Referred, e.JoiningInfo, e.DisconnectionInfo} {
				if x != nil {
					x.When = x.When.UTC()
				}
			}
		}
	}
	return c
}

// TestParseInvalid checks that every document under testdata/invalid is
// refused with the sentinel its name starts with.
func TestParseInvalid(t *testing.T) {
	sentinels := map[string]error{
		"ErrBadXML": ErrBadXML, "ErrWrongRoot": ErrWrongRoot, "ErrMissing": ErrMissing,
		"ErrInvalidState": ErrInvalidState, "ErrInvalidValue": ErrInvalidValue,
	}
	names, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.xml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no documents: %v", err)
	}
	for _, n := range names {
		t.Run(filepath.Base(n), func(t *testing.T) {
			name, _, _ := strings.Cut(filepath.Base(n), "--")
			want := sentinels[name]
			if want == nil {
				t.Fatalf("unknown sentinel %q", name)
			}
			doc, err := Parse(readFile(t, n))
			if !errors.Is(err, want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want %v", doc, err, want)
			}
		})
	}
}

// TestParseLimits: each limit refuses a document one element over it,
// with a *LimitError that is no ErrMalformed, and accepts one at it.
func TestParseLimits(t *testing.T) {
	doc := func(users, endpointsEach, mediaEach int) []byte {
		var b strings.Builder
		b.WriteString(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x"><users>`)
		for u := 0; u < users; u++ {
			b.WriteString(`<user entity="sip:u@x">`)
			for e := 0; e < endpointsEach; e++ {
				b.WriteString(`<endpoint>`)
				for m := 0; m < mediaEach; m++ {
					b.WriteString(`<media id="1"/>`)
				}
				b.WriteString(`</endpoint>`)
			}
			b.WriteString(`</user>`)
		}
		b.WriteString(`</users></conference-info>`)
		return []byte(b.String())
	}
	lim := Limits{MaxSize: 1 << 20, MaxUsers: 3, MaxEndpoints: 6, MaxMedia: 12}
	tests := []struct {
		name string
		data []byte
		want error
		got  int
	}{
		{"at every limit", doc(3, 2, 2), nil, 0},
		{"users", doc(4, 0, 0), ErrTooManyUsers, 4},
		{"endpoints", doc(1, 7, 0), ErrTooManyEndpoints, 7},
		{"media", doc(1, 1, 13), ErrTooManyMedia, 13},
		{"size", append(doc(1, 0, 0), bytes.Repeat([]byte(" "), 1<<20)...), ErrTooLarge, len(doc(1, 0, 0)) + 1<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, WithLimits(lim))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, tt.want) || !errors.Is(err, ErrLimit) || errors.Is(err, ErrMalformed) || le.Got != tt.got {
				t.Fatalf("Parse = %v (%+v), want %v with got %d", err, le, tt.want, tt.got)
			}
		})
	}
	// The defaults apply without options, and zero fields keep them.
	if _, err := Parse(doc(1001, 0, 0)); !errors.Is(err, ErrTooManyUsers) {
		t.Fatalf("default MaxUsers: %v", err)
	}
	if _, err := Parse(doc(1001, 0, 0), WithLimits(Limits{MaxMedia: 5})); !errors.Is(err, ErrTooManyUsers) {
		t.Fatalf("zero MaxUsers must keep the default: %v", err)
	}
}

// TestParseEntityBombs: documents that declare entities cannot make the
// parser expand them; a reference to one is refused at once.
func TestParseEntityBombs(t *testing.T) {
	for _, name := range []string{"ErrBadXML--billion-laughs.xml", "ErrBadXML--external-entity.xml"} {
		data := readFile(t, filepath.Join("testdata", "invalid", name))
		_, err := Parse(data)
		if !errors.Is(err, ErrBadXML) {
			t.Fatalf("%s: %v", name, err)
		}
		// The same DOCTYPE in a document that never uses its entities is
		// harmless and parses.
		unused := bytes.Replace(data, []byte("&lol9;"), []byte("lol"), 1)
		unused = bytes.Replace(unused, []byte("&xxe;"), []byte("xxe"), 1)
		doc, err := Parse(unused)
		if err != nil || doc.Description == nil || len(doc.Description.Subject) != 3 {
			t.Fatalf("%s without the reference: %+v, %v", name, doc, err)
		}
	}
}

// TestParseDeepNesting: unknown elements nested deeper than any recursion
// could go are skipped or refused, never a crash.
func TestParseDeepNesting(t *testing.T) {
	const depth = 100000
	data := []byte(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x">` +
		strings.Repeat("<x>", depth) + strings.Repeat("</x>", depth) + `</conference-info>`)
	doc, err := Parse(data)
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("Parse = %v", err)
	}
	if err == nil && doc.Entity != "sip:c@x" {
		t.Fatalf("Parse = %+v", doc)
	}
}

func TestFindDialog(t *testing.T) {
	doc, err := Parse(readFile(t, filepath.Join("testdata", "valid", "focus-chat.xml")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                        string
		callID, localTag, remoteTag string
		want                        string
	}{
		{"alice, tags as the focus wrote them", "8b0f7e2a@192.0.2.10", "a1", "f1", "sip:alice@example.com"},
		{"alice, tags swapped", "8b0f7e2a@192.0.2.10", "f1", "a1", "sip:alice@example.com"},
		{"bob", "77aa01@192.0.2.11", "b1", "f2", "sip:bob@example.com"},
		{"wrong call-id", "8b0f7e2a@192.0.2.11", "a1", "f1", ""},
		{"wrong tag", "8b0f7e2a@192.0.2.10", "a1", "f2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, e, ok := doc.FindDialog(tt.callID, tt.localTag, tt.remoteTag)
			if tt.want == "" {
				if ok {
					t.Fatalf("found %s", u.Entity)
				}
				return
			}
			if !ok || u.Entity != tt.want || e.CallInfo.CallID != tt.callID {
				t.Fatalf("FindDialog = %v, %v, %v", u, e, ok)
			}
		})
	}
}
