package session

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"testing"
	"time"
)

// rawPeer is a bare UDP socket that talks SIP to a host: a test's way to
// send the very same request twice.
type rawPeer struct {
	t   *testing.T
	c   *net.UDPConn
	dst *net.UDPAddr
	me  string // its address, for Via, From and Contact
}

func newRawPeer(t *testing.T, h *host) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawPeer{t: t, c: c, dst: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: h.eng.Addrs()[0].Port}, me: c.LocalAddr().String()}
}

func (p *rawPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.c.WriteToUDP([]byte(msg), p.dst); err != nil {
		p.t.Fatal(err)
	}
}

// final reads until a final response to method (to any request when
// method is empty), and returns it.
func (p *rawPeer) final(method string) string {
	p.t.Helper()
	buf := make([]byte, 65535)
	for {
		_ = p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, _, err := p.c.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("waiting for the final response to %q: %v", method, err)
		}
		msg := string(buf[:n])
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 1")) || method != "" && !regexp.MustCompile(`(?m)^CSeq: \d+ `+method+`\r$`).MatchString(msg) {
			continue
		}
		return msg
	}
}

// TestByeTransactionEnds: over UDP the BYE's server transaction ends with
// its response instead of lingering 32 s (sipgo's Timer J, which held a
// request and a response per finished call: 32,000 at 1,000 calls/s). A
// retransmission of the BYE then finds no dialog and is answered 481,
// which ends the dialog for its sender as the 200 would have (RFC 3261
// §15.1.1). The peer is a plain UDP socket, to send the same BYE twice.
func TestByeTransactionEnds(t *testing.T) {
	b := newHost(t, "bob")
	autoAnswer(t, b)
	p := newRawPeer(t, b)
	me, send, final := p.me, p.send, p.final
	callID := fmt.Sprintf("byetx-%d@127.0.0.1", time.Now().UnixNano())
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=application 40000 UDP x-sipstreams-echo\r\na=sendrecv\r\n"
	u := b.uri()
	target := u.String()
	send("INVITE " + target + " SIP/2.0\r\nVia: SIP/2.0/UDP " + me + ";branch=z9hG4bK-inv1\r\nMax-Forwards: 70\r\n" +
		"From: <sip:alice@" + me + ">;tag=a1\r\nTo: <" + target + ">\r\nCall-ID: " + callID + "\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@" + me + ">\r\nContent-Type: application/sdp\r\nContent-Length: " + fmt.Sprint(len(sdp)) + "\r\n\r\n" + sdp)
	ok := final("INVITE")
	if !bytes.HasPrefix([]byte(ok), []byte("SIP/2.0 200")) {
		t.Fatalf("INVITE answered:\n%s", ok)
	}
	to := regexp.MustCompile(`(?m)^To: (.*)\r$`).FindStringSubmatch(ok)[1]
	dialog := "From: <sip:alice@" + me + ">;tag=a1\r\nTo: " + to + "\r\nCall-ID: " + callID + "\r\nMax-Forwards: 70\r\n"
	send("ACK " + target + " SIP/2.0\r\nVia: SIP/2.0/UDP " + me + ";branch=z9hG4bK-ack1\r\n" + dialog + "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
	bye := "BYE " + target + " SIP/2.0\r\nVia: SIP/2.0/UDP " + me + ";branch=z9hG4bK-bye1\r\n" + dialog + "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
	send(bye)
	if res := final("BYE"); !bytes.HasPrefix([]byte(res), []byte("SIP/2.0 200")) {
		t.Fatalf("BYE answered:\n%s", res)
	}
	waitSessionsGone(t, b)
	// The BYE again, as if our 200 had been lost: once the handler has
	// returned, 481. (Answered from the transaction, 200, until then: it
	// ends a moment after the response; before the change, for 32 s.)
	deadline := time.Now().Add(20 * time.Second)
	for {
		send(bye)
		res := final("BYE")
		if bytes.HasPrefix([]byte(res), []byte("SIP/2.0 481")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the BYE again, 20 s after the first, answered:\n%s\nwant 481 (no transaction kept, no dialog left)", res)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
