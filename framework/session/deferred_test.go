package session

import (
	"context"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// TestDeferredStreamInProposal: a stream of the peer's proposal that was
// not prepared by NewFromSDP (a type that defers its preparation to the
// accept, sdk.PrepareDeferrer, as a file transfer does) is initialized by
// AcceptProposal before the answer is built, and starts.
func TestDeferredStreamInProposal(t *testing.T) {
	a := newHost(t, "alice")
	b := newHostOn(t, "bob", udp4, func(c *Config) {
		reg := c.Streams
		c.Streams = StreamSourceFunc(func(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
			r := *req
			r.Prepare = nil // what a deferring stream's NewFromSDP gives
			st, err := reg.NewFromSDP(ctx, &r)
			if err == nil && st.Prepared().Done() {
				t.Errorf("the stream was prepared")
			}
			return st, err
		})
	})
	recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
	got := make(chan *Session, 1)
	out := call(t, a, b, func(s *Session, streams []Stream) {
		if err := s.Accept(streams); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- s
	})
	in := <-got
	waitFor(t, recA, SIPSessionDidStart)
	waitFor(t, recB, SIPSessionDidStart)
	onProposal(t, b, func(s *Session, streams []Stream) {
		if err := s.AcceptProposal(streams); err != nil {
			t.Errorf("AcceptProposal: %v", err)
		}
	})
	if err := out.AddStreams([]Stream{newEcho(t, a)}); err != nil {
		t.Fatal(err)
	}
	acc := waitFor(t, recA, SIPSessionProposalAccepted).Data.(ProposalAcceptedData)
	if len(acc.AcceptedStreams) != 1 {
		t.Fatalf("caller ProposalAccepted = %+v", acc)
	}
	waitFor(t, recB, SIPSessionDidRenegotiateStreams)
	waitState(t, in, StateConnected)
	if n := len(in.Streams()); n != 2 {
		t.Fatalf("bob's streams: %d", n)
	}
	if _, err := out.Streams()[1].Invoke(context.Background(), &sdk.InvokeRequest{Method: "send", Args: []byte(`{"payload":"deferred"}`)}); err != nil {
		t.Fatal(err)
	}
	out.End()
	waitFor(t, recB, SIPSessionDidEnd)
}
