package session

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/sdk"
)

// TestCloseAfterAbandonedInvite: a call to a peer that swallows every
// message (a bare UDP socket) is CANCELled after sip.invite_timeout and,
// the CANCEL unanswered too, abandoned locally (SIPSessionDidFail 487).
// Closing the manager then must not wait for the abandoned INVITE's
// transaction to reach Timer B (32 s after the INVITE): it is what kept
// `sipstreams call --timeout 2s` running for 25 s (issue 16 item 11), the
// manager's Close waiting for the INVITE's follower (loop.go send, orphan
// set by sendInvite) until the application's stop deadline cut it.
func TestCloseAfterAbandonedInvite(t *testing.T) {
	h := newHost(t, "host")
	rec := sessionRecorder(t, h)
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acc := *h.acc
	acc.Settings = map[string]string{"sip.invite_timeout": "1"}
	s := h.mgr.NewSessionAs(&acc)
	st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	to := sip.Uri{Scheme: "sip", User: "sink", Host: "127.0.0.1", Port: port}
	route := engine.Route{Address: "127.0.0.1", Port: port, Transport: engine.TransportUDP}
	if err := s.Connect(ctx, to, []engine.Route{route}, []Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	fail := waitFor(t, rec, SIPSessionDidFail).Data.(DidFailData)
	if fail.Code != 487 {
		t.Errorf("SIPSessionDidFail %+v, want 487", fail)
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		h.mgr.Close(ctx) // a minute: longer than Timer B
	}()
	// A deadline for the event, far from Timer B's 32 s; not a timing.
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Errorf("Manager.Close still waits 10 s after the session failed: it follows the abandoned INVITE to Timer B")
		<-closed
	}
}
