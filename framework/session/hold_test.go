package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

// connected sets up an accepted call between two fresh hosts.
func connected(t *testing.T) (a, b *host, out, in *Session, recA, recB *notify.Recorder) {
	t.Helper()
	a, b = newHost(t, "alice"), newHost(t, "bob")
	recA, recB = sessionRecorder(t, a), sessionRecorder(t, b)
	got := make(chan *Session, 1)
	out = call(t, a, b, func(s *Session, streams []Stream) {
		if err := s.Accept(streams); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- s
	})
	in = <-got
	waitFor(t, recA, SIPSessionDidStart)
	waitFor(t, recB, SIPSessionDidStart)
	return
}

func holdEvents(rec *notify.Recorder) []HoldStateData {
	var out []HoldStateData
	for _, n := range rec.All() {
		if n.Name == SIPSessionDidChangeHoldState {
			out = append(out, n.Data.(HoldStateData))
		}
	}
	return out
}

func waitHoldEvents(t *testing.T, rec *notify.Recorder, n int) []HoldStateData {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := rec.Wait(ctx, func([]notify.Notification) bool { return len(holdEvents(rec)) >= n })
	if err != nil {
		t.Fatalf("waiting for %d hold changes: %v (have %+v)", n, err, holdEvents(rec))
	}
	return holdEvents(rec)
}

