package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// The tests of issue 12's done-when 1: call transfer between three
// sipstreams processes on loopback — alice (`call`), bob and carol
// (`listen`) — driven through their stdin commands, with every session
// notification each prints checked in order, session by session.

// ofSession tells whether l is a notification of the process's session n
// (the printer names it "session n (direction call-id)").
func ofSession(l jsonLine, n int) bool {
	return strings.HasPrefix(l.Sender, fmt.Sprintf("session %d (", n))
}

// sessionSeq is the SIPSession* names p printed for its session n.
func sessionSeq(p *proc, n int) []string {
	var mine []jsonLine
	for _, l := range p.seen {
		if ofSession(l, n) {
			mine = append(mine, l)
		}
	}
	return sessionNames(mine)
}

// awaitSession waits until p printed the notification name of its
// session n (already read, or to come: the sessions of a process print
// in any order among themselves).
func (f *flow) awaitSession(p *proc, n int, name string) jsonLine {
	f.t.Helper()
	return f.awaitSeen(p, fmt.Sprintf("%s of session %d", name, n), sessionNamed(n, name))
}

// awaitSeen returns the first line of p that satisfies pred, among those
// read already or those to come.
func (f *flow) awaitSeen(p *proc, what string, pred func(jsonLine) bool) jsonLine {
	f.t.Helper()
	if i := slices.IndexFunc(p.seen, pred); i >= 0 {
		return p.seen[i]
	}
	return f.await(p, what, pred)
}

// checkSession compares the session notifications of p's session n with
// want, exactly.
func (f *flow) checkSession(p *proc, n int, want []string) {
	f.t.Helper()
	if got := sessionSeq(p, n); fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Errorf("%s's session %d notifications:\n got  %v\n want %v", p.who, n, got, want)
		f.failed = true
	}
}

// sessionData returns the data of the i-th (from 0) notification name
// of p's session n.
func (f *flow) sessionData(p *proc, n int, name string, i int) map[string]any {
	f.t.Helper()
	k := 0
	for _, l := range p.seen {
		if l.Name == name && ofSession(l, n) {
			if k == i {
				return l.Data
			}
			k++
		}
	}
	f.t.Errorf("%s printed %d %s of session %d, want #%d", p.who, k, name, n, i)
	f.failed = true
	return nil
}

// wantData checks fields of data: equal to want's, or for a string
// ending in "…", starting with it.
func (f *flow) wantData(p *proc, what string, data map[string]any, want map[string]any) {
	f.t.Helper()
	for k, v := range want {
		got := fmt.Sprint(data[k])
		if w := fmt.Sprint(v); got != w && !(strings.HasSuffix(w, "…") && strings.HasPrefix(got, strings.TrimSuffix(w, "…"))) {
			f.t.Errorf("%s's %s: %s = %q, want %q (data %v)", p.who, what, k, got, w, data)
			f.failed = true
		}
	}
}

// progress is the codes of the SIPSessionTransferGotProgress of p's
// session n.
func progress(p *proc, n int) []int {
	var out []int
	for _, l := range p.seen {
		if l.Name == "SIPSessionTransferGotProgress" && ofSession(l, n) {
			c, _ := l.Data["code"].(float64)
			out = append(out, int(c))
		}
	}
	return out
}

// before checks that p printed a line matching a before one matching b.
func (f *flow) before(p *proc, what string, a, b func(jsonLine) bool) {
	f.t.Helper()
	ia, ib := slices.IndexFunc(p.seen, a), slices.IndexFunc(p.seen, b)
	if ia < 0 || ib < 0 || ia > ib {
		f.t.Errorf("%s: %s (lines %d and %d)", p.who, what, ia, ib)
		f.failed = true
	}
}

func sessionNamed(n int, name string) func(jsonLine) bool {
	return func(l jsonLine) bool { return l.Name == name && ofSession(l, n) }
}

