package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/internal/focustest"
)

// confGroup is a conference test: the focus (in the test process) and
// the sipstreams processes that take part.
type confGroup struct {
	t     *testing.T
	focus *focustest.Focus
	procs []*proc
}

func startConference(t *testing.T) *confGroup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()
	f, err := focustest.Start(ctx, focustest.WithSubject("sipstreams test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &confGroup{t: t, focus: f}
}

// start starts a sipstreams process of the group with the media plugins.
func (g *confGroup) start(who string, args ...string) *proc {
	g.t.Helper()
	p := startProc(g.t, who, append(args, "--json", "--user", who, "--plugin-dir", mediaPlugins(g.t))...)
	g.procs = append(g.procs, p)
	return p
}

// call starts `call FOCUS` as who with extra flags, and waits until its
// session started and it got the conference state; it returns the
// process and that first state.
func (g *confGroup) call(who string, extra ...string) (*proc, map[string]any) {
	g.t.Helper()
	p := g.start(who, append([]string{"call", g.focus.URIString()}, extra...)...)
	g.awaitName(p, "SIPSessionDidStart")
	l := g.awaitName(p, "SIPSessionGotConferenceInfo")
	info, _ := l.Data["conference_info"].(map[string]any)
	if confUsers(info)[who] == nil {
		g.errorf("%s's first conference state %v: %s is not in it", who, info, who)
	}
	return p, info
}

func (g *confGroup) dump() string {
	var b strings.Builder
	for _, p := range g.procs {
		fmt.Fprintf(&b, "\n===== %s stdout =====\n%s===== %s stderr =====\n%s", p.who, p.out.String(), p.who, p.errb.String())
	}
	b.WriteString("\n===== focus =====")
	for _, e := range g.focus.Events() {
		b.WriteString("\n" + e.String())
	}
	return b.String()
}

func (g *confGroup) fatalf(format string, args ...any) {
	g.t.Helper()
	g.t.Fatalf(format+"%s", append(args, g.dump())...)
}

func (g *confGroup) errorf(format string, args ...any) {
	g.t.Helper()
	g.t.Errorf(format, args...)
}

// await reads p's lines until one satisfies pred, within flowWait.
func (g *confGroup) await(p *proc, what string, pred func(jsonLine) bool) jsonLine {
	g.t.Helper()
	timeout := time.After(flowWait)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				g.fatalf("%s exited while waiting for %s", p.who, what)
			}
			p.seen = append(p.seen, l)
			if pred(l) {
				return l
			}
		case <-timeout:
			g.fatalf("%s: no %s within %v", p.who, what, flowWait)
		}
	}
}

func (g *confGroup) awaitName(p *proc, name string) jsonLine {
	g.t.Helper()
	return g.await(p, name, named(name))
}

// awaitInfo waits until p's conference state, as its last
// SIPSessionGotConferenceInfo says (one read already counts: the
// notifications of the conference and of a REFER come in no fixed
// order), has users (by user name, see confUsers) that satisfy pred.
func (g *confGroup) awaitInfo(p *proc, what string, pred func(map[string]map[string]any) bool) map[string]map[string]any {
	g.t.Helper()
	usersOf := func(l jsonLine) map[string]map[string]any {
		info, _ := l.Data["conference_info"].(map[string]any)
		return confUsers(info)
	}
	for i := len(p.seen) - 1; i >= 0; i-- {
		if p.seen[i].Name == "SIPSessionGotConferenceInfo" {
			if users := usersOf(p.seen[i]); pred(users) {
				return users
			}
			break
		}
	}
	var users map[string]map[string]any
	g.await(p, "conference state "+what, func(l jsonLine) bool {
		if l.Name != "SIPSessionGotConferenceInfo" {
			return false
		}
		users = usersOf(l)
		return pred(users)
	})
	return users
}

// awaitFocus waits for an event of the focus.
func (g *confGroup) awaitFocus(what string, pred func(focustest.Event) bool) focustest.Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()
	e, err := g.focus.Await(ctx, pred)
	if err != nil {
		g.fatalf("the focus saw no %s: %v", what, err)
	}
	return e
}

func (g *confGroup) send(p *proc, line string) {
	g.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		g.fatalf("%s: writing %q: %v", p.who, line, err)
	}
}

