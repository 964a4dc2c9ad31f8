package application

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/internal/focustest"
	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// The conference client's notifications (reference §2.6 and §2.9) are not
// in the seed's API text, whose Session section predates them, so
// seedNameTable cannot hold them. conferenceNameTable is their table: each
// is observed being posted by alice's session with the focus in
// TestConferenceNamesObserved, with the data the entry's check accepts.
// TestConferenceNameTable keeps it in step with the constants of
// framework/session.
var conferenceNameTable = map[string]func(data any) bool{
	session.SIPSessionGotConferenceInfo: func(data any) bool {
		d, ok := data.(session.GotConferenceInfoData)
		return ok && d.ConferenceInfo != nil && d.ConferenceInfo.Entity != ""
	},
	session.SIPSessionConferenceInfoDidFail: func(data any) bool {
		d, ok := data.(session.ConferenceInfoFailureData)
		return ok && d.Reason != ""
	},
	session.SIPConferenceGotAddParticipantProgress:    progress,
	session.SIPConferenceGotRemoveParticipantProgress: progress,
	session.SIPConferenceDidAddParticipant:            participant,
	session.SIPConferenceDidRemoveParticipant:         participant,
	session.SIPConferenceDidNotAddParticipant:         refused,
	session.SIPConferenceDidNotRemoveParticipant:      refused,
}

// progress accepts a participant REFER's progress: a sipfrag code below
// 300.
func progress(data any) bool {
	d, ok := data.(session.ParticipantStatusData)
	return ok && d.Participant != "" && d.Code >= 100 && d.Code < 300
}

// participant accepts a participant REFER's success.
func participant(data any) bool {
	d, ok := data.(session.ParticipantData)
	return ok && d.Participant != ""
}

// refused accepts the failure of a participant REFER the focus answered
// 403 (what TestConferenceNamesObserved makes it answer).
func refused(data any) bool {
	d, ok := data.(session.ParticipantStatusData)
	return ok && d.Participant != "" && d.Code == 403
}

// TestConferenceNameTable: the table names exactly the conference
// notification names framework/session declares (its constants whose
// name says Conference), so a name added there without a scenario here
// fails.
func TestConferenceNameTable(t *testing.T) {
	files, err := filepath.Glob("../session/*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var declared []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "SIP") || !strings.Contains(id.Name, "Conference") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						declared = append(declared, v)
					}
				}
			}
		}
	}
	slices.Sort(declared)
	if len(declared) < 8 {
		t.Fatalf("found only %v among framework/session's constants", declared)
	}
	if table := slices.Sorted(maps.Keys(conferenceNameTable)); !slices.Equal(declared, table) {
		t.Errorf("framework/session declares %v\nconferenceNameTable has %v", declared, table)
	}
}

