package engine

import (
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// shortIdle is the idle timeout of the tests: long enough for a request
// and its answer on a busy machine, short enough to wait for.
const shortIdle = 400 * time.Millisecond

// waitStats polls e's counters until ok accepts them, within testTimeout.
func waitStats(t *testing.T, e *Engine, what string, ok func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !ok(e.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s: %+v", what, e.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdleConnectionsClosed: a TCP connection that sends nothing, and one
// that sends a message too slowly to finish it (a slowloris), are closed
// after the idle timeout (issue 16 item 4).
func TestIdleConnectionsClosed(t *testing.T) {
	e := start(t, Config{IdleTimeout: shortIdle, Listen: []Listen{{Transport: TransportTCP, Address: "127.0.0.1:0"}}})
	answering(e)

	t.Run("idle", func(t *testing.T) {
		p := newPeer(t, e, TransportTCP)
		p.closed()
	})
	t.Run("slowloris", func(t *testing.T) {
		p := newPeer(t, e, TransportTCP)
		msg := p.invite("slow", nil)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(shortIdle / 8)
			defer tick.Stop()
			for i := 0; i < len(msg)-1; i++ {
				if _, err := p.conn.Write(msg[i : i+1]); err != nil {
					return
				}
				select {
				case <-tick.C:
				case <-stop:
					return
				}
			}
		}()
		p.closed()
		close(stop)
		<-done
	})
	t.Run("after a message", func(t *testing.T) {
		p := newPeer(t, e, TransportTCP)
		p.send(p.invite("then-idle", nil))
		if res := p.response(); res.StatusCode != 486 {
			t.Fatalf("got %d, want 486", res.StatusCode)
		}
		p.closed()
	})
	if got := e.Stats().ConnectionsTimedOut; got < 3 {
		t.Errorf("Stats().ConnectionsTimedOut = %d, want 3", got)
	}
}

// TestBusyConnectionStays: a connection with a transaction in progress is
// not idle: the answer of an INVITE that took longer than the idle
// timeout goes back over it.
func TestBusyConnectionStays(t *testing.T) {
	e := start(t, Config{IdleTimeout: shortIdle, Listen: []Listen{{Transport: TransportTCP, Address: "127.0.0.1:0"}}})
	answer := make(chan struct{})
	got := make(chan struct{}, 1)
	e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		got <- struct{}{}
		select {
		case <-answer:
		case <-tx.Done():
			return
		}
		_ = e.Respond(tx, req, 486, "Busy Here", nil)
	})
	p := newPeer(t, e, TransportTCP)
	p.send(p.invite("busy", nil))
	recv(t, got, "the INVITE")
	// A connection opened now and left idle closes after the idle
	// timeout: by then the busy one has been idle as long.
	q := newPeer(t, e, TransportTCP)
	q.closed()
	close(answer)
	if got := e.Stats().ConnectionsTimedOut; got != 1 {
		t.Errorf("Stats().ConnectionsTimedOut = %d, want 1 (the idle one)", got)
	}
	for {
		res := p.response()
		if res.StatusCode == 100 {
			continue
		}
		if res.StatusCode != 486 {
			t.Fatalf("got %d, want 486", res.StatusCode)
		}
		break
	}
}