// hangUp ends p's call with /end; it must exit 0.
func (g *confGroup) hangUp(p *proc) {
	g.t.Helper()
	g.send(p, "/end")
	f := &flow{t: g.t}
	if err := f.waitExit(p); err != nil {
		g.fatalf("%s exit: %v", p.who, err)
	}
}

// confUsers indexes the users of a conference state (as the host prints
// it) by user name: "alice" for sip:alice@127.0.0.1:5060.
func confUsers(info map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := info["users"].([]any)
	for _, u := range list {
		um, _ := u.(map[string]any)
		entity, _ := um["entity"].(string)
		name, _, _ := strings.Cut(strings.TrimPrefix(entity, "sip:"), "@")
		out[name] = um
	}
	return out
}

// endpoint is the first endpoint of a user as the host prints it.
func endpoint(u map[string]any) map[string]any {
	eps, _ := u["endpoints"].([]any)
	if len(eps) == 0 {
		return nil
	}
	e, _ := eps[0].(map[string]any)
	return e
}

// mediaTypes are the media types of an endpoint, in order.
func mediaTypes(e map[string]any) []string {
	var out []string
	list, _ := e["media"].([]any)
	for _, m := range list {
		mm, _ := m.(map[string]any)
		out = append(out, fmt.Sprint(mm["type"]))
	}
	return out
}

// printed returns the last line named name that p printed on stdout, as
// a JSON object (the narrative lines keep their fields at the top).
func printed(p *proc, name string) map[string]any {
	var last map[string]any
	for _, line := range strings.Split(p.out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["name"] == name {
			last = m
		}
	}
	return last
}

// conferenceNames are p's SIPConference* notifications, with their code
// when they have one: "SIPConferenceGotAddParticipantProgress 180".
func conferenceNames(p *proc) []string {
	var out []string
	for _, l := range p.seen {
		if !strings.HasPrefix(l.Name, "SIPConference") {
			continue
		}
		if c, ok := l.Data["code"]; ok {
			out = append(out, fmt.Sprintf("%s %v", l.Name, c))
		} else {
			out = append(out, l.Name)
		}
	}
	return out
}