// TestConferenceNamesObserved is the table test of the conference
// notifications: two applications on loopback (alice and bob, with the
// real audio and chat plugins) and the test focus (internal/focustest, a
// sipgo endpoint of its own). Alice calls the focus with chat: her
// session learns from the answer's Contact that the remote is a focus,
// subscribes to the conference and gets its state; she asks the focus to
// add bob (the focus dials him, he accepts) and to remove him (the focus
// hangs up on him); the focus refuses both REFERs once told to (403); it
// sends a conference-info NOTIFY that cannot be read (answered 400). Every
// name of conferenceNameTable is posted by alice's session, with the data
// its entry accepts, and no other session posts any of them but bob's
// with the focus, which subscribes too and gets the conference's state.
func TestConferenceNamesObserved(t *testing.T) {
	dir := os.Getenv("SIPSTREAMS_PLUGIN_DIR") // TestMain's audio and chat plugins
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	focus, err := focustest.Start(ctx, focustest.WithSubject("seed names"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = focus.Close() }()
	alice := startSeedHost(t, ctx, hostAlice, dir, seedDocument(hostAlice, "PCMU"), loopback)
	bob := startSeedHost(t, ctx, hostBob, dir, seedDocument(hostBob, "PCMU"), loopback)
	awaitFocus := func(what string, pred func(focustest.Event) bool) {
		t.Helper()
		fctx, fcancel := context.WithTimeout(ctx, seedWait)
		defer fcancel()
		if _, err := focus.Await(fctx, pred); err != nil {
			t.Fatalf("the focus saw no %s: %v", what, err)
		}
	}
	// got waits for alice's next name from s, at or after from, that her
	// table entry accepts.
	got := func(from int, s *session.Session, name string) notify.Notification {
		t.Helper()
		return alice.await(t, from, name, func(n notify.Notification) bool {
			return n.Sender == s && conferenceNameTable[name](n.Data)
		})
	}

	// Alice joins with chat.
	a0 := alice.mark()
	s := alice.app.Sessions().NewSession()
	furi := focus.URI()
	route := engine.Route{Address: furi.Host, Port: furi.Port, Transport: engine.TransportUDP}
	if err := s.Connect(ctx, furi, []engine.Route{route}, []session.Stream{alice.create(t, ctx, chat.Type, alice.app.Account())}, ""); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a0, session.SIPSessionDidStart, from(s))
	if !s.RemoteFocus() || s.LocalFocus() {
		t.Errorf("alice's session with the focus: RemoteFocus %v, LocalFocus %v; want true, false", s.RemoteFocus(), s.LocalFocus())
	}
	info := got(a0, s, session.SIPSessionGotConferenceInfo).Data.(session.GotConferenceInfoData).ConferenceInfo
	if info.Entity != focus.URIString() || len(info.Users) != 1 || !strings.HasPrefix(info.Users[0].Entity, "sip:alice@") {
		t.Errorf("alice's first conference state: entity %s, users %+v; want %s with alice", info.Entity, info.Users, focus.URIString())
	}

	// Alice adds bob: the focus dials him and he accepts.
	br := bob.route()
	bobURI := sip.Uri{Scheme: "sip", User: hostBob, Host: br.Address, Port: br.Port}
	a1, b1 := alice.mark(), bob.mark()
	if err := s.AddParticipant(bobURI); err != nil {
		t.Fatal(err)
	}
	bs, offered := bob.incoming(t, b1)
	if !bs.RemoteFocus() || len(offered) != 1 || offered[0].Type() != audio.Type {
		t.Errorf("bob's incoming session: RemoteFocus %v, %d streams; want the focus offering audio", bs.RemoteFocus(), len(offered))
	}
	if err := bs.Accept(offered); err != nil {
		t.Fatal(err)
	}
	// The INVITE's Contact said isfocus: bob subscribes to the conference
	// too.
	bob.await(t, b1, session.SIPSessionGotConferenceInfo, func(n notify.Notification) bool {
		return n.Sender == bs && conferenceNameTable[session.SIPSessionGotConferenceInfo](n.Data)
	})
	got(a1, s, session.SIPConferenceGotAddParticipantProgress)
	added := got(a1, s, session.SIPConferenceDidAddParticipant).Data.(session.ParticipantData)
	if added.Participant != bobURI.String() {
		t.Errorf("SIPConferenceDidAddParticipant for %s, want %s", added.Participant, bobURI.String())
	}
	alice.await(t, a1, session.SIPSessionGotConferenceInfo, func(n notify.Notification) bool {
		d, _ := n.Data.(session.GotConferenceInfoData)
		return n.Sender == s && d.ConferenceInfo != nil && len(d.ConferenceInfo.Users) == 2
	})
	awaitFocus("bob answering", func(e focustest.Event) bool {
		return e.Kind == focustest.EventDialed && e.From == bobURI.String() && e.Code == 200
	})

	// Alice removes bob: the focus hangs up on him.
	a2 := alice.mark()
	if err := s.RemoveParticipant(bobURI); err != nil {
		t.Fatal(err)
	}
	got(a2, s, session.SIPConferenceGotRemoveParticipantProgress)
	if d := got(a2, s, session.SIPConferenceDidRemoveParticipant).Data.(session.ParticipantData); d.Participant != bobURI.String() {
		t.Errorf("SIPConferenceDidRemoveParticipant for %s, want %s", d.Participant, bobURI.String())
	}
	if d := bob.await(t, b1, session.SIPSessionDidEnd, from(bs)).Data.(session.DidEndData); d.Originator != session.Remote {
		t.Errorf("bob's session ended by %v, want the remote (the focus)", d.Originator)
	}
	// Bob's subscription ends (he unsubscribes, or answers 481 to a
	// NOTIFY once his session ended) before the garbage NOTIFY below,
	// which goes to every subscriber.
	awaitFocus("the end of bob's subscription", func(e focustest.Event) bool {
		return e.Kind == focustest.EventSubscriptionEnded && e.Value == "conference" && strings.HasPrefix(e.From, "sip:bob@")
	})

	// The focus refuses REFERs.
	a3 := alice.mark()
	focus.RefuseRefers(403, "Forbidden")
	if err := s.AddParticipant(bobURI); err != nil {
		t.Fatal(err)
	}
	got(a3, s, session.SIPConferenceDidNotAddParticipant)
	if err := s.RemoveParticipant(bobURI); err != nil {
		t.Fatal(err)
	}
	got(a3, s, session.SIPConferenceDidNotRemoveParticipant)

	// A conference-info NOTIFY that cannot be read: 400, and the failure.
	a4 := alice.mark()
	codes, err := focus.NotifyRaw(ctx, []byte("<conference-info"))
	if err != nil || !slices.Equal(codes, []int{400}) {
		t.Errorf("the garbage NOTIFY was answered %v (%v), want [400]", codes, err)
	}
	got(a4, s, session.SIPSessionConferenceInfoDidFail)
	if info := s.ConferenceInfo(); info == nil || len(info.Users) != 1 {
		t.Errorf("alice's conference state after the garbage: %+v, want the last one read (alice alone)", info)
	}

	s.End()
	alice.await(t, a4, session.SIPSessionDidEnd, from(s))
	awaitFocus("alice leaving", func(e focustest.Event) bool {
		return e.Kind == focustest.EventLeft && strings.HasPrefix(e.From, "sip:alice@")
	})

	// Every name, with its data, from alice's session only.
	for _, name := range slices.Sorted(maps.Keys(conferenceNameTable)) {
		t.Run("name/"+name, func(t *testing.T) {
			seen := false
			for _, h := range []*seedHost{alice, bob} {
				for _, n := range h.rec.All() {
					if n.Name != name {
						continue
					}
					if (h != alice || n.Sender != s) && (name != session.SIPSessionGotConferenceInfo || n.Sender != bs) {
						t.Errorf("%s posted %s from a session other than alice's with the focus (or bob's for the state)", h.name, name)
					}
					seen = seen || conferenceNameTable[name](n.Data)
				}
			}
			if !seen {
				t.Errorf("alice's session did not post %s with the data its entry accepts", name)
			}
		})
	}
}

