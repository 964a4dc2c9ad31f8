package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// The tests of issue 12's done-when 4, transfer part: a peer (sipp) sends
// a running sipstreams process transfer requests it must refuse, and the
// process answers with the right code, says why, and goes on.

// TestTransferBadReferFromSipp: sipp calls `listen` (no
// --accept-transfers) and sends REFERs in the call: a malformed Refer-To
// and none at all (400 with a Warning saying which; no transfer for the
// application to decide), a good one (202, NOTIFY 100, and the listener
// asks its user), and one more while that one waits (480). The session
// goes on to sipp's BYE; the waiting transfer fails with it.
func TestTransferBadReferFromSipp(t *testing.T) {
	f, ports := startListener(t, nil, "udp:127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sipp := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uac_refer_bad.xml", Remote: fmt.Sprintf("127.0.0.1:%d", ports["udp:127.0.0.1"])})
	f.awaitName(f.l, "SIPSessionTransferNewIncoming")
	r := sipp.Wait()
	if r.Successful != 1 || r.Failed != 0 {
		f.fatalf("sipp: %d successful, %d failed\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
	}
	f.awaitName(f.l, "SIPSessionDidEnd")
	f.quit()

	for _, want := range []string{
		`Warning: 399 - "malformed Refer-To: `, `Warning: 399 - "no Refer-To header"`,
		"SIP/2.0 202 Accepted", `Warning: 399 - "a transfer is in progress"`,
	} {
		if !strings.Contains(r.Messages, want) {
			t.Errorf("the listener's answers to sipp lack %q:\n%s", want, r.Messages)
		}
	}
	// One transfer reached the application: the good REFER's; the BYE
	// ended the session with it undecided.
	f.check(f.l, seq(calleeStart, []string{"SIPSessionTransferNewIncoming"}, sessionEnd))
	f.data(f.l, "SIPSessionTransferNewIncoming", 0, map[string]any{"transfer_destination": "sip:carol@127.0.0.1:9"})
	f.data(f.l, "SIPSessionDidEnd", 0, map[string]any{"originator": "remote"})
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}

// TestTransferReplacesMatchingNothing: INVITEs with a Replaces header
// (RFC 3891) that names no dialog of `listen`, or does not parse, get 481
// and SIPSessionNewIncomingFromTransferFailed saying why; no session is
// offered to the user, and the listener's call with alice, whose Call-ID
// one of them borrows with other tags, goes on.
func TestTransferReplacesMatchingNothing(t *testing.T) {
	f, ports := startListener(t, nil, "udp:127.0.0.1:0")
	uri := fmt.Sprintf("sip:bob@127.0.0.1:%d", ports["udp:127.0.0.1"])
	_, plugins := flowBinary(t)
	f.c = startProc(t, "caller", "call", uri, "--stream", "echo", "--json", "--user", "alice", "--plugin-dir", plugins)
	f.awaitName(f.c, "SIPSessionDidStart")
	f.awaitName(f.l, "SIPSessionDidStart")
	f.send(f.l, "/sessions")
	callID := fmt.Sprint(f.awaitName(f.l, "sessions").Sessions[0]["call_id"])

	for _, tc := range []struct {
		name, replaces, reason string
	}{
		{"unknown dialog", "nosuchcall;to-tag=a;from-tag=b", "no dialog matches the Replaces header nosuchcall;"},
		{"the call's Call-ID, other tags", callID + ";to-tag=wrong;from-tag=wrong", "no dialog matches the Replaces header " + callID + ";"},
		{"no from-tag", "nosuchcall;to-tag=a", "malformed Replaces header: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_replaces_nomatch.xml", Remote: strings.TrimPrefix(uri, "sip:bob@"),
				Vars: map[string]string{"replaces": tc.replaces}})
			if r.Successful != 1 || r.Failed != 0 || !strings.Contains(r.Messages, "SIP/2.0 481 ") {
				t.Errorf("sipp: %d successful, %d failed, want its INVITE answered 481\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
			}
			l := f.awaitName(f.l, "SIPSessionNewIncomingFromTransferFailed")
			if l.Sender != "session manager" || !strings.HasPrefix(fmt.Sprint(l.Data["reason"]), tc.reason) {
				t.Errorf("%s from %s, want a reason starting %q from the session manager", l.Data, l.Sender, tc.reason)
			}
		})
	}

	// The call goes on: its echo still answers.
	f.send(f.c, `/invoke send {"payload":"still here"}`)
	f.await(f.c, "the echo", func(l jsonLine) bool { return l.Name == "EchoStreamGotEcho" && l.Data["payload"] == "still here" })
	f.endByCaller()
	f.quit()
	// Only alice's session was offered; each refused INVITE was told.
	f.check(f.l, seq(calleeStart, rep("SIPSessionNewIncomingFromTransferFailed", 3), sessionEnd))
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}

