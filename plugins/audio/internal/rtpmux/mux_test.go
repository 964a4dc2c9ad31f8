package rtpmux_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/srtp/v2"
	"go.uber.org/goleak"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpmux"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func udp(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newMux(t testing.TB, pairs int) *rtpmux.Mux {
	t.Helper()
	var ps []rtpmux.Pair
	for range pairs {
		ps = append(ps, rtpmux.Pair{RTP: udp(t), RTCP: udp(t)})
	}
	m, err := rtpmux.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// side is one end of a test call: its session, the transports it uses
// and what it received.
type side struct {
	rtp, rtcp rtpsession.Transport
	addr      [2]net.Addr // where the peer sends RTP and RTCP
	sess      *rtpsession.Session

	mu  sync.Mutex
	got [][]byte
}

func (s *side) packet(p rtpsession.Packet) {
	s.mu.Lock()
	s.got = append(s.got, bytes.Clone(p.Payload))
	s.mu.Unlock()
}

func (s *side) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

func muxSide(t testing.TB, m *rtpmux.Mux) *side {
	t.Helper()
	rtp, rtcp, err := m.Endpoints()
	if err != nil {
		t.Fatal(err)
	}
	return &side{rtp: rtp, rtcp: rtcp, addr: [2]net.Addr{rtp.LocalAddr(), rtcp.LocalAddr()}}
}

func ownSide(t testing.TB) *side {
	t.Helper()
	rtp, rtcp := udp(t), udp(t)
	return &side{rtp: rtp, rtcp: rtcp, addr: [2]net.Addr{rtp.LocalAddr(), rtcp.LocalAddr()}}
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 30) }

// call starts a's and b's sessions towards each other; with keys > 0,
// SRTP with keys of their own.
func call(t testing.TB, a, b *side, keys byte, tweak func(ca, cb *rtpsession.Config)) {
	t.Helper()
	ca := rtpsession.Config{RTP: a.rtp, RTCP: a.rtcp, RemoteRTP: b.addr[0], RemoteRTCP: b.addr[1], Latch: true, OnPacket: a.packet, RTCPInterval: -1}
	cb := rtpsession.Config{RTP: b.rtp, RTCP: b.rtcp, RemoteRTP: a.addr[0], RemoteRTCP: a.addr[1], Latch: true, OnPacket: b.packet, RTCPInterval: -1}
	if keys > 0 {
		ca.SRTP = &rtpsession.SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(keys), RemoteKey: key(keys + 1)}
		cb.SRTP = &rtpsession.SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(keys + 1), RemoteKey: key(keys)}
	}
	if tweak != nil {
		tweak(&ca, &cb)
	}
	for _, x := range []struct {
		s   *side
		cfg rtpsession.Config
	}{{a, ca}, {b, cb}} {
		sess, err := rtpsession.New(x.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		if err := sess.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		x.s.sess = sess
	}
}

// eventually waits for cond, up to 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// exchange has every pair send n packets each way, each side's payloads
// naming the call and the sender, and checks that each side received
// exactly its peer's n packets, in order.
func exchange(t *testing.T, pairs [][2]*side, n int) {
	t.Helper()
	for i := range n {
		for c, p := range pairs {
			for s, x := range p {
				payload := fmt.Appendf(nil, "call %d side %d packet %d", c, s, i)
				if err := x.sess.Send(0, payload, false, 160); err != nil {
					t.Fatalf("call %d side %d: %v", c, s, err)
				}
			}
		}
		// Let the receivers keep up: a burst of thousands would
		// overflow the sockets' buffers, which is not what is tested.
		for c, p := range pairs {
			for s, x := range p {
				eventually(t, fmt.Sprintf("call %d side %d packet %d", c, 1-s, i), func() bool { return len(x.received()) > i })
			}
		}
	}
	for c, p := range pairs {
		for s, x := range p {
			got := x.received()
			if len(got) != n {
				t.Fatalf("call %d side %d received %d packets, want %d", c, s, len(got), n)
			}
			for i, g := range got {
				if want := fmt.Sprintf("call %d side %d packet %d", c, 1-s, i); string(g) != want {
					t.Fatalf("call %d side %d packet %d is %q, want %q", c, s, i, g, want)
				}
			}
			if st := x.sess.Stats(); st.SRTPFailures != 0 || st.Dropped != 0 {
				t.Fatalf("call %d side %d: %d SRTP failures, %d dropped", c, s, st.SRTPFailures, st.Dropped)
			}
		}
	}
}