// TestLocalFocus: is_focus (the seed's connect(…, is_focus=True), and
// accept's in the reference, §2.9) is session.AsFocus. Alice calls bob
// as a focus and bob accepts as one: the INVITE's and the 200's Contact
// carry ;isfocus on the wire (SIP traces of both), each side's session
// sees the other as a focus and subscribes to its conference package,
// which the other answers 405 (an application is no conference server).
// A call without AsFocus carries no isfocus.
func TestLocalFocus(t *testing.T) {
	dir := os.Getenv("SIPSTREAMS_PLUGIN_DIR")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	aliceDoc, bobDoc := seedDocument(hostAlice, "PCMU"), seedDocument(hostBob, "PCMU")
	aliceDoc.Settings.Logs.TraceSIP = true
	bobDoc.Settings.Logs.TraceSIP = true
	alice := startSeedHost(t, ctx, hostAlice, dir, aliceDoc, loopback)
	bob := startSeedHost(t, ctx, hostBob, dir, bobDoc, loopback)
	br := bob.route()
	bobURI := sip.Uri{Scheme: "sip", User: hostBob, Host: br.Address, Port: br.Port}

	for _, asFocus := range []bool{true, false} {
		t.Run("focus="+strconv.FormatBool(asFocus), func(t *testing.T) {
			var opts []session.ConnectOption
			if asFocus {
				opts = append(opts, session.AsFocus())
			}
			a0, b0 := alice.mark(), bob.mark()
			s := alice.app.Sessions().NewSession()
			st := alice.create(t, ctx, audio.Type, alice.app.Account())
			if err := s.Connect(ctx, bobURI, []engine.Route{br}, []session.Stream{st}, "", opts...); err != nil {
				t.Fatal(err)
			}
			bs, offered := bob.incoming(t, b0)
			if bs.RemoteFocus() != asFocus {
				t.Errorf("bob's incoming session: RemoteFocus %v, want %v", bs.RemoteFocus(), asFocus)
			}
			if err := bs.Accept(offered, opts...); err != nil {
				t.Fatal(err)
			}
			alice.await(t, a0, session.SIPSessionDidStart, from(s))
			bob.await(t, b0, session.SIPSessionDidStart, from(bs))
			for who, ss := range map[string]*session.Session{hostAlice: s, hostBob: bs} {
				if ss.LocalFocus() != asFocus || ss.RemoteFocus() != asFocus {
					t.Errorf("%s's session: LocalFocus %v, RemoteFocus %v; want %v", who, ss.LocalFocus(), ss.RemoteFocus(), asFocus)
				}
			}
			inviteFocus := contactFocus(t, alice.sent(t, a0, "INVITE", "INVITE"))
			okFocus := contactFocus(t, bob.sent(t, b0, "SIP/2.0 200 OK", "INVITE"))
			if inviteFocus != asFocus || okFocus != asFocus {
				t.Errorf("isfocus on the wire: alice's INVITE %v, bob's 200 to it %v; want %v", inviteFocus, okFocus, asFocus)
			}
			if asFocus {
				// Each subscribes to the other's conference: 405.
				for h, mark := range map[*seedHost]int{alice: a0, bob: b0} {
					h.await(t, mark, engine.NameSIPTrace, func(n notify.Notification) bool {
						d, _ := n.Data.(engine.TraceData)
						return d.Received && strings.HasPrefix(d.Data, "SIP/2.0 405 ") && cseqMethod(d.Data) == "SUBSCRIBE"
					})
				}
			}
			s.End()
			alice.await(t, a0, session.SIPSessionDidEnd, from(s))
			bob.await(t, b0, session.SIPSessionDidEnd, from(bs))
			for h, mark := range map[*seedHost]int{alice: a0, bob: b0} {
				for _, n := range h.rec.All()[mark:] {
					if d, ok := n.Data.(engine.TraceData); ok && !asFocus && !d.Received && cseqMethod(d.Data) == "SUBSCRIBE" {
						t.Errorf("%s subscribed to a peer that is no focus:\n%s", h.name, d.Data)
					}
				}
				for _, n := range h.rec.All() {
					if strings.HasPrefix(n.Name, "SIPConference") || strings.Contains(n.Name, "ConferenceInfo") {
						t.Errorf("%s posted %s: no conference state or REFER was asked for", h.name, n.Name)
					}
				}
			}
		})
	}
}

