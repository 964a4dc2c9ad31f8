package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawInvite is an INVITE from a to b's account built by hand (outside any
// session), offering lines echo m-lines.
func rawInvite(a, b *host, lines int) *sip.Request {
	req := sip.NewRequest(sip.INVITE, b.uri())
	from := &sip.FromHeader{Address: a.uri(), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: b.uri(), Params: sip.NewParams()})
	cid := sip.CallIDHeader(sip.GenerateTagN(16))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(&sip.ContactHeader{Address: a.uri()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for i := range lines {
		body += fmt.Sprintf("m=application %d UDP x-sipstreams-echo\r\na=sendrecv\r\n", 40000+2*i)
	}
	req.SetBody([]byte(body))
	return req
}

// TestSessionCap: beyond MaxSessions live sessions an INVITE gets 503
// with Retry-After at once; once a session ends, calls are taken again.
func TestSessionCap(t *testing.T) {
	a := newHost(t, "alice")
	b := newHostOn(t, "bob", udp4, func(c *Config) { c.MaxSessions = 1 })
	recA := sessionRecorder(t, a)
	out := call(t, a, b, func(s *Session, streams []Stream) { _ = s.Accept(streams) })
	waitFor(t, recA, SIPSessionDidStart)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inviteRefused503(t, ctx, a, b, "INVITE beyond the cap")
	out.End()
	waitFor(t, recA, SIPSessionDidEnd)
	// The ended session is gone from the manager once its DidEnd is out.
	if n := len(b.mgr.Sessions()); n != 0 {
		waitSessionsGone(t, b)
	}
	inv := rawInvite(a, b, 1)
	res, err := finalResponse(ctx, a.eng, inv, b.route())
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INVITE after the session ended: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if err := a.eng.Write(ackOf(inv, res), b.route()); err != nil {
		t.Fatal(err)
	}
}

// inviteRefused503 sends a new INVITE from a to b and fails the test
// unless b answers it 503 with Retry-After.
func inviteRefused503(t *testing.T, ctx context.Context, a, b *host, what string) {
	t.Helper()
	res, err := finalResponse(ctx, a.eng, rawInvite(a, b, 1), b.route())
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("%s: %d %s, Retry-After %v; want 503 with Retry-After", what, res.StatusCode, res.Reason, res.GetHeader("Retry-After"))
	}
}

// waitSessionsGone waits until h's manager holds no session.
func waitSessionsGone(t *testing.T, h *host) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(h.mgr.Sessions()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions left: %d", len(h.mgr.Sessions()))
		}
		select {
		case <-h.mgr.Sessions()[0].Done():
		case <-time.After(time.Until(deadline)):
		}
	}
}

// TestMediaLinesCap: an offer with more m-lines than MaxMediaLines is
// refused with 488 before any stream is built; one at the cap is taken.
func TestMediaLinesCap(t *testing.T) {
	a := newHost(t, "alice")
	b := newHostOn(t, "bob", udp4, func(c *Config) { c.MaxMediaLines = 4 })
	recB := sessionRecorder(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := finalResponse(ctx, a.eng, rawInvite(a, b, 5), b.route())
	if err != nil {
		t.Fatal(err)
	}
	if w := res.GetHeader("Warning"); res.StatusCode != 488 || w == nil || !strings.Contains(w.Value(), "5 media streams") {
		t.Fatalf("5 m-lines: %d %s (%v), want 488 with a Warning", res.StatusCode, res.Reason, w)
	}
	if names := recB.Names(); len(names) != 0 {
		t.Errorf("a refused offer made notifications: %v", names)
	}
	autoAnswer(t, b)
	inv := rawInvite(a, b, 4)
	res, err = finalResponse(ctx, a.eng, inv, b.route())
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("4 m-lines: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if err := a.eng.Write(ackOf(inv, res), b.route()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, recB, SIPSessionDidStart)
}

// ackOf builds the ACK of a 2xx to a hand-made INVITE.
func ackOf(inv *sip.Request, res *sip.Response) *sip.Request {
	ack := sip.NewRequest(sip.ACK, inv.Recipient)
	if c := res.Contact(); c != nil {
		ack.Recipient = c.Address
	}
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	return ack
}