func attrs(t *testing.T, s *Session) *sdk.Attributes {
	t.Helper()
	a, err := s.Streams()[0].Attributes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func waitState(t *testing.T, s *Session, want State) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.State() != want {
		if time.Now().After(deadline) {
			t.Fatalf("state %v, want %v", s.State(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHoldUnhold(t *testing.T) {
	for _, side := range []string{"caller", "callee"} {
		t.Run(side+" holds", func(t *testing.T) {
			_, _, out, in, recA, recB := connected(t)
			holder, held, recHolder, recHeld := out, in, recA, recB
			if side == "callee" {
				holder, held, recHolder, recHeld = in, out, recB, recA
			}
			if err := holder.Hold(); err != nil {
				t.Fatal(err)
			}
			if hs := waitHoldEvents(t, recHolder, 1); hs[0] != (HoldStateData{Originator: Local, OnHold: true}) {
				t.Errorf("holder: %+v", hs)
			}
			if hs := waitHoldEvents(t, recHeld, 1); hs[0] != (HoldStateData{Originator: Remote, OnHold: true}) {
				t.Errorf("held: %+v", hs)
			}
			waitState(t, holder, StateConnected)
			if a := attrs(t, holder); !a.OnHoldByLocal || a.OnHoldByRemote {
				t.Errorf("holder stream %+v", a)
			}
			if a := attrs(t, held); !a.OnHoldByRemote || a.OnHoldByLocal {
				t.Errorf("held stream %+v", a)
			}
			if !holder.OnHold() || !held.OnHold() {
				t.Errorf("OnHold %v %v", holder.OnHold(), held.OnHold())
			}
			if err := holder.Unhold(); err != nil {
				t.Fatal(err)
			}
			if hs := waitHoldEvents(t, recHolder, 2); hs[1] != (HoldStateData{Originator: Local, OnHold: false}) {
				t.Errorf("holder: %+v", hs)
			}
			if hs := waitHoldEvents(t, recHeld, 2); hs[1] != (HoldStateData{Originator: Remote, OnHold: false}) {
				t.Errorf("held: %+v", hs)
			}
			waitState(t, holder, StateConnected)
			if a := attrs(t, held); a.OnHold() {
				t.Errorf("held stream after unhold %+v", a)
			}
			// The call still works and ends normally.
			holder.End()
			waitFor(t, recHeld, SIPSessionDidEnd)
		})
	}
}

// TestHoldGlare: both sides hold at once; one re-INVITE meets the other's
// 491, waits and retries, and both holds complete.
func TestHoldGlare(t *testing.T) {
	_, _, out, in, recA, recB := connected(t)
	if err := out.Hold(); err != nil {
		t.Fatal(err)
	}
	if err := in.Hold(); err != nil {
		t.Fatal(err)
	}
	for who, rec := range map[string]*notify.Recorder{"caller": recA, "callee": recB} {
		var local bool
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := rec.Wait(ctx, func([]notify.Notification) bool {
			for _, h := range holdEvents(rec) {
				if h.Originator == Local && h.OnHold {
					local = true
				}
			}
			return local
		})
		cancel()
		if err != nil {
			t.Fatalf("%s never completed its hold: %+v", who, holdEvents(rec))
		}
	}
	waitState(t, out, StateConnected)
	waitState(t, in, StateConnected)
	// Both media are inactive and each side is held by the other. (The
	// reference keeps on_hold_by_local unchanged on an inactive
	// negotiation, §3.5, so only the first holder reports it.)
	for _, s := range []*Session{out, in} {
		a := attrs(t, s)
		var extra struct {
			Direction string `json:"direction"`
		}
		if err := a.DecodeExtra(&extra); err != nil {
			t.Fatal(err)
		}
		if !a.OnHoldByRemote || extra.Direction != "inactive" {
			t.Errorf("after mutual hold: remote-held %v, direction %q", a.OnHoldByRemote, extra.Direction)
		}
	}
}

// TestReinviteWithoutSDP: the peer re-INVITEs without SDP; we re-offer in
// the 200 and apply the answer of its ACK, and the call goes on.
func TestReinviteWithoutSDP(t *testing.T) {
	a, _, out, in, _, _ := connected(t)
	// Send the bodiless re-INVITE by hand from the caller's dialog.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The request is built on the caller's loop (it owns the dialog) and
	// sent by hand, outside the session.
	var req *sip.Request
	var route engine.Route
	_ = out.do("test", func() error {
		req = out.newRequest(sip.INVITE, out.remoteTarget)
		req.AppendHeader(out.contact())
		route = out.route
		return nil
	})
	res, err := finalResponse(ctx, a.eng, req, route)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	offer, err := sdk.ParseSDP(string(res.Body()))
	if err != nil || len(offer.MediaDescriptions) != 1 {
		t.Fatalf("the 200 carries no offer: %v\n%s", err, res.Body())
	}
	am, err := out.Streams()[0].GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: string(res.Body())})
	if err != nil {
		t.Fatal(err)
	}
	var ack *sip.Request
	_ = out.do("test", func() error {
		ack = out.newRequest(sip.ACK, out.remoteTarget)
		return nil
	})
	ack.ReplaceHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	answer := "v=0\r\no=- 9 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + am.Media
	ack.SetBody([]byte(answer))
	if err := a.eng.Write(ack, route); err != nil {
		t.Fatal(err)
	}
	waitState(t, in, StateConnected)
	// Media still flows from the callee's reset stream to the caller.
	if _, err := in.Streams()[0].Invoke(ctx, &sdk.InvokeRequest{Method: "send", Args: []byte(`{"payload":"after reset"}`)}); err != nil {
		t.Fatal(err)
	}
}

// finalResponse sends req with eng and returns its final response.
func finalResponse(ctx context.Context, eng *engine.Engine, req *sip.Request, route engine.Route) (*sip.Response, error) {
	tx, err := eng.Request(ctx, req, route)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res != nil && res.StatusCode >= 200 {
				return res, nil
			}
		case <-tx.Done():
			return nil, fmt.Errorf("no final response: %v", tx.Err())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// sdpVersion is the o= line's session version of one of s's SDPs, read on
// its loop.
func sdpVersion(t *testing.T, s *Session, local bool) uint64 {
	t.Helper()
	var text string
	if err := s.do("test", func() error {
		text = s.remoteSDP
		if local {
			text = s.localSDP
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	d, err := sdk.ParseSDP(text)
	if err != nil {
		t.Fatal(err)
	}
	return d.Origin.SessionVersion
}

// transactions are the transactions of method we sent, as reported.
func transactions(rec *notify.Recorder, method string) []ProcessTransactionData {
	var out []ProcessTransactionData
	for _, n := range rec.All() {
		if d, ok := n.Data.(ProcessTransactionData); ok && n.Name == SIPSessionDidProcessTransaction && d.Method == method && d.Originator == Local {
			out = append(out, d)
		}
	}
	return out
}

// TestRenegotiate: either side re-offers its streams as they are; the
// re-INVITE carries a new SDP version that the peer takes as its remote
// SDP, SIPSessionDidProcessTransaction reports the 200, no hold state
// changes and the call goes on. Renegotiate on an ended session is an
// IllegalStateError.
func TestRenegotiate(t *testing.T) {
	_, _, out, in, recA, recB := connected(t)
	for i, x := range []struct {
		from, to *Session
		rec      *notify.Recorder
	}{{out, in, recA}, {in, out, recB}} {
		recA.Reset()
		recB.Reset()
		before := sdpVersion(t, x.from, true)
		if err := x.from.Renegotiate(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := x.rec.Wait(ctx, func([]notify.Notification) bool {
			return len(transactions(x.rec, "INVITE")) > 0 && x.from.State() == StateConnected
		})
		cancel()
		if err != nil {
			t.Fatalf("renegotiation %d: no INVITE transaction reported: %v", i, err)
		}
		tr := transactions(x.rec, "INVITE")
		if len(tr) != 1 || tr[0] != (ProcessTransactionData{Originator: Local, Method: "INVITE", Code: 200, Reason: "OK"}) {
			t.Fatalf("renegotiation %d: %+v", i, tr)
		}
		after := sdpVersion(t, x.from, true)
		if after != before+1 {
			t.Errorf("renegotiation %d: SDP version %d after %d", i, after, before)
		}
		// The peer takes the offer once our ACK reached it: it is
		// connected again then.
		waitState(t, x.to, StateConnected)
		if got := sdpVersion(t, x.to, false); got != after {
			t.Errorf("renegotiation %d: the peer's remote SDP is version %d, want %d", i, got, after)
		}
		for _, rec := range []*notify.Recorder{recA, recB} {
			if hs := holdEvents(rec); len(hs) != 0 {
				t.Errorf("renegotiation %d changed the hold state: %+v", i, hs)
			}
		}
	}
	out.End()
	waitFor(t, recB, SIPSessionDidEnd)
	waitState(t, out, StateTerminated)
	var ise *IllegalStateError
	if err := out.Renegotiate(); !errors.As(err, &ise) {
		t.Fatalf("Renegotiate after the end: %v, want an IllegalStateError", err)
	}
}
