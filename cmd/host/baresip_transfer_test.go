package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/baresiptest"
)

// The tests of issue 12's done-when 2: call transfer with Debian's
// baresip 1.0.0, both ways. baresip 1.0's menu has /transfer (a blind
// transfer: REFER with a bare Refer-To, no Referred-By) and accepts a
// REFER on its own (it calls the target at once and NOTIFYs the
// progress); it has no attended transfer.

// TestBaresipTransfersHost: baresip calls bob (a host with
// --accept-transfers) and transfers him to carol (another host) with its
// /transfer command; bob calls carol, reports to baresip by NOTIFY, and
// baresip hangs up; bob and carol hear each other.
func TestBaresipTransfersHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	recB, recC := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "carol.wav")
	f := &flow{t: t, tc: udp4}
	bob, uriB := startHost(t, f, "bob", 700, recB, "--accept-transfers")
	carol, uriC := startHost(t, f, "carol", 1300, recC)
	b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: 1000, SIPTrace: true})
	if err := b.Dial(uriB); err != nil {
		t.Fatal(err)
	}
	f.awaitSession(bob, 1, "SIPSessionDidStart")
	if _, err := b.WaitLog(ctx, baresiptest.LogEstablished); err != nil {
		f.fatalf("baresip's call: %v", err)
	}
	if err := b.Command("/transfer " + uriC); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitLog(ctx, `^transferring call to `+uriC+`$`); err != nil {
		f.fatalf("baresip did not transfer: %v", err)
	}
	f.awaitSession(bob, 2, "SIPSessionDidStart")
	f.awaitSession(carol, 1, "SIPSessionDidStart")
	f.awaitSession(bob, 1, "SIPSessionDidEnd")
	// baresip hangs up on the NOTIFY 200 (bob's BYE may cross it); it
	// logs the call's end only sometimes, its SIP trace always.
	if _, err := b.WaitLog(ctx, `^BYE `+regexp.QuoteMeta(uriB)+` SIP/2\.0$`); err != nil {
		f.t.Errorf("baresip did not hang up its call with bob: %v", err)
	}

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

	f.checkSession(bob, 1, seq(calleeStart, transfereeDone, sessionEnd))
	f.checkSession(bob, 2, seq(autoCallerStart, sessionEnd))
	f.checkSession(carol, 1, seq(calleeStart, sessionEnd))
	f.wantData(bob, "TransferNewIncoming", f.sessionData(bob, 1, "SIPSessionTransferNewIncoming", 0),
		map[string]any{"transfer_destination": uriC, "refer_to": "<" + uriC + ">"})
	// baresip sends no Referred-By: bob names baresip, the peer that
	// transferred him.
	f.wantData(carol, "NewIncoming", f.sessionData(carol, 1, "SIPSessionNewIncoming", 0),
		map[string]any{"from": "<sip:bob@127.0.0.1:…", "referred_by": "<sip:baresip@127.0.0.1…"})
	heard(t, "bob", recB2, 1300)
	heard(t, "carol", recC, 700)
	if f.failed || t.Failed() {
		t.Log(f.dump())
		t.Log(b.Log())
	}
}

// TestHostTransfersBaresip: alice (a host) calls baresip and transfers it
// to carol (another host) with /transfer; baresip accepts the REFER,
// calls carol and NOTIFYs alice, whose call ends; baresip and carol hear
// each other.
func TestHostTransfersBaresip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	recA, recC := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "carol.wav")
	f := &flow{t: t, tc: udp4}
	carol, uriC := startHost(t, f, "carol", 1300, recC)
	b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: 1000, AutoAnswer: true})
	alice := startProc(t, "alice", "call", b.URI(), "--audio", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t),
		"--play", toneWAV(t, 440), "--record", recA)
	f.c = alice
	f.awaitSession(alice, 1, "SIPSessionDidStart")
	// baresip names its recordings by the second: two seconds of this
	// call keep the next one's apart.
	if err := b.WaitRecorded(ctx, 2); err != nil {
		f.fatalf("baresip recorded no media: %v", err)
	}

	f.send(alice, "/transfer "+uriC)
	f.awaitSession(alice, 1, "SIPSessionTransferDidEnd")
	if err := f.waitExit(alice); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitSession(carol, 1, "SIPSessionDidStart")
	if _, err := b.WaitLogN(ctx, baresiptest.LogEstablished, 2); err != nil {
		f.fatalf("baresip's call to carol: %v", err)
	}
	f.awaitRTP(carol, 75)
	recs, err := b.Recordings()
	if err != nil || len(recs) != 2 {
		f.fatalf("baresip's recordings: %v %v, want one per call", recs, err)
	}
	if err := b.WaitRecorded(ctx, 2); err != nil {
		f.fatalf("baresip recorded no media with carol: %v", err)
	}
	f.send(carol, "/end")
	f.awaitSession(carol, 1, "SIPSessionDidEnd")
	if _, err := b.WaitLogN(ctx, baresiptest.LogTerminated, 2); err != nil {
		f.t.Errorf("baresip's call with carol did not end: %v", err)
	}
	f.awaitStopRecording(carol, recC)
	f.quitProc(carol)

	codes := progress(alice, 1)
	t.Logf("baresip's NOTIFYs: %v", codes)
	start := autoCallerStart
	if slices.Contains(sessionSeq(alice, 1), "SIPSessionGotRingIndication") {
		// baresip's auto-answer sends 180 first, or not.
		start = callerStart
	}
	f.checkSession(alice, 1, seq(start, []string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferDidStart"},
		rep("SIPSessionTransferGotProgress", len(codes)), []string{"SIPSessionTransferDidEnd"}, sessionEnd))
	if len(codes) == 0 || codes[len(codes)-1] != 200 || strings.Count(fmt.Sprint(codes), "200") != 1 {
		t.Errorf("alice's transfer progress %v, want provisional codes then 200", codes)
	}
	f.wantData(alice, "DidEnd", f.sessionData(alice, 1, "SIPSessionDidEnd", 0), map[string]any{"originator": "local"})
	f.checkSession(carol, 1, seq(calleeStart, sessionEnd))
	f.wantData(carol, "NewIncoming", f.sessionData(carol, 1, "SIPSessionNewIncoming", 0),
		map[string]any{"from": "<sip:baresip@127.0.0.1:…", "user_agent": "baresip v1.0.0…"})
	heard(t, "carol", recC, 1000)
	recs, err = b.Recordings()
	if err != nil || len(recs) != 2 {
		t.Fatalf("baresip's recordings: %v %v", recs, err)
	}
	for i, want := range []float64{440, 1300} {
		got, err := baresiptest.DominantFrequency(recs[i].Received)
		if err != nil || math.Abs(got-want) > 10 {
			t.Errorf("baresip's call %d: heard %.1f Hz (%v), want %.0f Hz", i+1, got, err, want)
		}
	}
	if f.failed || t.Failed() {
		t.Log(f.dump())
	}
}
