package session

import (
	"context"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

func newEcho(t *testing.T, h *host) Stream {
	t.Helper()
	st, err := h.reg.Create(context.Background(), &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// onProposal runs decide for every remote proposal h receives.
func onProposal(t *testing.T, h *host, decide func(*Session, []Stream)) {
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		d := n.Data.(NewProposalData)
		if d.Originator == Remote {
			go decide(n.Sender.(*Session), d.ProposedStreams)
		}
	}), SIPSessionNewProposal, nil)
	t.Cleanup(unsub)
}

func TestAddStreamAccepted(t *testing.T) {
	_, b, out, in, recA, recB := connected(t)
	onProposal(t, b, func(s *Session, streams []Stream) {
		if err := s.AcceptProposal(streams); err != nil {
			t.Errorf("AcceptProposal: %v", err)
		}
	})
	if err := out.AddStreams([]Stream{newEcho(t, newHostSide(t, out))}); err != nil {
		t.Fatal(err)
	}
	acc := waitFor(t, recA, SIPSessionProposalAccepted).Data.(ProposalAcceptedData)
	if acc.Originator != Local || len(acc.AcceptedStreams) != 1 {
		t.Fatalf("caller ProposalAccepted = %+v", acc)
	}
	waitFor(t, recB, SIPSessionDidRenegotiateStreams)
	waitState(t, out, StateConnected)
	waitState(t, in, StateConnected)
	if len(out.Streams()) != 2 || len(in.Streams()) != 2 {
		t.Fatalf("streams: %d / %d", len(out.Streams()), len(in.Streams()))
	}
	// Media flows on the added stream.
	if _, err := out.Streams()[1].Invoke(context.Background(), &sdk.InvokeRequest{Method: "send", Args: []byte(`{"payload":"second"}`)}); err != nil {
		t.Fatal(err)
	}
	// And it can be removed again.
	second := out.Streams()[1]
	if err := out.RemoveStreams([]Stream{second}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, recB, SIPSessionDidRenegotiateStreams)
	rem := lastNamed(recA, SIPSessionDidRenegotiateStreams).Data.(RenegotiateData)
	if rem.Originator != Local {
		t.Errorf("caller renegotiation = %+v", rem)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(in.Streams()) != 1 || len(out.Streams()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("streams after removal: %d / %d", len(out.Streams()), len(in.Streams()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	names := func(rec *notify.Recorder) (out []string) {
		for _, n := range rec.Names() {
			if n == SIPSessionNewProposal || n == SIPSessionProposalAccepted || n == SIPSessionDidRenegotiateStreams {
				out = append(out, n)
			}
		}
		return out
	}
	want := []string{SIPSessionNewProposal, SIPSessionProposalAccepted, SIPSessionDidRenegotiateStreams, SIPSessionDidRenegotiateStreams}
	waitState(t, out, StateConnected)
	for who, rec := range map[string]*notify.Recorder{"caller": recA, "callee": recB} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = rec.Wait(ctx, func([]notify.Notification) bool { return len(names(rec)) >= len(want) })
		cancel()
		if got := names(rec); len(got) != len(want) {
			t.Errorf("%s: %v, want %v", who, got, want)
		}
	}
}

func lastNamed(rec *notify.Recorder, name string) notify.Notification {
	var last notify.Notification
	for _, n := range rec.All() {
		if n.Name == name {
			last = n
		}
	}
	return last
}

// newHostSide returns the host owning s (for creating streams there).
func newHostSide(t *testing.T, s *Session) *host {
	t.Helper()
	hostsMu.Lock()
	hosts := hostsOf[t.Name()]
	hostsMu.Unlock()
	for _, h := range hosts {
		if h.mgr == s.m {
			return h
		}
	}
	t.Fatal("session of an unknown host")
	return nil
}

func TestAddStreamRejected(t *testing.T) {
	_, b, out, _, recA, recB := connected(t)
	onProposal(t, b, func(s *Session, _ []Stream) {
		if err := s.RejectProposal(0, ""); err != nil {
			t.Errorf("RejectProposal: %v", err)
		}
	})
	if err := out.AddStreams([]Stream{newEcho(t, newHostSide(t, out))}); err != nil {
		t.Fatal(err)
	}
	rej := waitFor(t, recA, SIPSessionProposalRejected).Data.(ProposalRejectedData)
	if rej.Originator != Local || rej.Code != 488 {
		t.Errorf("caller ProposalRejected = %+v", rej)
	}
	brej := waitFor(t, recB, SIPSessionProposalRejected).Data.(ProposalRejectedData)
	if brej.Originator != Remote || brej.Code != 488 {
		t.Errorf("callee ProposalRejected = %+v", brej)
	}
	waitState(t, out, StateConnected)
	if len(out.Streams()) != 1 {
		t.Errorf("streams after rejection: %d", len(out.Streams()))
	}
}

func TestCancelProposal(t *testing.T) {
	_, b, out, _, recA, recB := connected(t)
	asked := make(chan struct{})
	onProposal(t, b, func(*Session, []Stream) { close(asked) }) // never decides
	if err := out.AddStreams([]Stream{newEcho(t, newHostSide(t, out))}); err != nil {
		t.Fatal(err)
	}
	<-asked
	if err := out.CancelProposal(); err != nil {
		t.Fatal(err)
	}
	rej := waitFor(t, recA, SIPSessionProposalRejected).Data.(ProposalRejectedData)
	if rej.Originator != Local || rej.Code != 487 {
		t.Errorf("caller ProposalRejected = %+v", rej)
	}
	brej := waitFor(t, recB, SIPSessionProposalRejected).Data.(ProposalRejectedData)
	if brej.Originator != Remote || brej.Code != 487 {
		t.Errorf("callee ProposalRejected = %+v", brej)
	}
	waitState(t, out, StateConnected)
}