// sent returns the first message h sent at or after from whose text
// starts with start and whose CSeq is of method, waiting for it.
func (h *seedHost) sent(t *testing.T, from int, start, method string) string {
	t.Helper()
	n := h.await(t, from, engine.NameSIPTrace, func(n notify.Notification) bool {
		d, _ := n.Data.(engine.TraceData)
		return !d.Received && strings.HasPrefix(d.Data, start) && cseqMethod(d.Data) == method
	})
	return n.Data.(engine.TraceData).Data
}

// header returns the value of the first header of msg named name (or
// its compact form), "" when there is none.
func header(msg, name, compact string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		n, v, ok := strings.Cut(line, ":")
		if n = strings.TrimSpace(n); ok && (strings.EqualFold(n, name) || n == compact) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cseqMethod is the method of a SIP message's CSeq.
func cseqMethod(msg string) string {
	_, m, _ := strings.Cut(header(msg, "CSeq", ""), " ")
	return strings.TrimSpace(m)
}

// contactFocus reports whether msg's Contact carries isfocus; the test
// fails when msg has no Contact.
func contactFocus(t *testing.T, msg string) bool {
	t.Helper()
	c := header(msg, "Contact", "m")
	if c == "" {
		t.Fatalf("no Contact in\n%s", msg)
	}
	return strings.Contains(c, ";isfocus")
}