// TestTransferGarbageNotify: alice (`call`) transfers sipp, which accepts
// the REFER and reports with a NOTIFY whose body is no sipfrag — after
// its 202, or before it (the NOTIFY overtaking the 202, which comes once
// the NOTIFY was answered): alice answers 400 and her transfer fails,
// saying so (on stdout as SIPSessionTransferDidFail, in the readable
// line too), after SIPSessionTransferDidStart either way (a NOTIFY means
// the peer took the REFER); the call goes on until /end.
func TestTransferGarbageNotify(t *testing.T) {
	for _, tc := range []struct {
		name, scenario string
		json           bool
	}{
		{"after the 202", "uas_notify_garbage.xml", true},
		{"before the 202", "uas_notify_garbage_early.xml", true},
		{"readable", "uas_notify_garbage.xml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: tc.scenario})
			_, plugins := flowBinary(t)
			args := []string{"call", fmt.Sprintf("sip:sipp@127.0.0.1:%d", uas.Port()), "--stream", "echo", "--user", "alice", "--plugin-dir", plugins}
			f := &flow{t: t, tc: udp4}
			if !tc.json {
				f.c = startProc(t, "caller", args...)
				f.awaitOut(f.c, "SIPSessionDidStart")
				f.send(f.c, "/transfer sip:carol@127.0.0.1:9")
				f.awaitOut(f.c, "session 1: the transfer failed: malformed NOTIFY: ")
				f.send(f.c, "/end")
				if err := f.waitExit(f.c); err != nil {
					f.fatalf("caller exit: %v", err)
				}
				if r := uas.Wait(); r.Successful != 1 || r.Failed != 0 {
					t.Errorf("sipp: %d successful, %d failed\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
				}
				// The notification's line names the session and says why.
				if out := f.c.out.String(); !strings.Contains(out, `session 1 (outgoing `) || !strings.Contains(out, `SIPSessionTransferDidFail {"code":0,"reason":"malformed NOTIFY: `) {
					t.Errorf("the readable output lacks the failed transfer:\n%s", out)
				}
				return
			}
			f.c = startProc(t, "caller", append(args, "--json")...)
			f.awaitName(f.c, "SIPSessionDidStart")
			f.send(f.c, "/transfer sip:carol@127.0.0.1:9")
			fail := f.awaitName(f.c, "SIPSessionTransferDidFail")
			if !strings.HasPrefix(fmt.Sprint(fail.Data["reason"]), "malformed NOTIFY: ") {
				t.Errorf("SIPSessionTransferDidFail %v, want a reason naming the malformed NOTIFY", fail.Data)
			}
			// The call goes on, the failed transfer noted.
			f.send(f.c, "/sessions")
			list := f.awaitName(f.c, "sessions").Sessions
			if len(list) != 1 || list[0]["state"] != "connected" || fmt.Sprint(list[0]["transfer"]) != "map[direction:outgoing state:failed]" {
				t.Errorf("alice's /sessions after the failed transfer: %v, want her call connected", list)
			}
			f.send(f.c, "/end")
			if err := f.waitExit(f.c); err != nil {
				f.fatalf("caller exit: %v", err)
			}
			r := uas.Wait()
			if r.Successful != 1 || r.Failed != 0 {
				t.Errorf("sipp: %d successful, %d failed\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
			}
			if !strings.Contains(r.Messages, `Warning: 399 - "the body is not a message/sipfrag status line"`) {
				t.Errorf("alice's 400 to the NOTIFY has no Warning saying why:\n%s", r.Messages)
			}
			// sipp answers 200 at once, without a 180.
			answered := []string{"SIPSessionNewOutgoing", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart"}
			f.check(f.c, seq(answered, []string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferDidStart", "SIPSessionTransferDidFail"}, sessionEnd))
			if f.failed || t.Failed() {
				t.Log(f.dump())
			}
		})
	}
}

// awaitOut waits until p printed text (readable output, no --json).
func (f *flow) awaitOut(p *proc, text string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), flowWait)
	defer cancel()
	if !p.out.waitFor(ctx, text) {
		f.fatalf("%s: no %q within %v", p.who, text, flowWait)
	}
}