// TestConference: three sipstreams processes and a conference focus
// (focustest) on loopback. Bob and Alice call the focus (chat; Alice audio
// too): each learns from the answer's Contact that the remote is a focus,
// subscribes to its conference package and prints the participant list as
// it changes. Alice shows it with /participants, sets a nickname the focus
// keeps (its conference state and Bob's chat show it), sends Bob a
// private message through the focus (Bob's chat marks it private; a room
// message after it is not), asks the focus to add Carol (the focus dials
// Carol's listening host, which rings and is answered: Alice gets the
// progress 100, 180, 200 and the success) and to remove her again (the
// focus hangs up on Carol: Alice gets 200 and the success). Every step is
// seen by the focus and by the hosts.
func TestConference(t *testing.T) {
	g := startConference(t)
	carol := g.start("carol", "listen", "--listen", "udp:127.0.0.1:0")
	carolURI := fmt.Sprintf("sip:carol@127.0.0.1:%d", g.awaitName(carol, "listening").Port)

	bob, _ := g.call("bob", "--chat")
	alice, info := g.call("alice", "--chat", "--audio")
	if info["entity"] != g.focus.URIString() || fmt.Sprint(info["user_count"]) != "2" {
		g.errorf("alice's conference state %v: want the focus's entity and 2 users", info)
	}
	users := confUsers(info)
	for who, media := range map[string][]string{"bob": {"message"}, "alice": {"audio", "message"}} {
		e := endpoint(users[who])
		if e == nil || e["status"] != "connected" || e["joining_method"] != "dialed-in" || !slices.Equal(mediaTypes(e), media) {
			g.errorf("%s in alice's first conference state: %v, want connected, dialed-in with %v", who, users[who], media)
		}
	}
	g.awaitFocus("alice joining with audio and chat", func(e focustest.Event) bool {
		return e.Kind == focustest.EventJoined && strings.HasPrefix(e.From, "sip:alice@") && e.Value == "audio,chat"
	})
	g.awaitInfo(bob, "with alice", func(u map[string]map[string]any) bool { return u["alice"] != nil && u["bob"] != nil })

	// /participants prints the list, readably and as a JSON object.
	g.send(alice, "/participants")
	g.awaitName(alice, "participants")
	conf, _ := printed(alice, "participants")["conference"].(map[string]any)
	if u := confUsers(conf); len(u) != 2 || u["alice"] == nil || u["bob"] == nil || conf["subject"] != "sipstreams test" {
		g.errorf("/participants printed %v: want alice and bob, subject \"sipstreams test\"", conf)
	}

	// The nickname: the focus answers 200 and keeps it.
	g.send(alice, "/nickname Ali")
	l := g.awaitName(alice, "ChatStreamDidSetNickname")
	if l.Data["nickname"] != "Ali" || fmt.Sprint(l.Data["code"]) != "200" {
		g.errorf("ChatStreamDidSetNickname %v: want Ali, 200", l.Data)
	}
	g.awaitFocus("NICKNAME Ali", func(e focustest.Event) bool {
		return e.Kind == focustest.EventNickname && e.Value == "Ali" && e.Code == 200 && strings.HasPrefix(e.From, "sip:alice@")
	})
	g.awaitInfo(bob, "naming alice Ali", func(u map[string]map[string]any) bool { return u["alice"]["display_text"] == "Ali" })

	// A private message to Bob through the focus, then one to the room.
	g.send(alice, "/msg-to sip:bob@127.0.0.1 psst, bob")
	g.awaitFocus("the private message", func(e focustest.Event) bool {
		return e.Kind == focustest.EventMessage && e.Private && e.Value == "psst, bob" && slices.Equal(e.To, []string{"sip:bob@127.0.0.1"})
	})
	l = g.awaitName(bob, "ChatStreamGotMessage")
	sender, _ := l.Data["sender"].(map[string]any)
	if l.Data["content"] != "psst, bob" || l.Data["private"] != true || sender["display_name"] != "Ali" ||
		!strings.HasPrefix(fmt.Sprint(sender["uri"]), "sip:alice@127.0.0.1") {
		g.errorf("bob got %v: want alice's private message, from Ali", l.Data)
	}
	if l := g.awaitName(alice, "ChatStreamDidDeliverMessage"); fmt.Sprint(l.Data["code"]) != "200" {
		g.errorf("the private message's report: %v", l.Data)
	}
	g.send(alice, "hello room")
	l = g.awaitName(bob, "ChatStreamGotMessage")
	if l.Data["content"] != "hello room" || l.Data["private"] != false {
		g.errorf("bob got %v: want alice's room message, not private", l.Data)
	}

	// Alice adds Carol: the focus dials her; she rings, then answers.
	g.send(alice, "/add-participant "+carolURI)
	in := g.awaitName(carol, "SIPSessionNewIncoming")
	if !strings.Contains(fmt.Sprint(in.Data["from"]), g.focus.URIString()) || fmt.Sprint(in.Data["streams"]) != "[audio]" {
		g.errorf("carol's incoming session %v: want the focus with audio", in.Data)
	}
	g.awaitInfo(alice, "with carol alerting", func(u map[string]map[string]any) bool {
		return u["carol"] != nil && endpoint(u["carol"])["status"] == "alerting"
	})
	g.send(carol, "/accept")
	g.awaitName(carol, "SIPSessionDidStart")
	g.awaitInfo(carol, "of the focus carol joined", func(u map[string]map[string]any) bool {
		return u["carol"] != nil && u["alice"] != nil && u["bob"] != nil
	})
	l = g.awaitName(alice, "SIPConferenceDidAddParticipant")
	if l.Data["participant"] != carolURI {
		g.errorf("SIPConferenceDidAddParticipant %v: want %s", l.Data, carolURI)
	}
	want := []string{"SIPConferenceGotAddParticipantProgress 100", "SIPConferenceGotAddParticipantProgress 180",
		"SIPConferenceGotAddParticipantProgress 200", "SIPConferenceDidAddParticipant"}
	if got := conferenceNames(alice); !slices.Equal(got, want) {
		g.errorf("alice's conference notifications:\n got  %v\n want %v", got, want)
	}
	u := g.awaitInfo(alice, "with carol connected", func(u map[string]map[string]any) bool {
		return u["carol"] != nil && endpoint(u["carol"])["status"] == "connected"
	})
	if e := endpoint(u["carol"]); e["joining_method"] != "dialed-out" || !strings.HasPrefix(fmt.Sprint(e["referred_by"]), "sip:alice@") {
		g.errorf("carol in the conference state: %v, want dialed-out, referred by alice", e)
	}
	g.awaitFocus("carol answering", func(e focustest.Event) bool {
		return e.Kind == focustest.EventDialed && e.From == carolURI && e.Code == 200
	})

	// Alice removes Carol: the focus hangs up on her.
	g.send(alice, "/remove-participant "+carolURI)
	if l := g.awaitName(carol, "SIPSessionDidEnd"); l.Data["originator"] != "remote" {
		g.errorf("carol's session ended by %v, want remote", l.Data["originator"])
	}
	l = g.awaitName(alice, "SIPConferenceDidRemoveParticipant")
	if l.Data["participant"] != carolURI {
		g.errorf("SIPConferenceDidRemoveParticipant %v: want %s", l.Data, carolURI)
	}
	want = append(want, "SIPConferenceGotRemoveParticipantProgress 100", "SIPConferenceGotRemoveParticipantProgress 200",
		"SIPConferenceDidRemoveParticipant")
	if got := conferenceNames(alice); !slices.Equal(got, want) {
		g.errorf("alice's conference notifications:\n got  %v\n want %v", got, want)
	}
	g.awaitInfo(alice, "without carol", func(u map[string]map[string]any) bool { return u["carol"] == nil && len(u) == 2 })
	g.awaitFocus("carol removed", func(e focustest.Event) bool {
		return e.Kind == focustest.EventRemoved && e.From == carolURI && e.Code == 200
	})

	g.hangUp(alice)
	g.awaitInfo(bob, "without alice", func(u map[string]map[string]any) bool { return u["alice"] == nil && len(u) == 1 })
	g.hangUp(bob)
	g.send(carol, "/quit")
	if err := (&flow{t: t}).waitExit(carol); err != nil {
		g.fatalf("carol exit: %v", err)
	}
	if t.Failed() {
		t.Log(g.dump())
	}
}

