package echostream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait of a test; it is a deadline, not a timing
// assertion.
const testTimeout = 30 * time.Second

// sessionSDP wraps media sections into a session description from ip.
func sessionSDP(ip string, media ...string) string {
	addrType := "IP4"
	if strings.Contains(ip, ":") {
		addrType = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 1 1 IN %s %s\r\ns=-\r\nt=0 0\r\n", addrType, ip) + strings.Join(media, "")
}

// mediaDirection returns the direction of m-line index of a session
// description, or of a lone media section.
func mediaDirection(t *testing.T, text string, index int) sdk.MediaDirection {
	t.Helper()
	if strings.HasPrefix(text, "m=") {
		m, err := sdk.ParseMedia(text)
		if err != nil {
			t.Fatal(err)
		}
		return sdk.Direction(nil, m)
	}
	s, m, err := sdk.MediaAt(text, index)
	if err != nil {
		t.Fatal(err)
	}
	return sdk.Direction(s, m)
}

// peer is one side of a call: a provider running the echo plugin
// in-process, a recorder of its notifications read in order through cur,
// and one echo stream.
type peer struct {
	name string
	ip   string
	ctx  context.Context
	p    *sdk.LocalProvider
	cur  *streamtest.Cursor
	h    uint64
	s    sdk.Stream
}

func newPeer(t *testing.T, name, ip string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	lp, err := sdk.NewProvider(Plugin("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lp.Close(context.Background()); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
		cancel()
	})
	rec := streamtest.Record(t, lp, streamtest.WithTimeout(testTimeout))
	return &peer{name: name, ip: ip, ctx: ctx, p: lp, cur: rec.Cursor()}
}

// next returns the next notification of the peer, failing at the deadline.
func (p *peer) next(t *testing.T) *sdk.Notification {
	t.Helper()
	return p.cur.Next(t)
}

// waitFor returns the next notification named name for handle h, skipping
// others.
func (p *peer) waitFor(t *testing.T, h uint64, name string) *sdk.Notification {
	t.Helper()
	return p.cur.NextFor(t, h, name)
}

// drain returns the notifications posted so far: it uses the plugin-scope
// method "tick" as a barrier, since notifications arrive in order.
func (p *peer) drain(t *testing.T) []sdk.Notification {
	t.Helper()
	if _, err := Tick(p.ctx, p.p, 1, 0); err != nil {
		t.Fatal(err)
	}
	return p.cur.Until(t, 0, TickNotification)
}

func (p *peer) session(dir string) *sdk.InitializeRequest {
	return &sdk.InitializeRequest{Session: &sdk.SessionInfo{ID: p.name, Direction: dir, LocalIP: p.ip}, Direction: dir}
}

func (p *peer) opened(t *testing.T, o *sdk.Opened, dir string) {
	t.Helper()
	if o.Type != Type {
		t.Fatalf("%s: opened type %q", p.name, o.Type)
	}
	p.h, p.s = o.Handle, o.Stream
	if err := p.s.Initialize(p.ctx, p.session(dir)); err != nil {
		t.Fatalf("%s: Initialize: %v", p.name, err)
	}
	n := p.next(t)
	if n.Name != sdk.MediaStreamDidInitialize {
		t.Fatalf("%s: got %s %s, want %s", p.name, n.Name, n.Data, sdk.MediaStreamDidInitialize)
	}
}

// create builds and initializes an outgoing stream.
func (p *peer) create(t *testing.T) {
	t.Helper()
	o, err := p.p.Create(p.ctx, &sdk.CreateRequest{Type: Type})
	if err != nil {
		t.Fatalf("%s: Create: %v", p.name, err)
	}
	p.opened(t, o, sdk.DirectionOutgoing)
}

// accept builds and initializes a stream for m-line 0 of offer.
func (p *peer) accept(t *testing.T, offer string) {
	t.Helper()
	o, err := p.p.NewFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer})
	if err != nil {
		t.Fatalf("%s: NewFromSDP: %v", p.name, err)
	}
	p.opened(t, o, sdk.DirectionIncoming)
}

// offer returns our offer as a session description.
func (p *peer) offer(t *testing.T) string {
	t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		t.Fatalf("%s: GetLocalMedia(offer): %v", p.name, err)
	}
	return sessionSDP(p.ip, res.Media)
}

