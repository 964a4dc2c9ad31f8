package application

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/internal/focustest"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// TestConferenceSubscription: the conference subscription of a session
// with a focus (reference §2.9, RFC 6665) against the test focus. A
// partial conference-info NOTIFY that skips versions is taken (200) but
// cannot be placed: the session asks for the full state again in the same
// dialog and posts it. A NOTIFY ending the subscription with
// reason=deactivated makes it subscribe again at once, in a new dialog.
// An outdated document changes nothing. The state posted each time is the
// focus's.
func TestConferenceSubscription(t *testing.T) {
	dir := os.Getenv("SIPSTREAMS_PLUGIN_DIR") // TestMain's audio and chat plugins
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	focus, err := focustest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = focus.Close() }()
	alice := startSeedHost(t, ctx, hostAlice, dir, seedDocument(hostAlice, "PCMU"), loopback)

	// subscribed waits for the focus's n-th (from 1) SUBSCRIBE event of
	// kind how from alice.
	subscribed := func(how string, n int) {
		t.Helper()
		fctx, fcancel := context.WithTimeout(ctx, seedWait)
		defer fcancel()
		seen := 0
		if _, err := focus.Await(fctx, func(e focustest.Event) bool {
			if e.Kind == focustest.EventSubscribed && e.Value == how && strings.HasPrefix(e.From, "sip:alice@") {
				seen++
			}
			return seen == n
		}); err != nil {
			t.Fatalf("no SUBSCRIBE %q number %d from alice: %v", how, n, err)
		}
	}
	// state waits for alice's next conference state from s at or after
	// from and returns its version.
	state := func(mark int, s *session.Session) uint32 {
		t.Helper()
		n := alice.await(t, mark, session.SIPSessionGotConferenceInfo, from(s))
		info := n.Data.(session.GotConferenceInfoData).ConferenceInfo
		if info.Entity != focus.URIString() || string(info.State) != "full" || len(info.Users) != 1 || !strings.HasPrefix(info.Users[0].Entity, "sip:alice@") {
			t.Errorf("alice's conference state: %s %s %+v; want the focus's, full, with alice", info.Entity, info.State, info.Users)
		}
		return info.Version
	}
	send := func(body, st string) {
		t.Helper()
		codes, err := focus.NotifyState(ctx, []byte(body), st)
		if err != nil || !slices.Equal(codes, []int{200}) {
			t.Fatalf("NOTIFY %q (%s) answered %v (%v), want [200]", body, st, codes, err)
		}
	}
	partial := func(version uint32) string {
		return fmt.Sprintf(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="%s" state="partial" version="%d"/>`,
			focus.URIString(), version)
	}

	a0 := alice.mark()
	s := alice.app.Sessions().NewSession()
	furi := focus.URI()
	route := engine.Route{Address: furi.Host, Port: furi.Port, Transport: engine.TransportUDP}
	if err := s.Connect(ctx, furi, []engine.Route{route}, []session.Stream{alice.create(t, ctx, chat.Type, alice.app.Account())}, ""); err != nil {
		t.Fatal(err)
	}
	subscribed("initial", 1)
	v := state(a0, s)

	// A version gap: the full state again, asked in the same dialog.
	a1 := alice.mark()
	send(partial(v+5), "")
	subscribed("refresh", 1)
	v = state(a1, s)

	// An outdated partial document: taken, and nothing changes.
	a2 := alice.mark()
	send(partial(v), "")
	if info := s.ConferenceInfo(); info == nil || info.Version != v || len(info.Users) != 1 {
		t.Errorf("alice's conference state after an outdated document: %+v, want version %d with alice", info, v)
	}

	// The focus ends the subscription (deactivated): alice subscribes
	// again at once, in a new dialog, and gets the full state.
	send("", "terminated;reason=deactivated")
	subscribed("initial", 2)
	state(a2, s)

	for _, n := range alice.rec.All() {
		if n.Name == session.SIPSessionConferenceInfoDidFail {
			t.Errorf("alice posted %s %+v: every document was readable", n.Name, n.Data)
		}
	}
	s.End()
	alice.await(t, a2, session.SIPSessionDidEnd, from(s))
}