// TestConferenceBadInput: what a focus sends that cannot be read, and
// what it refuses. A conference-info NOTIFY with a garbage body is
// answered 400 and reported (SIPSessionConferenceInfoDidFail), the host
// keeps its last state and the subscription goes on; a REFER the focus
// refuses with 403 ends with SIPConferenceDidNotAddParticipant (and
// …DidNotRemoveParticipant) carrying the code; one whose progress NOTIFY
// is no sipfrag gets that NOTIFY answered 400 and ends with
// SIPConferenceDidNotAddParticipant without a code. Commands given bad
// arguments say how to use them.
func TestConferenceBadInput(t *testing.T) {
	g := startConference(t)
	alice, _ := g.call("alice", "--chat")
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()

	for _, tc := range []struct{ name, body string }{
		{"not XML", "this is no conference"},
		{"truncated", `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:x@127.0.0.1" state="full" version="9"><users><user`},
		{"no entity", `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" state="full" version="9"/>`},
		{"entity bomb", `<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` +
			`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="&b;" state="full" version="9"/>`},
	} {
		codes, err := g.focus.NotifyRaw(ctx, []byte(tc.body))
		if err != nil || !slices.Equal(codes, []int{400}) {
			g.fatalf("%s: the NOTIFY was answered %v (%v), want 400", tc.name, codes, err)
		}
		if l := g.awaitName(alice, "SIPSessionConferenceInfoDidFail"); fmt.Sprint(l.Data["reason"]) == "" {
			g.errorf("%s: SIPSessionConferenceInfoDidFail without a reason: %v", tc.name, l.Data)
		}
	}
	// The last good state is kept, and the subscription goes on.
	g.send(alice, "/participants")
	g.awaitName(alice, "participants")
	if conf, _ := printed(alice, "participants")["conference"].(map[string]any); len(confUsers(conf)) != 1 {
		g.errorf("/participants after the garbage printed %v: want alice", conf)
	}
	g.send(alice, "/nickname Ali")
	g.awaitInfo(alice, "naming alice Ali", func(u map[string]map[string]any) bool { return u["alice"]["display_text"] == "Ali" })

	// REFERs the focus refuses.
	g.focus.RefuseRefers(403, "Forbidden")
	g.send(alice, "/add-participant sip:nobody@127.0.0.1:9")
	l := g.awaitName(alice, "SIPConferenceDidNotAddParticipant")
	if fmt.Sprint(l.Data["code"]) != "403" || l.Data["participant"] != "sip:nobody@127.0.0.1:9" {
		g.errorf("SIPConferenceDidNotAddParticipant %v: want code 403 for sip:nobody@127.0.0.1:9", l.Data)
	}
	g.send(alice, "/remove-participant sip:nobody@127.0.0.1:9")
	if l := g.awaitName(alice, "SIPConferenceDidNotRemoveParticipant"); fmt.Sprint(l.Data["code"]) != "403" {
		g.errorf("SIPConferenceDidNotRemoveParticipant %v: want code 403", l.Data)
	}
	g.awaitFocus("the refused REFER", func(e focustest.Event) bool {
		return e.Kind == focustest.EventRefer && e.Method == "BYE" && e.Code == 403
	})
	for _, n := range []string{"SIPConferenceDidAddParticipant", "SIPConferenceDidRemoveParticipant"} {
		if _, ok := find(alice.seen, n); ok {
			g.errorf("alice printed %s for a refused REFER", n)
		}
	}

	// A REFER accepted whose progress cannot be read: the NOTIFY is
	// answered 400 and the REFER fails, without a code.
	g.focus.RefuseRefers(0, "")
	g.focus.GarbleReferProgress([]byte("SIP/2.0 two hundred OK\r\n"))
	g.send(alice, "/add-participant sip:nobody@127.0.0.1:9")
	l = g.await(alice, "the failure of the REFER with a garbled sipfrag", func(l jsonLine) bool {
		return l.Name == "SIPConferenceDidNotAddParticipant" && fmt.Sprint(l.Data["code"]) == "0"
	})
	if !strings.Contains(fmt.Sprint(l.Data["reason"]), "malformed") || l.Data["participant"] != "sip:nobody@127.0.0.1:9" {
		g.errorf("SIPConferenceDidNotAddParticipant %v: want a malformed NOTIFY for sip:nobody@127.0.0.1:9", l.Data)
	}
	g.awaitFocus("the garbled sipfrag answered 400", func(e focustest.Event) bool {
		return e.Kind == focustest.EventNotifyAnswered && strings.HasPrefix(e.Value, "refer") && e.Code == 400
	})
	if _, ok := find(alice.seen, "SIPConferenceDidAddParticipant"); ok {
		g.errorf("alice printed SIPConferenceDidAddParticipant for a REFER whose progress was garbage")
	}

	// Bad arguments.
	for _, c := range []struct{ line, want string }{
		{"/add-participant", "/add-participant: usage"},
		{"/remove-participant sip:a b", "/remove-participant: usage"},
		{"/msg-to sip:bob@127.0.0.1", "/msg-to: usage: /msg-to URI TEXT"},
		{"/nickname", "/nickname: usage: /nickname NAME"},
	} {
		g.send(alice, c.line)
		wctx, wcancel := context.WithTimeout(ctx, flowWait)
		ok := alice.errb.waitFor(wctx, c.want)
		wcancel()
		if !ok {
			g.errorf("%q: stderr has no %q", c.line, c.want)
		}
	}
	g.hangUp(alice)
	if t.Failed() {
		t.Log(g.dump())
	}
}