// TestConnectionLimit: connections from one address beyond the limit are
// closed at once and counted; the others work, and a connection from
// another address is not affected (issue 16 item 4).
func TestConnectionLimit(t *testing.T) {
	const limit = 3
	e := start(t, Config{MaxConnectionsPerAddress: limit, Listen: []Listen{
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "[::1]:0"},
	}})
	answering(e)
	var held []*peer
	for range limit {
		p := newPeer(t, e, TransportTCP)
		held = append(held, p)
	}
	// The engine accepts in order: once the first limit connections
	// have been answered, the next one is over the limit.
	for i, p := range held {
		p.send(p.invite("held-"+strconv.Itoa(i), nil))
		if res := p.response(); res.StatusCode != 486 {
			t.Fatalf("connection %d: got %d, want 486", i, res.StatusCode)
		}
	}
	over := newPeer(t, e, TransportTCP)
	over.closed()
	waitStats(t, e, "refused connection", func(s Stats) bool { return s.ConnectionsRefused == 1 })

	// Another address is not affected.
	v6 := routeTo(t, e, TransportTCP, true)
	c, err := net.Dial("tcp", v6.hostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other := &peer{t: t, tr: TransportTCP, conn: c, rd: newReader(c)}
	other.send(other.invite("other", nil))
	if res := other.response(); res.StatusCode != 486 {
		t.Fatalf("from ::1: got %d, want 486", res.StatusCode)
	}

	// A slot freed is taken again.
	_ = held[0].conn.Close()
	deadline := time.Now().Add(testTimeout)
	for {
		p := newPeer(t, e, TransportTCP)
		p.send(p.invite("again", nil))
		if res, err := p.tryResponse(testTimeout); err == nil {
			if res.StatusCode != 486 {
				t.Fatalf("got %d, want 486", res.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the freed slot was not reused")
		}
	}
}

// TestTLSHandshakeTimeout: a TLS connection that never starts its
// handshake is closed after the handshake timeout (issue 16 item 4); a
// client that does handshake is served.
func TestTLSHandshakeTimeout(t *testing.T) {
	cert := newTestCert(t)
	e := start(t, cert.withTLS(Config{TLSHandshakeTimeout: shortIdle, Listen: []Listen{{Transport: TransportTLS, Address: "127.0.0.1:0"}}}))
	answering(e)
	r := routeTo(t, e, TransportTLS, false)

	silent, err := net.Dial("tcp", r.hostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	(&peer{t: t, conn: silent, rd: newReader(silent)}).closed()
	waitStats(t, e, "timed-out handshake", func(s Stats) bool { return s.ConnectionsTimedOut >= 1 })

	c, err := tls.Dial("tcp", r.hostPort(), &tls.Config{RootCAs: cert.pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &peer{t: t, tr: TransportTLS, conn: c, rd: newReader(c)}
	p.send(p.invite("tls", nil))
	if res := p.response(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
}

// TestWaitReady: with WaitReady, a request that arrives before Ready is
// held, not answered by the defaults (405 to an INVITE nobody handles
// yet: issue 16 item 10): sipgo's 100 Trying is all the caller gets until
// the handler registered later answers it.
func TestWaitReady(t *testing.T) {
	e := start(t, Config{WaitReady: true, Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	p := newPeer(t, e, TransportUDP)
	p.send(p.invite("early", nil))
	if res := p.response(); res.StatusCode != 100 {
		t.Fatalf("before Ready: got %d %s, want only 100 Trying", res.StatusCode, res.Reason)
	}
	answering(e)
	e.Ready()
	if res := p.response(); res.StatusCode != 486 {
		t.Fatalf("after Ready: got %d %s, want the handler's 486", res.StatusCode, res.Reason)
	}
}

// TestWaitReadyTimesOut: a request held longer than the engine waits for
// Ready is answered 503 with Retry-After.
func TestWaitReadyTimesOut(t *testing.T) {
	e, err := New(Config{WaitReady: true, Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.readyWait = 50 * time.Millisecond
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	p := newPeer(t, e, TransportUDP)
	options := func(l []string) []string {
		return replace("CSeq", "CSeq: 1 OPTIONS")(replace("INVITE", "OPTIONS sip:bob@127.0.0.1 SIP/2.0")(l))
	}
	p.send(p.invite("late", options))
	// An OPTIONS: no 100 Trying.
	res := p.response()
	if res.StatusCode != 503 || header(res, "Retry-After") == "" {
		t.Fatalf("got %d %s (Retry-After %q), want 503 with Retry-After", res.StatusCode, res.Reason, header(res, "Retry-After"))
	}
}
