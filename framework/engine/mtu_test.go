package engine

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// sharedPort starts an engine listening on UDP and TCP on the same
// loopback port, as a SIP server does (RFC 3263).
func sharedPort(t *testing.T, center *notify.Center) *Engine {
	t.Helper()
	for range 5 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
		e, err := New(Config{Listen: []Listen{
			{Transport: TransportUDP, Address: "127.0.0.1:" + port},
			{Transport: TransportTCP, Address: "127.0.0.1:" + port},
		}, Center: center, Trace: center != nil})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Start(t.Context())
		if errors.Is(err, ErrListen) {
			continue // someone took the port meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	t.Fatal("no free port for UDP and TCP")
	return nil
}

// transports registers a MESSAGE handler on e that reports the transport
// each request came on and answers 200 with the request's body.
func transports(e *Engine) <-chan string {
	got := make(chan string, 4)
	e.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		got <- strings.ToLower(req.Transport()) + " " + strings.ToLower(req.Via().Transport)
		_ = e.Respond(tx, req, 200, "OK", req.Body(), sip.NewHeader("Content-Type", "text/plain"))
	})
	return got
}

// TestLargeRequestSwitchesToTCP: a request over 1300 bytes routed over UDP
// goes over TCP to the same address and port, its Via saying so (RFC
// 3261 §18.1.1; issue 16 item 8); a small one stays on UDP; without a TCP
// listener at the peer the large one goes over UDP after all.
func TestLargeRequestSwitchesToTCP(t *testing.T) {
	alice := start(t, Config{Listen: []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
	}})
	bob := sharedPort(t, nil)
	got := transports(bob)
	udpOnly := start(t, Config{Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	gotUDP := transports(udpOnly)
	tests := []struct {
		name string
		to   *Engine
		got  <-chan string
		size int
		want string
	}{
		{"small", bob, got, 100, "udp udp"},
		{"large", bob, got, 3000, "tcp tcp"},
		{"large, no TCP at the peer", udpOnly, gotUDP, 3000, "udp udp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := routeTo(t, tc.to, TransportUDP, false)
			req := sip.NewRequest(sip.MESSAGE, uriFor("bob", r))
			req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
			body := strings.Repeat("x", tc.size)
			req.SetBody([]byte(body))
			res := final(t, alice, req, r, nil)
			if res.StatusCode != 200 || string(res.Body()) != body {
				t.Fatalf("got %d with %d bytes, want 200 with %d", res.StatusCode, len(res.Body()), len(body))
			}
			if tr := recv(t, tc.got, "the MESSAGE"); tr != tc.want {
				t.Errorf("came over %q (transport, Via), want %q", tr, tc.want)
			}
		})
	}
}

// TestLargeRequestOverUDPAnswered: a large request received over UDP is
// answered over UDP with a large response (issue 16 item 8: the callee's
// answer failed with "size of packet larger than MTU").
func TestLargeRequestOverUDPAnswered(t *testing.T) {
	e := start(t, Config{Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		_ = e.Respond(tx, req, 488, "Not Acceptable Here", req.Body(), sip.NewHeader("Content-Type", "application/sdp"))
	})
	p := newPeer(t, e, TransportUDP)
	pad := "a=x-pad:" + strings.Repeat("p", 100) + "\r\n"
	big := p.invite("big", nil)
	head, body, _ := strings.Cut(string(big), "\r\n\r\n")
	body += strings.Repeat(pad, 30)
	head = strings.Replace(head, "Content-Length: ", "Content-Length: "+strconv.Itoa(len(body))+"\r\nX-Old-Length: ", 1)
	p.send([]byte(head + "\r\n\r\n" + body))
	res := p.response()
	if res.StatusCode != 488 || len(res.Body()) != len(body) {
		t.Fatalf("got %d with %d bytes, want 488 with %d", res.StatusCode, len(res.Body()), len(body))
	}
}

// TestCancelFollowsLargeInvite: the CANCEL of an INVITE that went over
// TCP for its size goes over TCP too, whatever its route says (RFC 3261
// §9.1: same address, port and transport), and cancels it.
func TestCancelFollowsLargeInvite(t *testing.T) {
	alice := start(t, Config{Listen: []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
	}})
	center := notify.New()
	t.Cleanup(center.Close)
	bob := sharedPort(t, center)
	var rec notify.Recorder
	defer center.Subscribe(&rec, NameSIPTrace, bob)()
	invited := make(chan struct{}, 1)
	cancelled := make(chan string, 1)
	bob.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		invited <- struct{}{}
		<-tx.Done()
	})
	bob.OnRequest(sip.CANCEL, func(req *sip.Request, tx sip.ServerTransaction) {
		cancelled <- "unmatched CANCEL over " + req.Transport()
		_ = bob.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
	})
	r := routeTo(t, bob, TransportUDP, false)
	inv := sip.NewRequest(sip.INVITE, uriFor("bob", r))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody([]byte("v=0\r\n" + strings.Repeat("a=x-pad:"+strings.Repeat("p", 100)+"\r\n", 20)))
	ctx := ctxT(t)
	tx, err := alice.Request(ctx, inv, r)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	recv(t, invited, "the INVITE")
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	if res := final(t, alice, c, r, nil); res.StatusCode != 200 {
		t.Fatalf("CANCEL: got %d %s, want 200", res.StatusCode, res.Reason)
	}
	if res := waitFinal(t, ctx, tx, nil); res.StatusCode != 487 {
		t.Fatalf("INVITE: got %d %s, want 487", res.StatusCode, res.Reason)
	}
	select {
	case s := <-cancelled:
		t.Error(s)
	default:
	}
	var over Transport
	err = rec.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if d := n.Data.(TraceData); d.Received && strings.HasPrefix(d.Data, "CANCEL ") {
				over = d.Transport
				return true
			}
		}
		return false
	})
	if err != nil || over != TransportTCP {
		t.Errorf("the CANCEL came over %q (%v), want tcp", over, err)
	}
}