// TestConferenceCommandsNoFocus: the conference commands on a session
// that has not started (Alice's call rings at Bob's) say it is not
// possible yet, and on a started session whose peer is no focus say so;
// neither sends anything.
func TestConferenceCommandsNoFocus(t *testing.T) {
	g := startConference(t)
	bob := g.start("bob", "listen", "--listen", "udp:127.0.0.1:0")
	bobURI := fmt.Sprintf("sip:bob@127.0.0.1:%d", g.awaitName(bob, "listening").Port)
	alice := g.start("alice", "call", bobURI, "--chat")
	g.awaitName(bob, "SIPSessionNewIncoming")
	g.awaitName(alice, "SIPSessionGotRingIndication")
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()
	check := func(lines ...string) {
		t.Helper()
		for i := 0; i < len(lines); i += 2 {
			g.send(alice, lines[i])
			if !alice.errb.waitFor(ctx, lines[i+1]) {
				g.fatalf("%q: stderr has no %q", lines[i], lines[i+1])
			}
		}
	}
	check("/participants", "/participants: not possible now: session: participants is not allowed in state connecting",
		"/add-participant sip:carol@127.0.0.1:9", "/add-participant: not possible now",
		"/nickname Ali", "/nickname: not possible now",
		"/msg-to sip:bob@127.0.0.1 hi", "/msg-to: not possible now")

	g.send(bob, "/accept")
	g.awaitName(alice, "SIPSessionDidStart")
	check("/participants", "/participants: the remote is not a conference focus",
		"/add-participant sip:carol@127.0.0.1:9", "/add-participant: the remote is not a conference focus",
		"/remove-participant sip:carol@127.0.0.1:9", "/remove-participant: the remote is not a conference focus")
	g.hangUp(alice)
	for _, p := range []*proc{alice, bob} {
		for _, l := range p.seen {
			if strings.HasPrefix(l.Name, "SIPConference") || strings.Contains(l.Name, "ConferenceInfo") {
				g.errorf("%s printed %s", p.who, l.Name)
			}
		}
	}
	g.send(bob, "/quit")
	if err := (&flow{t: t}).waitExit(bob); err != nil {
		g.fatalf("bob exit: %v", err)
	}
	if t.Failed() {
		t.Log(g.dump())
	}
}