// Calls on a shared socket pair with peers that have ports of their own:
// each session gets its peer's packets only.
func TestRouteByPeer(t *testing.T) {
	for _, keys := range []byte{0, 1} {
		t.Run(fmt.Sprintf("srtp=%v", keys > 0), func(t *testing.T) {
			m := newMux(t, 2)
			var pairs [][2]*side
			for i := range 8 {
				a, b := muxSide(t, m), ownSide(t)
				var k byte
				if keys > 0 {
					k = byte(2*i + 1)
				}
				call(t, a, b, k, nil)
				pairs = append(pairs, [2]*side{a, b})
			}
			exchange(t, pairs, 20)
			st := m.Stats()
			if st.Received < 8*20 || st.Sent < 8*20 || st.Unrouted != 0 || st.Invalid != 0 || st.Endpoints != 16 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Two muxes talking to each other: every call has the same peer address
// on both sides, so only the SSRC tells calls apart — learned by SRTP
// authentication, or told (a=ssrc) for plain RTP.
func TestSharedBothSides(t *testing.T) {
	for _, tc := range []struct {
		name string
		srtp bool
	}{{"srtp", true}, {"plain+ssrc", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ma, mb := newMux(t, 1), newMux(t, 1)
			var pairs [][2]*side
			for i := range 10 {
				a, b := muxSide(t, ma), muxSide(t, mb)
				var k byte
				if tc.srtp {
					k = byte(2*i + 1)
				}
				ssrcA, ssrcB := uint32(1000+i), uint32(2000+i)
				if !tc.srtp {
					a.rtp.(*rtpmux.Endpoint).SetRemoteSSRC(ssrcB)
					a.rtcp.(*rtpmux.Endpoint).SetRemoteSSRC(ssrcB)
					b.rtp.(*rtpmux.Endpoint).SetRemoteSSRC(ssrcA)
					b.rtcp.(*rtpmux.Endpoint).SetRemoteSSRC(ssrcA)
				}
				call(t, a, b, k, func(ca, cb *rtpsession.Config) { ca.SSRC, cb.SSRC = ssrcA, ssrcB })
				pairs = append(pairs, [2]*side{a, b})
			}
			exchange(t, pairs, 10)
			for _, m := range []*rtpmux.Mux{ma, mb} {
				if st := m.Stats(); st.Unrouted != 0 {
					t.Fatalf("stats %+v", st)
				}
			}
		})
	}
}

// A peer whose packets come from another address than its SDP one (NAT):
// the first packets reach the one endpoint that has learned no SSRC (plain)
// or the endpoints whose SRTP authenticates them, and the session latches.
func TestLatchFromUnknownSource(t *testing.T) {
	for _, keys := range []byte{0, 5} {
		t.Run(fmt.Sprintf("srtp=%v", keys > 0), func(t *testing.T) {
			m := newMux(t, 1)
			nowhere := udp(t)
			defer nowhere.Close()
			if keys > 0 {
				// Other calls waiting for their first packet: with
				// SRTP only the right one authenticates.
				for i := range 3 {
					x, y := muxSide(t, m), ownSide(t)
					call(t, x, y, byte(100+2*i), nil)
				}
			}
			a, b := muxSide(t, m), ownSide(t)
			changed := make(chan net.Addr, 1)
			call(t, a, b, keys, func(ca, _ *rtpsession.Config) {
				ca.RemoteRTP = nowhere.LocalAddr()
				ca.LatchAfter = 3
				ca.OnRemoteChange = func(_, n net.Addr) { changed <- n }
			})
			for i := range 3 {
				if err := b.sess.Send(0, []byte("from b"), false, 160); err != nil {
					t.Fatal(err)
				}
				eventually(t, "a receives", func() bool { return len(a.received()) > i })
			}
			select {
			case got := <-changed:
				if got.String() != b.addr[0].String() {
					t.Fatalf("latched to %v, want %v", got, b.addr[0])
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no latch")
			}
			if err := a.sess.Send(0, []byte("back"), false, 160); err != nil {
				t.Fatal(err)
			}
			eventually(t, "b receives", func() bool { return len(b.received()) == 1 })
		})
	}
}

// Datagrams that are not RTP never reach a session; RTP from an unknown
// source with an unknown SSRC is counted when no endpoint may take it.
func TestJunk(t *testing.T) {
	m := newMux(t, 1)
	a, b := muxSide(t, m), ownSide(t)
	call(t, a, b, 7, nil)
	if err := b.sess.Send(0, []byte("bind"), false, 160); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's first packet", func() bool { return len(a.received()) == 1 })
	stray := udp(t)
	defer stray.Close()
	dst := a.addr[0]
	for _, p := range [][]byte{
		{},                                   // empty
		{0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9},    // version 0
		{0x80, 0, 0, 1},                      // short
		{0x80, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3}, // short of an SSRC
	} {
		if _, err := stray.WriteTo(p, dst); err != nil {
			t.Fatal(err)
		}
	}
	rtp := []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3}
	if _, err := stray.WriteTo(rtp, dst); err != nil {
		t.Fatal(err)
	}
	eventually(t, "junk counted", func() bool { st := m.Stats(); return st.Invalid == 4 && st.Unrouted == 1 })
	if st := a.sess.Stats(); st.Dropped != 0 || st.SRTPFailures != 0 || st.PacketsReceived != 1 {
		t.Fatalf("a's session saw junk: %+v", st)
	}
}

// What is queued when the Mux closes is still sent.
func TestCloseFlushes(t *testing.T) {
	var ps []rtpmux.Pair
	ps = append(ps, rtpmux.Pair{RTP: udp(t), RTCP: udp(t)})
	m, err := rtpmux.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	rtp, rtcp, err := m.Endpoints()
	if err != nil {
		t.Fatal(err)
	}
	peer := udp(t)
	defer peer.Close()
	for i := range 200 {
		if _, err := rtp.WriteTo([]byte{0x80, 0, 0, byte(i)}, peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	rtp.Close()
	rtcp.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rtp.WriteTo([]byte{1}, peer.LocalAddr()); err == nil {
		t.Fatal("a write after Close succeeded")
	}
	if _, _, err := m.Endpoints(); err == nil {
		t.Fatal("Endpoints after Close succeeded")
	}
	buf := make([]byte, 100)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 200 {
		n, _, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if n != 4 || buf[3] != byte(i) {
			t.Fatalf("datagram %d is % x", i, buf[:n])
		}
	}
	st := m.Stats()
	if st.Sent != 200 || st.WriteCalls > 200 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := rtpmux.New(nil); err == nil {
		t.Fatal("New without pairs succeeded")
	}
	c := udp(t)
	if _, err := rtpmux.New([]rtpmux.Pair{{RTP: c}}); err == nil {
		t.Fatal("New with half a pair succeeded")
	}
	if _, err := c.WriteTo([]byte{1}, c.LocalAddr()); err == nil {
		t.Fatal("the socket of a failed New is still open")
	}
}

// A re-INVITE moves the peer (rtpsession's SetRemote): the endpoint
// follows, the new peer's packets (another SSRC) reach the session and
// ours go there.
func TestPeerMoves(t *testing.T) {
	for _, keys := range []byte{0, 9} {
		t.Run(fmt.Sprintf("srtp=%v", keys > 0), func(t *testing.T) {
			m := newMux(t, 1)
			a, b := muxSide(t, m), ownSide(t)
			call(t, a, b, keys, nil)
			if err := b.sess.Send(0, []byte("from b"), false, 160); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a hears b", func() bool { return len(a.received()) == 1 })
			// c takes b's place with b's keys and a new SSRC.
			c := ownSide(t)
			cc := rtpsession.Config{RTP: c.rtp, RTCP: c.rtcp, RemoteRTP: a.addr[0], RemoteRTCP: a.addr[1], OnPacket: c.packet, RTCPInterval: -1}
			if keys > 0 {
				cc.SRTP = &rtpsession.SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(keys + 1), RemoteKey: key(keys)}
			}
			sc, err := rtpsession.New(cc)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sc.Close() })
			if err := sc.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			a.sess.SetRemote(c.addr[0], c.addr[1])
			if err := sc.Send(0, []byte("from c"), false, 160); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a hears c", func() bool { return len(a.received()) == 2 })
			if got := string(a.received()[1]); got != "from c" {
				t.Fatalf("a got %q", got)
			}
			if err := a.sess.Send(0, []byte("to c"), false, 160); err != nil {
				t.Fatal(err)
			}
			eventually(t, "c hears a", func() bool { return len(c.received()) == 1 })
			if n := len(b.received()); n != 0 {
				t.Fatalf("b still got %d packets", n)
			}
		})
	}
}
