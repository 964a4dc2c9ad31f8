package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestByeBeforeACK: the caller's ACK is lost (UDP) and its BYE comes
// first. The host answers the BYE 200 and takes it for the ACK (the
// caller had our 2xx): the session starts and ends at once, as if the
// BYE had followed the ACK — not after waiting out the ACK (Timer H,
// 32 s) and sending a BYE of its own ("Missing ACK") that the caller,
// done with the call, never answers (Timer F, 32 s more): sessions that
// lingered a minute after the attack soak's good calls (a lost ACK under
// the soak's UDP flood). RFC 3261 §12.1.1: the dialog is confirmed at the
// UAS once it sent the 2xx, and §15.1.2: a UAS receiving a BYE
// terminates the session.
func TestByeBeforeACK(t *testing.T) {
	f, ports := startListener(t, nil, "udp:127.0.0.1:0")
	p := newUDPPeer(t, ports["udp:127.0.0.1"])
	p.send(p.request("INVITE", "noack", 1, "", nil, echoSDP))
	res := p.final()
	if res.StatusCode != 200 {
		f.fatalf("INVITE: %d", res.StatusCode)
	}
	tag, _ := res.To().Params.Get("tag")
	// No ACK.
	p.send(p.request("BYE", "noack", 2, tag, nil, ""))
	deadline := time.Now().Add(flowWait)
	for {
		r, err := p.response(time.Until(deadline))
		if err != nil {
			f.fatalf("no answer to the BYE: %v", err)
		}
		if r.CSeq().MethodName == "BYE" {
			if r.StatusCode != 200 {
				f.fatalf("BYE answered %d", r.StatusCode)
			}
			break
		}
	}
	start := time.Now()
	l := f.await(f.l, "the session's end", func(l jsonLine) bool { return l.Name == "SIPSessionDidEnd" || l.Name == "SIPSessionDidFail" })
	t.Logf("%s %v after the BYE's 200: %v", l.Name, time.Since(start).Round(time.Millisecond), l.Data)
	if l.Name != "SIPSessionDidEnd" || l.Data["originator"] != "remote" {
		t.Errorf("got %s %v, want SIPSessionDidEnd by the remote", l.Name, l.Data)
	}
	// The BYE stood for the ACK: the session started, then ended, in the
	// order of a BYE right behind its ACK (the state machine of §2.1).
	var got []string
	for _, l := range f.l.seen {
		switch l.Name {
		case "SIPSessionDidStart", "SIPSessionWillEnd", "SIPSessionDidEnd", "SIPSessionDidFail":
			got = append(got, l.Name)
		case "SIPSessionDidProcessTransaction":
			got = append(got, fmt.Sprintf("%s(%v %v)", l.Name, l.Data["method"], l.Data["code"]))
		}
	}
	want := "SIPSessionDidProcessTransaction(INVITE 200) SIPSessionDidStart SIPSessionWillEnd SIPSessionDidProcessTransaction(BYE 200) SIPSessionDidEnd"
	if strings.Join(got, " ") != want {
		t.Errorf("notifications: %s\nwant %s", strings.Join(got, " "), want)
	}
	f.quit()
}