// answer returns our answer to offer as a session description.
func (p *peer) answer(t *testing.T, offer string) string {
	t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		t.Fatalf("%s: GetLocalMedia(answer): %v", p.name, err)
	}
	return sessionSDP(p.ip, res.Media)
}

func (p *peer) start(t *testing.T, local, remote string) {
	t.Helper()
	if err := p.s.Start(p.ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote}); err != nil {
		t.Fatalf("%s: Start: %v", p.name, err)
	}
	if n := p.waitFor(t, p.h, sdk.MediaStreamDidStart); n == nil {
		t.Fatal("no MediaStreamDidStart")
	}
}

func (p *peer) update(t *testing.T, local, remote string) {
	t.Helper()
	if err := p.s.Update(p.ctx, &sdk.UpdateRequest{LocalSDP: local, RemoteSDP: remote}); err != nil {
		t.Fatalf("%s: Update: %v", p.name, err)
	}
}

func (p *peer) attributes(t *testing.T) (*sdk.Attributes, Attributes) {
	t.Helper()
	a, own, err := ReadAttributes(p.ctx, p.s)
	if err != nil {
		t.Fatalf("%s: Attributes: %v", p.name, err)
	}
	return a, own
}

func (p *peer) localAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	_, own := p.attributes(t)
	ap, err := netip.ParseAddrPort(own.LocalAddress)
	if err != nil {
		t.Fatalf("%s: local_address %q: %v", p.name, own.LocalAddress, err)
	}
	return ap
}

// stats polls the peer's counters until ok accepts them or the deadline
// passes.
func (p *peer) stats(t *testing.T, ok func(Counters) bool) Counters {
	t.Helper()
	for {
		c, err := Stats(p.ctx, p.s)
		if err != nil {
			t.Fatalf("%s: stats: %v", p.name, err)
		}
		if ok(c) {
			return c
		}
		select {
		case <-p.ctx.Done():
			t.Fatalf("%s: counters stay %+v", p.name, c)
		case <-time.After(time.Millisecond):
		}
	}
}

// call sets up a started echo stream between a (offerer) and b.
func call(t *testing.T, ip string) (a, b *peer) {
	t.Helper()
	a, b = newPeer(t, "a", ip), newPeer(t, "b", ip)
	a.create(t)
	offer := a.offer(t)
	b.accept(t, offer)
	answer := b.answer(t, offer)
	b.start(t, answer, offer)
	a.start(t, offer, answer)
	return a, b
}

// renegotiate runs a re-INVITE offered by from and answered by to, and
// returns the offer and the answer.
func renegotiate(t *testing.T, from, to *peer) (offer, answer string) {
	t.Helper()
	offer = from.offer(t)
	res, err := to.s.ValidateUpdate(to.ctx, &sdk.ValidateUpdateRequest{RemoteSDP: offer})
	if err != nil || !res.OK {
		t.Fatalf("%s: ValidateUpdate(%q) = %v, %v", to.name, offer, res, err)
	}
	answer = to.answer(t, offer)
	to.update(t, answer, offer)
	from.update(t, offer, answer)
	return offer, answer
}

// rawSocket is a UDP socket the test drives by hand.
type rawSocket struct {
	t    *testing.T
	conn *net.UDPConn
}

func newRawSocket(t *testing.T, ip string) *rawSocket {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawSocket{t: t, conn: conn}
}

func (r *rawSocket) addr() netip.AddrPort {
	return r.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *rawSocket) send(to netip.AddrPort, b []byte) {
	r.t.Helper()
	if _, err := r.conn.WriteToUDPAddrPort(b, to); err != nil {
		r.t.Fatal(err)
	}
}

// recv returns the next datagram, failing after the test deadline.
func (r *rawSocket) recv() Datagram {
	r.t.Helper()
	if err := r.conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
		r.t.Fatal(err)
	}
	buf := make([]byte, readBuffer)
	n, _, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		r.t.Fatal(err)
	}
	d, err := ParseDatagram(buf[:n])
	if err != nil {
		r.t.Fatalf("raw socket got %q: %v", buf[:n], err)
	}
	return d
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
}
