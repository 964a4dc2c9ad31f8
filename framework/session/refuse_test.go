package session

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// txSpy is the engine as the manager sees it, handing the INVITE handler
// its server transactions wrapped, so that a test learns when the
// session layer terminates one.
type txSpy struct {
	Signalling
	terminated chan string // the Call-IDs, as they are terminated
}

func (s *txSpy) OnRequest(method sip.RequestMethod, h sipgo.RequestHandler) {
	if method != sip.INVITE || h == nil {
		s.Signalling.OnRequest(method, h)
		return
	}
	s.Signalling.OnRequest(method, func(req *sip.Request, tx sip.ServerTransaction) {
		h(req, &spiedTx{ServerTransaction: tx, spy: s, callID: req.CallID().Value()})
	})
}

type spiedTx struct {
	sip.ServerTransaction
	spy    *txSpy
	callID string
}

func (t *spiedTx) Terminate() {
	t.ServerTransaction.Terminate()
	t.spy.terminated <- t.callID
}

// TestRefusalEndsOnAck: a new INVITE refused without a session (here a
// malformed offer, 400) has its transaction ended by the manager when
// the caller's ACK comes, instead of sipgo keeping it T4 (5 s) longer
// over UDP with the ACK parked in a goroutine of its own (at 4,000 calls/s
// of overload, 7,600 of them). The proof that it ended: the same INVITE
// sent again is a new request, refused again — sipgo's transaction would
// have absorbed it.
func TestRefusalEndsOnAck(t *testing.T) {
	spy := &txSpy{terminated: make(chan string, 4)}
	b := newHostOn(t, "bob", udp4, func(c *Config) {
		spy.Signalling = c.Signalling
		c.Signalling = spy
	})
	p := newRawPeer(t, b)
	me, send := p.me, p.send
	final := func() string { t.Helper(); return p.final("") }
	callID := fmt.Sprintf("refuse-%d@127.0.0.1", time.Now().UnixNano())
	body := "this is no SDP"
	u := b.uri()
	target := u.String()
	via := "Via: SIP/2.0/UDP " + me + ";branch=z9hG4bK-refuse1\r\n"
	from := "From: <sip:alice@" + me + ">;tag=a1\r\n"
	invite := "INVITE " + target + " SIP/2.0\r\n" + via + "Max-Forwards: 70\r\n" + from + "To: <" + target + ">\r\nCall-ID: " + callID +
		"\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@" + me + ">\r\nContent-Type: application/sdp\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
	send(invite)
	res := final()
	if !bytes.HasPrefix([]byte(res), []byte("SIP/2.0 400")) {
		t.Fatalf("INVITE answered:\n%s", res)
	}
	select {
	case id := <-spy.terminated:
		t.Fatalf("transaction of %s terminated before the ACK", id)
	default:
	}
	to := regexp.MustCompile(`(?m)^To: (.*)\r$`).FindStringSubmatch(res)[1]
	send("ACK " + target + " SIP/2.0\r\n" + via + "Max-Forwards: 70\r\n" + from + "To: " + to + "\r\nCall-ID: " + callID + "\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
	select {
	case id := <-spy.terminated:
		if id != callID {
			t.Fatalf("terminated %s, want %s", id, callID)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the refused INVITE's transaction was not ended on its ACK")
	}
	send(invite)
	if res := final(); !bytes.HasPrefix([]byte(res), []byte("SIP/2.0 400")) {
		t.Fatalf("the INVITE again answered:\n%s", res)
	}
	if n := len(b.mgr.Sessions()); n != 0 {
		t.Errorf("%d sessions", n)
	}
}