// startHost starts `listen --auto-answer --json` as user with the audio
// plugin, sending a tone of hz and recording to rec (session 1; session
// n records to rec-n.wav), and returns it with the URI that reaches it.
func startHost(t *testing.T, f *flow, user string, hz float64, rec string, extra ...string) (*proc, string) {
	t.Helper()
	args := []string{"listen", "--json", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--user", user, "--plugin-dir", mediaPlugins(t),
		"--play", toneWAV(t, hz), "--record", rec}
	p := startProc(t, user, append(args, extra...)...)
	f.more = append(f.more, p)
	first := f.awaitName(p, "listening")
	return p, fmt.Sprintf("sip:%s@127.0.0.1:%d", user, first.Port)
}

// startEchoHost starts `listen --auto-answer --json` as user with the
// echo plugin.
func startEchoHost(t *testing.T, f *flow, user string, extra ...string) (*proc, string) {
	t.Helper()
	_, plugins := flowBinary(t)
	args := []string{"listen", "--json", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--user", user, "--plugin-dir", plugins}
	p := startProc(t, user, append(args, extra...)...)
	f.more = append(f.more, p)
	first := f.awaitName(p, "listening")
	return p, fmt.Sprintf("sip:%s@127.0.0.1:%d", user, first.Port)
}

// awaitRTP asks p for its current session's audio statistics (/stats)
// until packets RTP packets came in, measured by its own clock: media
// flows. Polled: the count is the other side's pace, not an event.
func (f *flow) awaitRTP(p *proc, packets float64) {
	f.t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		f.send(p, "/stats")
		l := f.awaitName(p, "statistics")
		rx, _ := l.Statistics["rx"].(map[string]any)
		if n, _ := rx["packets"].(float64); n >= packets {
			return
		}
		if time.Now().After(deadline) {
			f.fatalf("%s: no media: %v", p.who, l.Statistics)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// quitProc ends an auto-answering listener with /quit; it must exit 0.
func (f *flow) quitProc(p *proc) {
	f.t.Helper()
	f.send(p, "/quit")
	if err := f.waitExit(p); err != nil {
		f.fatalf("%s exit: %v", p.who, err)
	}
}

// awaitStopRecording waits for p's AudioStreamDidStopRecording of file.
func (f *flow) awaitStopRecording(p *proc, file string) {
	f.t.Helper()
	stopped := func(l jsonLine) bool {
		return l.Name == "AudioStreamDidStopRecording" && fmt.Sprint(l.Data["filename"]) == file
	}
	if slices.ContainsFunc(p.seen, stopped) {
		return
	}
	f.await(p, "the end of the recording "+file, stopped)
}

// heard checks that the recording at path holds the tone of hz.
func heard(t *testing.T, who, path string, hz float64) {
	t.Helper()
	if s := toneShare(t, path, hz); s < 0.1 {
		t.Errorf("%s: %s has %.0f Hz at %.3f of its power: the other side was not heard", who, path, hz, s)
	}
}

// The session notifications of transfers, checked on every host.
var (
	autoCallerStart = []string{"SIPSessionNewOutgoing", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart"}
	// transferorDone: alice's REFER accepted (202 and NOTIFY 100), the
	// new call's 200 (NOTIFY 200): the transfer ended, her session too.
	transferorDone = []string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferDidStart",
		"SIPSessionTransferGotProgress", "SIPSessionTransferGotProgress", "SIPSessionTransferDidEnd"}
	transfereeDone = []string{"SIPSessionTransferNewIncoming", "SIPSessionTransferDidStart", "SIPSessionTransferDidEnd"}
	// transferorFailed: the REFER accepted, then a NOTIFY with the
	// failure.
	transferorFailed = []string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferDidStart",
		"SIPSessionTransferGotProgress", "SIPSessionTransferGotProgress", "SIPSessionTransferDidFail"}
)

// TestTransferBlind: alice calls bob; alice transfers bob to carol
// (/transfer: REFER); bob accepts (/accept-transfer) and calls carol with
// Referred-By and reports the progress (NOTIFY 100, 200); once carol
// answered, alice ends her call with bob on the NOTIFY 200 and bob ends
// it too once that NOTIFY was answered (both, as §2.8 says: whose BYE
// comes first is a race). Bob and carol then hear each other's tone.
func TestTransferBlind(t *testing.T) {
	dir := t.TempDir()
	recA, recB, recC := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav"), filepath.Join(dir, "carol.wav")
	f := &flow{t: t, tc: udp4}
	bob, uriB := startHost(t, f, "bob", 700, recB)
	carol, uriC := startHost(t, f, "carol", 1300, recC)
	alice := startProc(t, "alice", "call", uriB, "--audio", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t),
		"--play", toneWAV(t, 440), "--record", recA)
	f.c = alice
	f.awaitSession(alice, 1, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidStart")

	f.send(alice, "/transfer "+uriC)
	f.awaitSession(bob, 1, "SIPSessionTransferNewIncoming")
	f.send(bob, "/accept-transfer")
	f.awaitSession(alice, 1, "SIPSessionTransferDidEnd")
	if err := f.waitExit(alice); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitSession(bob, 2, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidEnd")
	f.awaitSession(carol, 1, "SIPSessionDidStart")

	// Bob and carol talk: each side's media for a while, then bob hangs
	// up.
	f.awaitRTP(bob, 75)
	f.awaitRTP(carol, 75)
	f.send(bob, "/end")
	f.awaitSession(bob, 2, "SIPSessionDidEnd")
	f.awaitSession(carol, 1, "SIPSessionDidEnd")
	recB2 := recordName(recB, 2)
	f.awaitStopRecording(bob, recB2)
	f.awaitStopRecording(carol, recC)
	f.quitProc(bob)
	f.quitProc(carol)

	f.checkSession(alice, 1, seq(autoCallerStart, transferorDone, sessionEnd))
	f.checkSession(bob, 1, seq(calleeStart, transfereeDone, sessionEnd))
	f.checkSession(bob, 2, seq(autoCallerStart, sessionEnd))
	f.checkSession(carol, 1, seq(calleeStart, sessionEnd))
	if got := progress(alice, 1); fmt.Sprint(got) != "[100 200]" {
		t.Errorf("alice's transfer progress %v, want [100 200]", got)
	}
	f.wantData(alice, "TransferNewOutgoing", f.sessionData(alice, 1, "SIPSessionTransferNewOutgoing", 0),
		map[string]any{"transfer_destination": uriC, "transfer_source": "sip:alice@127.0.0.1:…"})
	f.wantData(alice, "DidEnd", f.sessionData(alice, 1, "SIPSessionDidEnd", 0), map[string]any{"originator": "local"})
	f.wantData(bob, "TransferNewIncoming", f.sessionData(bob, 1, "SIPSessionTransferNewIncoming", 0),
		map[string]any{"transfer_destination": uriC, "referred_by": "<sip:alice@127.0.0.1:…"})
	f.wantData(carol, "NewIncoming", f.sessionData(carol, 1, "SIPSessionNewIncoming", 0),
		map[string]any{"from": "<sip:bob@127.0.0.1:…", "referred_by": "<sip:alice@127.0.0.1:…"})
	// Bob's call with alice ends only once his call with carol started.
	f.before(bob, "the new call started before the transferred one ended",
		sessionNamed(2, "SIPSessionDidStart"), sessionNamed(1, "SIPSessionTransferDidEnd"))
	heard(t, "bob", recB2, 1300)
	heard(t, "carol", recC, 700)
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}

// TestTransferAttended: alice calls bob, then carol (/call: bob is put
// on hold), and hands bob over to carol (/attended-transfer): bob's REFER
// names carol with Replaces of alice's dialog with carol; bob's INVITE to
// carol replaces it (carol answers at once: SIPSessionNewIncoming with
// the replaced dialog, SIPSessionNewIncomingFromTransfer) and carol ends
// her call with alice; alice's call with bob ends too. Bob and carol
// then hear each other's tone.
func TestTransferAttended(t *testing.T) {
	dir := t.TempDir()
	recA, recB, recC := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav"), filepath.Join(dir, "carol.wav")
	f := &flow{t: t, tc: udp4}
	bob, uriB := startHost(t, f, "bob", 700, recB, "--accept-transfers")
	carol, uriC := startHost(t, f, "carol", 1300, recC)
	alice := startProc(t, "alice", "call", uriB, "--audio", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t),
		"--play", toneWAV(t, 440), "--record", recA)
	f.c = alice
	f.awaitSession(alice, 1, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidStart")

	// The consultation call: bob waits on hold.
	f.send(alice, "/call "+uriC)
	f.awaitSession(alice, 2, "SIPSessionDidStart")
	f.awaitSession(carol, 1, "SIPSessionDidStart")
	f.awaitSeen(alice, "session 1 on hold", func(l jsonLine) bool {
		return ofSession(l, 1) && l.Name == "SIPSessionDidChangeHoldState" && l.Data["on_hold"] == true
	})
	f.awaitSeen(bob, "session 1 held by alice", func(l jsonLine) bool {
		return ofSession(l, 1) && l.Name == "SIPSessionDidChangeHoldState" && l.Data["on_hold"] == true
	})
	f.send(alice, "/sessions")
	list := f.awaitName(alice, "sessions").Sessions
	if len(list) != 2 || list[0]["remote"] != uriB || list[0]["current"] != false || list[1]["remote"] != uriC || list[1]["current"] != true {
		t.Errorf("alice's /sessions: %v, want 1 to bob, 2 to carol current", list)
	}

	f.send(alice, "/attended-transfer")
	f.awaitSession(alice, 1, "SIPSessionTransferDidEnd")
	if err := f.waitExit(alice); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitSession(bob, 2, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidEnd")
	f.awaitSession(carol, 2, "SIPSessionDidStart")
	f.awaitSession(carol, 1, "SIPSessionDidEnd")

	f.awaitRTP(bob, 75)
	f.awaitRTP(carol, 75)
	f.send(bob, "/end")
	f.awaitSession(bob, 2, "SIPSessionDidEnd")
	f.awaitSession(carol, 2, "SIPSessionDidEnd")
	recB2, recC2 := recordName(recB, 2), recordName(recC, 2)
	f.awaitStopRecording(bob, recB2)
	f.awaitStopRecording(carol, recC2)
	f.quitProc(bob)
	f.quitProc(carol)

	hold := []string{"SIPSessionDidChangeHoldState"}
	f.checkSession(alice, 1, seq(autoCallerStart, hold, transferorDone, sessionEnd))
	f.checkSession(alice, 2, seq(autoCallerStart, sessionEnd))
	f.checkSession(bob, 1, seq(calleeStart, hold, transfereeDone, sessionEnd))
	f.checkSession(bob, 2, seq(autoCallerStart, sessionEnd))
	f.checkSession(carol, 1, seq(calleeStart, sessionEnd))
	f.checkSession(carol, 2, seq([]string{"SIPSessionNewIncoming", "SIPSessionNewIncomingFromTransfer"}, calleeStart[1:], sessionEnd))
	if got := progress(alice, 1); fmt.Sprint(got) != "[100 200]" {
		t.Errorf("alice's transfer progress %v, want [100 200]", got)
	}
	f.wantData(alice, "TransferNewOutgoing", f.sessionData(alice, 1, "SIPSessionTransferNewOutgoing", 0),
		map[string]any{"transfer_destination": uriC})
	f.wantData(alice, "DidEnd of session 1", f.sessionData(alice, 1, "SIPSessionDidEnd", 0), map[string]any{"originator": "local"})
	f.wantData(alice, "DidEnd of session 2", f.sessionData(alice, 2, "SIPSessionDidEnd", 0), map[string]any{"originator": "remote"})
	f.wantData(bob, "TransferNewIncoming", f.sessionData(bob, 1, "SIPSessionTransferNewIncoming", 0),
		map[string]any{"transfer_destination": uriC, "referred_by": "<sip:alice@127.0.0.1:…"})
	f.wantData(carol, "DidEnd of session 1", f.sessionData(carol, 1, "SIPSessionDidEnd", 0), map[string]any{"originator": "local"})
	// Carol's new session replaces her dialog with alice: the one alice
	// sees as her session 2.
	in := f.sessionData(carol, 2, "SIPSessionNewIncoming", 0)
	replaced, _ := in["replaced_dialog"].(map[string]any)
	from := f.sessionData(carol, 2, "SIPSessionNewIncomingFromTransfer", 0)
	var aliceCarol string
	for _, l := range alice.seen {
		if ofSession(l, 2) {
			aliceCarol = l.Sender
			break
		}
	}
	if replaced == nil || !strings.Contains(aliceCarol, fmt.Sprint(replaced["call_id"])[:8]) {
		t.Errorf("carol's replacing session names the dialog %v, want alice's session 2 (%s)", in["replaced_dialog"], aliceCarol)
	}
	if fmt.Sprint(from["replaced_dialog"]) != fmt.Sprint(in["replaced_dialog"]) {
		t.Errorf("NewIncomingFromTransfer %v and NewIncoming %v name other dialogs", from, in)
	}
	f.wantData(carol, "NewIncoming of session 2", in, map[string]any{"from": "<sip:bob@127.0.0.1:…", "referred_by": "<sip:alice@127.0.0.1:…"})
	f.before(carol, "carol's call with alice ended once bob's replacing call started",
		sessionNamed(2, "SIPSessionDidStart"), sessionNamed(1, "SIPSessionWillEnd"))
	f.before(bob, "the new call started before the transferred one ended",
		sessionNamed(2, "SIPSessionDidStart"), sessionNamed(1, "SIPSessionTransferDidEnd"))
	heard(t, "bob", recB2, 1300)
	heard(t, "carol", recC2, 700)
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}

// TestTransferRejected: bob refuses alice's transfer (/reject-transfer
// 486: a NOTIFY with 486): the transfer fails on both sides with the code
// (§2.8) and their call goes on until alice ends it. A decision without a
// transfer, or with a code that is none, is an error on stderr.
func TestTransferRejected(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	bob, uriB := startEchoHost(t, f, "bob")
	_, plugins := flowBinary(t)
	alice := startProc(t, "alice", "call", uriB, "--stream", "echo", "--json", "--user", "alice", "--plugin-dir", plugins)
	f.c = alice
	f.awaitSession(alice, 1, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidStart")
	f.send(bob, "/accept-transfer")
	f.awaitErr(bob, "sipstreams: /accept-transfer: no transfer to decide")
	f.send(alice, "/transfer sip:carol@127.0.0.1:9")
	f.awaitSession(bob, 1, "SIPSessionTransferNewIncoming")
	f.send(bob, "/reject-transfer busy")
	f.awaitErr(bob, `sipstreams: /reject-transfer: "busy" is not a response code`)
	f.send(bob, "/reject-transfer 486")
	f.awaitSession(alice, 1, "SIPSessionTransferDidFail")
	f.awaitSession(bob, 1, "SIPSessionTransferDidFail")
	// The call goes on: the echo stream still answers.
	f.send(alice, `/invoke send {"payload":"still here"}`)
	f.await(alice, "the echo", func(l jsonLine) bool { return l.Name == "EchoStreamGotEcho" && l.Data["payload"] == "still here" })
	f.send(alice, "/end")
	if err := f.waitExit(alice); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitSession(bob, 1, "SIPSessionDidEnd")
	f.quitProc(bob)

	f.checkSession(alice, 1, seq(autoCallerStart, transferorFailed, sessionEnd))
	f.checkSession(bob, 1, seq(calleeStart, []string{"SIPSessionTransferNewIncoming", "SIPSessionTransferDidFail"}, sessionEnd))
	if got := progress(alice, 1); fmt.Sprint(got) != "[100 486]" {
		t.Errorf("alice's transfer progress %v, want [100 486]", got)
	}
	f.wantData(alice, "TransferDidFail", f.sessionData(alice, 1, "SIPSessionTransferDidFail", 0), map[string]any{"code": 486, "reason": "Busy Here"})
	f.wantData(bob, "TransferDidFail", f.sessionData(bob, 1, "SIPSessionTransferDidFail", 0), map[string]any{"code": 486})
	f.wantData(alice, "DidEnd", f.sessionData(alice, 1, "SIPSessionDidEnd", 0), map[string]any{"originator": "local"})
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}

// TestTransferUnreachable: bob accepts transfers to targets he cannot
// reach; each time the failure reaches alice by NOTIFY, both sides post
// SIPSessionTransferDidFail with its code, and their call goes on
// (§2.8): a target that rings and never answers (sipp: bob gives up at
// his sip.invite_timeout, 2 s here, and alice also hears of the 180), and
// one bob has no route to (an IPv6 address, bob listening on IPv4 only:
// 480, as the reference's failed route lookup).
func TestTransferUnreachable(t *testing.T) {
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "config"), []byte("sip:\n    invite_timeout = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		sipp      bool // the target is sipp's uas_never_answers
		target    string
		progress  string   // alice's GotProgress codes
		code      int      // the transfer's failure
		newCall   []string // bob's session 2, if any
		newFailed int      // its SIPSessionDidFail code
	}{
		{name: "no answer", sipp: true, progress: "[100 180 487]", code: 487,
			newCall: []string{"SIPSessionNewOutgoing", "SIPSessionGotRingIndication", "SIPSessionGotProvisionalResponse", "SIPSessionDidFail"}, newFailed: 487},
		{name: "no route", target: "sip:carol@[::1]:5060", progress: "[100 480]", code: 480},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var uas *sipptest.Process
			if tc.sipp {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				uas = sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_never_answers.xml"})
				tc.target = fmt.Sprintf("sip:carol@127.0.0.1:%d", uas.Port())
			}
			f := &flow{t: t, tc: udp4}
			bob, uriB := startEchoHost(t, f, "bob", "--accept-transfers", "--config-dir", conf)
			_, plugins := flowBinary(t)
			alice := startProc(t, "alice", "call", uriB, "--stream", "echo", "--json", "--user", "alice", "--plugin-dir", plugins)
			f.c = alice
			f.awaitSession(alice, 1, "SIPSessionDidStart")
			f.awaitSession(bob, 1, "SIPSessionDidStart")
			f.send(alice, "/transfer "+tc.target)
			f.awaitSession(bob, 1, "SIPSessionTransferDidFail")
			f.awaitSession(alice, 1, "SIPSessionTransferDidFail")
			// The call goes on.
			f.send(alice, `/invoke send {"payload":"still here"}`)
			f.await(alice, "the echo", func(l jsonLine) bool { return l.Name == "EchoStreamGotEcho" && l.Data["payload"] == "still here" })
			f.send(alice, "/end")
			if err := f.waitExit(alice); err != nil {
				f.fatalf("alice exit: %v", err)
			}
			f.awaitSession(bob, 1, "SIPSessionDidEnd")
			f.quitProc(bob)

			f.checkSession(alice, 1, seq(autoCallerStart, transferorFailedAfter(len(strings.Fields(tc.progress))), sessionEnd))
			f.checkSession(bob, 1, seq(calleeStart, []string{"SIPSessionTransferNewIncoming", "SIPSessionTransferDidStart", "SIPSessionTransferDidFail"}, sessionEnd))
			f.checkSession(bob, 2, tc.newCall)
			if tc.newCall != nil {
				f.wantData(bob, "DidFail of session 2", f.sessionData(bob, 2, "SIPSessionDidFail", 0),
					map[string]any{"originator": "local", "code": tc.newFailed, "failure_reason": "timeout"})
			}
			if got := progress(alice, 1); fmt.Sprint(got) != tc.progress {
				t.Errorf("alice's transfer progress %v, want %s", got, tc.progress)
			}
			f.wantData(alice, "TransferDidFail", f.sessionData(alice, 1, "SIPSessionTransferDidFail", 0), map[string]any{"code": tc.code})
			f.wantData(bob, "TransferDidFail", f.sessionData(bob, 1, "SIPSessionTransferDidFail", 0), map[string]any{"code": tc.code})
			if uas != nil {
				r := uas.Wait()
				if r.Successful != 1 || r.Failed != 0 {
					t.Errorf("sipp: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
				}
				if !strings.Contains(r.Messages, "Referred-By: <sip:alice@127.0.0.1:") {
					t.Errorf("bob's INVITE to the target has no Referred-By naming alice:\n%s", r.Messages)
				}
			}
			if f.failed || t.Failed() {
				t.Log(f.dump())
			}
		})
	}
}

// transferorFailedAfter is transferorFailed with n progress notifications.
func transferorFailedAfter(n int) []string {
	return seq([]string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferDidStart"}, rep("SIPSessionTransferGotProgress", n), []string{"SIPSessionTransferDidFail"})
}

// awaitErr waits until p printed text on stderr.
func (f *flow) awaitErr(p *proc, text string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()
	if !p.errb.waitFor(ctx, text) {
		f.fatalf("%s: no %q on stderr within %v", p.who, text, flowWait)
	}
}

// TestTransferCallerTransferred: the transfer goes the other way — bob
// (`listen`) transfers alice, whose `call --accept-transfers` calls carol
// and ends her call with bob; `call` goes on with its new session and
// exits 0 once carol hangs up, no session being left.
func TestTransferCallerTransferred(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	bob, uriB := startEchoHost(t, f, "bob")
	carol, uriC := startEchoHost(t, f, "carol")
	_, plugins := flowBinary(t)
	alice := startProc(t, "alice", "call", uriB, "--stream", "echo", "--json", "--user", "alice", "--plugin-dir", plugins, "--accept-transfers")
	f.c = alice
	f.awaitSession(alice, 1, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidStart")
	f.send(bob, "/transfer "+uriC)
	f.awaitSession(bob, 1, "SIPSessionTransferDidEnd")
	f.awaitSession(alice, 2, "SIPSessionDidStart")
	f.awaitSession(alice, 1, "SIPSessionDidEnd")
	f.awaitSession(carol, 1, "SIPSessionDidStart")
	// Alice's commands apply to her new session.
	f.send(alice, `/invoke send {"payload":"to carol"}`)
	f.await(alice, "the echo", func(l jsonLine) bool { return l.Name == "EchoStreamGotEcho" && l.Data["payload"] == "to carol" })
	f.send(carol, "/end")
	if err := f.waitExit(alice); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitSession(carol, 1, "SIPSessionDidEnd")
	f.awaitSession(bob, 1, "SIPSessionDidEnd")
	f.quitProc(bob)
	f.quitProc(carol)

	f.checkSession(bob, 1, seq(calleeStart, transferorDone, sessionEnd))
	f.checkSession(alice, 1, seq(autoCallerStart, transfereeDone, sessionEnd))
	f.checkSession(alice, 2, seq(autoCallerStart, sessionEnd))
	f.checkSession(carol, 1, seq(calleeStart, sessionEnd))
	f.wantData(carol, "NewIncoming", f.sessionData(carol, 1, "SIPSessionNewIncoming", 0),
		map[string]any{"from": "<sip:alice@127.0.0.1:…", "referred_by": "<sip:bob@127.0.0.1:…"})
	f.wantData(alice, "DidEnd of session 2", f.sessionData(alice, 2, "SIPSessionDidEnd", 0), map[string]any{"originator": "remote"})
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}
