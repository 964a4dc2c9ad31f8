package conference

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, path string) *Info {
	t.Helper()
	doc, err := Parse(readFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func userByEntity(t *testing.T, i *Info, entity string) *User {
	t.Helper()
	for n := range i.Users {
		if i.Users[n].Entity == entity {
			return &i.Users[n]
		}
	}
	t.Fatalf("no user %s in %v", entity, entities(i))
	return nil
}

func entities(i *Info) []string {
	var out []string
	for _, u := range i.Users {
		out = append(out, u.Entity)
	}
	return out
}

// TestTrackerSequence applies testdata/merge/*.xml in order and checks the
// state after each, against explicit expectations and the golden file.
func TestTrackerSequence(t *testing.T) {
	tr := NewTracker()
	var golden bytes.Buffer
	check := []func(t *testing.T, s *Info){
		// 01 full
		func(t *testing.T, s *Info) {
			if s.State != StateFull || s.Version != 1 || !reflect.DeepEqual(entities(s), []string{"sip:alice@example.com", "sip:bob@example.com"}) {
				t.Fatalf("state = %s v%d %v", s.State, s.Version, entities(s))
			}
		},
		// 02 partial: carol added, alice on hold with a chat stream, count 3
		func(t *testing.T, s *Info) {
			if !reflect.DeepEqual(entities(s), []string{"sip:alice@example.com", "sip:bob@example.com", "sip:carol@example.com"}) {
				t.Fatalf("users = %v", entities(s))
			}
			a := userByEntity(t, s, "sip:alice@example.com")
			e := a.Endpoints[0]
			if a.DisplayText != "Alice" || !reflect.DeepEqual(a.Roles, []string{"participant"}) ||
				e.Status != StatusOnHold || e.JoiningMethod != JoinedDialedIn ||
				!reflect.DeepEqual(e.Media, []Media{{ID: "1", Type: "audio", Status: MediaSendOnly}, {ID: "2", Type: "message", Status: MediaSendRecv}}) {
				t.Fatalf("alice = %+v", a)
			}
			if *s.ConferenceState.UserCount != 3 || !*s.ConferenceState.Active || s.Description.Subject != "Planning" {
				t.Fatalf("untouched parts changed: %+v %+v", s.ConferenceState, s.Description)
			}
			if c := userByEntity(t, s, "sip:carol@example.com"); c.State != "" || c.Endpoints[0].Status != StatusAlerting {
				t.Fatalf("carol = %+v", c)
			}
		},
		// 03 partial: bob gone, carol connected (merged), alice moderator
		func(t *testing.T, s *Info) {
			if !reflect.DeepEqual(entities(s), []string{"sip:alice@example.com", "sip:carol@example.com"}) {
				t.Fatalf("users = %v", entities(s))
			}
			c := userByEntity(t, s, "sip:carol@example.com")
			if c.DisplayText != "Carol" || c.Endpoints[0].Status != StatusConnected || c.Endpoints[0].JoiningMethod != JoinedDialedOut {
				t.Fatalf("carol = %+v", c)
			}
			a := userByEntity(t, s, "sip:alice@example.com")
			if !reflect.DeepEqual(a.Roles, []string{"participant", "moderator"}) || a.Endpoints[0].Status != StatusOnHold || len(a.Endpoints[0].Media) != 2 {
				t.Fatalf("alice = %+v", a)
			}
			if *s.ConferenceState.UserCount != 2 {
				t.Fatalf("user-count = %d", *s.ConferenceState.UserCount)
			}
		},
		// 04 partial: alice's endpoint replaced, carol replaced whole, locked
		func(t *testing.T, s *Info) {
			a := userByEntity(t, s, "sip:alice@example.com")
			if len(a.Endpoints) != 1 || a.Endpoints[0].Entity != "sip:alice@198.51.100.9" || a.Endpoints[0].State != "" {
				t.Fatalf("alice's endpoints = %+v", a.Endpoints)
			}
			c := userByEntity(t, s, "sip:carol@example.com")
			if c.DisplayText != "Carol C." || len(c.Endpoints) != 0 {
				t.Fatalf("carol = %+v", c)
			}
			if cs := s.ConferenceState; !*cs.Locked || *cs.UserCount != 2 || !*cs.Active {
				t.Fatalf("conference-state = %+v", cs)
			}
			if d := s.Description; d.DisplayText != "Planning room" || d.Subject != "Planning" {
				t.Fatalf("description = %+v", d)
			}
		},
		// 05 full: replaced; the deleted user dropped
		func(t *testing.T, s *Info) {
			if !reflect.DeepEqual(entities(s), []string{"sip:dave@example.com"}) || s.Description != nil || s.ConferenceState != nil || s.Version != 9 {
				t.Fatalf("state = %+v", s)
			}
		},
		// 06 deleted
		func(t *testing.T, s *Info) {
			if s.State != StateDeleted || len(s.Users) != 0 || s.Version != 10 {
				t.Fatalf("state = %+v", s)
			}
		},
	}
	names, err := filepath.Glob(filepath.Join("testdata", "merge", "*.xml"))
	if err != nil || len(names) != len(check) {
		t.Fatalf("%d documents for %d checks: %v", len(names), len(check), err)
	}
	for n, name := range names {
		s, err := tr.Update(readFile(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(filepath.Base(name), func(t *testing.T) { check[n](t, s) })
		if v, ok := tr.Version(); !ok || v != s.Version {
			t.Fatalf("Version = %d, %v", v, ok)
		}
		fmt.Fprintf(&golden, "<!-- after %s -->\n%s", filepath.Base(name), s.Marshal())
		// What a tracker holds is a valid full document.
		if back, err := Parse(s.Marshal()); err != nil || !sameInfo(back, s) {
			t.Fatalf("%s: state does not read back: %v", name, err)
		}
	}
	checkGolden(t, filepath.Join("testdata", "merge.golden"), golden.Bytes())
}

func docV(state State, version uint32, users ...string) *Info {
	i := &Info{Entity: "sip:room@x", State: state, Version: version, HasVersion: version != 0}
	if users != nil {
		i.UsersState = StatePartial
		if state != StatePartial {
			i.UsersState = StateFull
		}
	}
	for _, u := range users {
		i.Users = append(i.Users, User{Entity: u})
	}
	return i
}

// TestTrackerVersions checks the ordering rules of RFC 4575 §4.6, and that
// a refused document leaves the state alone.
func TestTrackerVersions(t *testing.T) {
	steps := []struct {
		name  string
		doc   *Info
		want  error
		users []string
	}{
		{"partial before any full", docV(StatePartial, 1, "sip:a"), ErrVersionGap, nil},
		{"full", docV(StateFull, 5, "sip:a"), nil, []string{"sip:a"}},
		{"same version", docV(StatePartial, 5, "sip:b"), ErrOutdated, []string{"sip:a"}},
		{"older version", docV(StatePartial, 4, "sip:b"), ErrOutdated, []string{"sip:a"}},
		{"older full", docV(StateFull, 3, "sip:z"), ErrOutdated, []string{"sip:a"}},
		{"gap", docV(StatePartial, 7, "sip:b"), ErrVersionGap, []string{"sip:a"}},
		{"next", docV(StatePartial, 6, "sip:b"), nil, []string{"sip:a", "sip:b"}},
		{"other conference", &Info{Entity: "sip:other@x", State: StatePartial, Version: 7, HasVersion: true}, ErrEntityMismatch, []string{"sip:a", "sip:b"}},
		{"partial without version", docV(StatePartial, 0, "sip:c"), nil, []string{"sip:a", "sip:b", "sip:c"}},
		{"full may skip versions", docV(StateFull, 20, "sip:d"), nil, []string{"sip:d"}},
		{"full without version", docV(StateFull, 0, "sip:e"), nil, []string{"sip:e"}},
		{"then any partial version", docV(StatePartial, 2, "sip:f"), nil, []string{"sip:e", "sip:f"}},
	}
	tr := NewTracker()
	for _, st := range steps {
		before := tr.Info()
		err := tr.Apply(st.doc)
		if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
			t.Fatalf("%s: Apply = %v, want %v", st.name, err, st.want)
		}
		after := tr.Info()
		if err != nil && !reflect.DeepEqual(before, after) {
			t.Fatalf("%s: refused document changed the state", st.name)
		}
		var got []string
		if after != nil {
			got = entities(after)
		}
		if !reflect.DeepEqual(got, st.users) {
			t.Fatalf("%s: users = %v, want %v", st.name, got, st.users)
		}
	}
	var ve *VersionError
	if err := tr.Apply(docV(StatePartial, 1)); !errors.As(err, &ve) || ve.Have != 2 || ve.Got != 1 || !strings.Contains(err.Error(), "have version 2, got 1") {
		t.Fatalf("VersionError = %v", err)
	}
	// A new subscription starts over, from any version.
	tr.Reset()
	if tr.Info() != nil {
		t.Fatal("Reset kept the state")
	}
	if _, ok := tr.Version(); ok {
		t.Fatal("Reset kept the version")
	}
	if err := tr.Apply(docV(StatePartial, 3, "sip:x")); !errors.As(err, &ve) || !ve.HaveNone {
		t.Fatalf("partial after Reset = %v", err)
	}
	if err := tr.Apply(docV(StateFull, 1, "sip:x")); err != nil {
		t.Fatalf("full after Reset = %v", err)
	}
	if err := tr.Apply(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Apply(nil) = %v", err)
	}
}

// TestTrackerDeleted: a deleted document ends the conference, even as the
// first one; a later full document starts it again.
func TestTrackerDeleted(t *testing.T) {
	tr := NewTracker()
	if err := tr.Apply(docV(StateDeleted, 3)); err != nil {
		t.Fatal(err)
	}
	if s := tr.Info(); s.State != StateDeleted || s.Version != 3 {
		t.Fatalf("state = %+v", s)
	}
	if err := tr.Apply(docV(StatePartial, 4, "sip:a")); !errors.Is(err, ErrVersionGap) {
		t.Fatalf("partial after deleted = %v, want ErrVersionGap", err)
	}
	if err := tr.Apply(docV(StateFull, 5, "sip:b")); err != nil {
		t.Fatal(err)
	}
	if s := tr.Info(); s.State != StateFull || !reflect.DeepEqual(entities(s), []string{"sip:b"}) {
		t.Fatalf("state = %+v", s)
	}
}

// TestTrackerLimits: a merge that would go over a limit is refused and the
// state kept; Update parses with the tracker's limits.
func TestTrackerLimits(t *testing.T) {
	tr := NewTracker(WithLimits(Limits{MaxUsers: 2, MaxEndpoints: 2, MaxMedia: 1}))
	if err := tr.Apply(docV(StateFull, 1, "sip:a", "sip:b")); err != nil {
		t.Fatal(err)
	}
	err := tr.Apply(docV(StatePartial, 2, "sip:c"))
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooManyUsers) || le.Got != 3 || le.Limit != 2 {
		t.Fatalf("third user: %v", err)
	}
	if got := entities(tr.Info()); len(got) != 2 {
		t.Fatalf("users = %v", got)
	}
	// Endpoints add up over users.
	ep := docV(StatePartial, 2, "sip:a", "sip:b")
	for n := range ep.Users {
		ep.Users[n].State = StatePartial
		ep.Users[n].Endpoints = []Endpoint{{Entity: "e"}, {Entity: "f"}}
	}
	if err := tr.Apply(ep); !errors.Is(err, ErrTooManyEndpoints) {
		t.Fatalf("four endpoints: %v", err)
	}
	md := docV(StatePartial, 2, "sip:a")
	md.Users[0].Endpoints = []Endpoint{{Entity: "e", Media: []Media{{ID: "1"}, {ID: "2"}}}}
	if err := tr.Apply(md); !errors.Is(err, ErrTooManyMedia) {
		t.Fatalf("two media: %v", err)
	}
	big := docV(StateFull, 3, "sip:a", "sip:b", "sip:c")
	if _, err := tr.Update(big.Marshal()); !errors.Is(err, ErrTooManyUsers) {
		t.Fatalf("Update over the limit: %v", err)
	}
	if v, _ := tr.Version(); v != 1 {
		t.Fatalf("version = %d", v)
	}
}

// TestTrackerIsolation: the state shares no memory with the documents
// applied or the copies returned.
func TestTrackerIsolation(t *testing.T) {
	tr := NewTracker()
	doc := parseFile(t, filepath.Join("testdata", "valid", "rfc4575-basic.xml"))
	if err := tr.Apply(doc); err != nil {
		t.Fatal(err)
	}
	want := tr.Info().Marshal()
	doc.Users[0].Endpoints[0].Media[0].Type = "changed"
	doc.Users[0].Endpoints[0].DisconnectionInfo.Reason = "changed"
	*doc.ConferenceState.UserCount = 1
	doc.Description.ServiceURIs[0].URI = "changed"
	got := tr.Info()
	got.Users[1].Endpoints[0].Media[0].Status = "changed"
	*got.ConferenceState.UserCount = 2
	got.Users = append(got.Users[:0], got.Users[1:]...)
	if again := tr.Info().Marshal(); !bytes.Equal(again, want) {
		t.Fatalf("state changed through shared memory:\n%s", again)
	}
}