// TestConferenceText: the participant list as a person reads it.
func TestConferenceText(t *testing.T) {
	one := uint32(2)
	info := &conference.Info{
		Entity: "sip:room@example.com", Version: 3, HasVersion: true,
		Description:     &conference.Description{Subject: "weekly"},
		ConferenceState: &conference.ConferenceState{UserCount: &one},
		Users: []conference.User{
			{Entity: "sip:alice@example.com", DisplayText: "Alice", Endpoints: []conference.Endpoint{{
				Entity: "sip:alice@192.0.2.1", Status: conference.StatusConnected, JoiningMethod: conference.JoinedDialedIn,
				Media: []conference.Media{{ID: "1", Type: "audio"}, {ID: "2", Type: "message"}},
			}}},
			{Entity: "sip:carol@example.com", Endpoints: []conference.Endpoint{{
				Entity: "sip:carol@example.com", Status: conference.StatusAlerting, JoiningMethod: conference.JoinedDialedOut,
				Referred: &conference.Execution{By: "sip:alice@example.com"},
			}}},
		},
	}
	want := `conference sip:room@example.com (version 3) "weekly", 2 participants:
  Alice <sip:alice@example.com>: connected, dialed-in, audio+message
  sip:carol@example.com: alerting, dialed-out, referred by sip:alice@example.com
`
	if got := conferenceText(info); got != want {
		t.Errorf("conferenceText:\n%s\nwant\n%s", got, want)
	}
	m := conferenceMap(info)
	b, _ := json.Marshal(m)
	for _, s := range []string{`"entity":"sip:room@example.com"`, `"version":3`, `"user_count":2`, `"subject":"weekly"`,
		`"display_text":"Alice"`, `"status":"alerting"`, `"referred_by":"sip:alice@example.com"`, `{"id":"1","type":"audio"}`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("conferenceMap has no %s: %s", s, b)
		}
	}
}

// TestParticipantURI: the argument of /add-participant and
// /remove-participant.
func TestParticipantURI(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"sip:bob@example.com", "sip:bob@example.com", true},
		{"bob@127.0.0.1:5062", "sip:bob@127.0.0.1:5062", true},
		{"sips:bob@example.com;transport=tls", "sips:bob@example.com;transport=tls", true},
		{"", "", false},
		{"sip:bob@example.com extra", "", false},
		{"sip:", "", false},
	} {
		uri, err := participantURI(c.in)
		if (err == nil) != c.ok || (c.ok && uri.String() != c.want) {
			t.Errorf("participantURI(%q) = %s, %v; want %s (ok %v)", c.in, uri.String(), err, c.want, c.ok)
		}
	}
}
