package rtpsession

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/srtp/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listen opens a UDP socket on 127.0.0.1 with an ephemeral port.
func listen(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// endpoint is one side of a test call.
type endpoint struct {
	rtp, rtcp *net.UDPConn
	cfg       Config
	got       chan Packet
}

func newEndpoint(t testing.TB, mux bool) *endpoint {
	t.Helper()
	e := &endpoint{rtp: listen(t), got: make(chan Packet, 1024)}
	e.cfg = Config{RTP: e.rtp, RTCPMux: mux, OnPacket: func(p Packet) { e.got <- kept(p) }}
	if !mux {
		e.rtcp = listen(t)
		e.cfg.RTCP = e.rtcp
	}
	return e
}

func (e *endpoint) addrs() (net.Addr, net.Addr) {
	if e.rtcp == nil {
		return e.rtp.LocalAddr(), nil
	}
	return e.rtp.LocalAddr(), e.rtcp.LocalAddr()
}

// start connects a to b and b to a, applies per-side tweaks and starts both.
func start(t testing.TB, a, b *endpoint, tweak func(a, b *Config)) (*Session, *Session) {
	t.Helper()
	a.cfg.RemoteRTP, a.cfg.RemoteRTCP = b.addrs()
	b.cfg.RemoteRTP, b.cfg.RemoteRTCP = a.addrs()
	if tweak != nil {
		tweak(&a.cfg, &b.cfg)
	}
	sa, err := New(a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close(); sb.Close() })
	for _, s := range []*Session{sa, sb} {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return sa, sb
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 30) }

// eventually polls cond until it holds or the test's deadline budget (10 s)
// is used up.
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

func receive(t testing.TB, ch <-chan Packet) Packet {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no packet received")
		return Packet{}
	}
}

func TestExchange(t *testing.T) {
	tests := []struct {
		name    string
		mux     bool
		profile srtp.ProtectionProfile // 0: plain
	}{
		{"plain", false, 0},
		{"plain rtcp-mux", true, 0},
		{"SRTP AES_CM_128_HMAC_SHA1_80", false, srtp.ProtectionProfileAes128CmHmacSha1_80},
		{"SRTP AES_CM_128_HMAC_SHA1_32", false, srtp.ProtectionProfileAes128CmHmacSha1_32},
		{"SRTP_80 rtcp-mux", true, srtp.ProtectionProfileAes128CmHmacSha1_80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newEndpoint(t, tt.mux), newEndpoint(t, tt.mux)
			sa, sb := start(t, a, b, func(ca, cb *Config) {
				if tt.profile != 0 {
					ca.SRTP = &SRTP{Profile: tt.profile, LocalKey: key(1), RemoteKey: key(2)}
					cb.SRTP = &SRTP{Profile: tt.profile, LocalKey: key(2), RemoteKey: key(1)}
				}
				ca.RTCPInterval, cb.RTCPInterval = 20*time.Millisecond, 20*time.Millisecond
			})
			const n = 20
			for dir, pair := range [][2]*Session{{sa, sb}, {sb, sa}} {
				from, to := pair[0], pair[1]
				ch := b.got
				if dir == 1 {
					ch = a.got
				}
				ts0 := from.Timestamp()
				for i := 0; i < n; i++ {
					payload := []byte(fmt.Sprintf("frame %d", i))
					if err := from.Send(0, payload, i == 0, 160); err != nil {
						t.Fatal(err)
					}
				}
				var seq0 uint16
				for i := 0; i < n; i++ {
					p := receive(t, ch)
					if i == 0 {
						seq0 = p.SequenceNumber
						if !p.Marker {
							t.Error("first packet lost its marker")
						}
					}
					if want := fmt.Sprintf("frame %d", i); string(p.Payload) != want {
						t.Fatalf("packet %d payload %q, want %q", i, p.Payload, want)
					}
					if p.SequenceNumber != seq0+uint16(i) || p.Timestamp != ts0+uint32(160*i) || p.SSRC != from.SSRC() || p.PayloadType != 0 {
						t.Fatalf("packet %d header: %+v", i, p)
					}
				}
				st := to.Stats()
				if st.PacketsReceived != n || st.SRTPFailures != 0 || st.RemoteSSRC != from.SSRC() || st.Lost != 0 {
					t.Fatalf("receiver stats %+v", st)
				}
				if st := from.Stats(); st.PacketsSent != n {
					t.Fatalf("sender stats %+v", st)
				}
			}
			// RTCP flows both ways over the same transport setup.
			eventually(t, "RTCP reports", func() bool {
				return sa.Stats().RTCPReceived > 0 && sb.Stats().RTCPReceived > 0
			})
		})
	}
}

func TestWrongSRTPKey(t *testing.T) {
	for _, p := range []srtp.ProtectionProfile{srtp.ProtectionProfileAes128CmHmacSha1_80, srtp.ProtectionProfileAes128CmHmacSha1_32} {
		t.Run(p.String(), func(t *testing.T) {
			a, b := newEndpoint(t, false), newEndpoint(t, false)
			sa, sb := start(t, a, b, func(ca, cb *Config) {
				ca.SRTP = &SRTP{Profile: p, LocalKey: key(1), RemoteKey: key(2)}
				cb.SRTP = &SRTP{Profile: p, LocalKey: key(2), RemoteKey: key(9)} // wrong
				ca.RTCPInterval, cb.RTCPInterval = 10*time.Millisecond, -1
			})
			const n = 10
			for i := 0; i < n; i++ {
				if err := sa.Send(0, []byte("secret"), false, 160); err != nil {
					t.Fatal(err)
				}
			}
			// n RTP packets plus at least one SRTCP report fail.
			eventually(t, "auth failures", func() bool { return sb.Stats().SRTPFailures > n })
			st := sb.Stats()
			if st.PacketsReceived != 0 || st.RTCPReceived != 0 || len(b.got) != 0 {
				t.Fatalf("unauthenticated data accepted: %+v, %d delivered", st, len(b.got))
			}
		})
	}
}

// delayed delays every write by d: a known floor for the round-trip time.
type delayed struct {
	Transport
	d time.Duration
}

func (t delayed) WriteTo(p []byte, addr net.Addr) (int, error) {
	time.Sleep(t.d)
	return t.Transport.WriteTo(p, addr)
}

func TestRTCPReports(t *testing.T) {
	const delay = 15 * time.Millisecond
	a, b := newEndpoint(t, false), newEndpoint(t, false)
	sa, sb := start(t, a, b, func(ca, cb *Config) {
		ca.RTCPInterval, cb.RTCPInterval = 30*time.Millisecond, 30*time.Millisecond
		cb.RTCP = delayed{cb.RTCP, delay}
	})
	// a sends 50 packets of 20 ms back to back: arrival spacing is far below
	// the timestamp spacing, so b measures jitter; a gets b's reports.
	for i := 0; i < 50; i++ {
		if err := sa.Send(8, make([]byte, 160), false, 160); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		receive(t, b.got)
	}
	// Keep sending so that a's reports are sender reports, until a has an
	// RTT from b's receiver report block.
	eventually(t, "RTT", func() bool {
		sa.Send(8, make([]byte, 160), false, 160)
		return sa.Stats().RTT > 0 && sa.Stats().RemoteJitter > 0
	})
	sta, stb := sa.Stats(), sb.Stats()
	if sta.RTT < delay {
		t.Errorf("RTT %v below the injected %v", sta.RTT, delay)
	}
	if stb.Jitter < 10*time.Millisecond {
		t.Errorf("receiver jitter %v, want ≥ 10ms", stb.Jitter)
	}
	if stb.RTCPReceived == 0 || sta.RTCPSent == 0 {
		t.Errorf("RTCP counters: a %+v b %+v", sta, stb)
	}
}

func TestSetRemote(t *testing.T) {
	a, b, c := newEndpoint(t, false), newEndpoint(t, false), newEndpoint(t, false)
	p := srtp.ProtectionProfileAes128CmHmacSha1_80
	sa, _ := start(t, a, b, func(ca, cb *Config) {
		ca.SRTP = &SRTP{Profile: p, LocalKey: key(1), RemoteKey: key(2)}
		cb.SRTP = &SRTP{Profile: p, LocalKey: key(2), RemoteKey: key(1)}
	})
	c.cfg.RemoteRTP, c.cfg.RemoteRTCP = a.addrs()
	c.cfg.SRTP = &SRTP{Profile: p, LocalKey: key(2), RemoteKey: key(1)}
	sc, err := New(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	sa.Send(0, []byte("to b"), false, 160)
	if p := receive(t, b.got); string(p.Payload) != "to b" {
		t.Fatalf("b got %q", p.Payload)
	}
	sa.SetRemote(c.addrs())
	sa.Send(0, []byte("to c"), false, 160)
	if p := receive(t, c.got); string(p.Payload) != "to c" {
		t.Fatalf("c got %q", p.Payload)
	}
	st := sa.Stats()
	if st.RemoteRTPSDP.String() != c.rtp.LocalAddr().String() || st.RemoteRTCPSDP.String() != c.rtcp.LocalAddr().String() {
		t.Fatalf("remote after SetRemote: %v %v", st.RemoteRTPSDP, st.RemoteRTCPSDP)
	}
	if len(b.got) != 0 {
		t.Fatal("b still receives after SetRemote")
	}
	if st.PacketsSent != 2 {
		t.Fatalf("sent %d", st.PacketsSent)
	}
}

func TestLatch(t *testing.T) {
	a, b := newEndpoint(t, true), newEndpoint(t, true)
	nowhere := listen(t) // the "SDP" address a is told, which b never uses
	defer nowhere.Close()
	stray := listen(t)
	defer stray.Close()
	changed := make(chan net.Addr, 1)
	sa, sb := start(t, a, b, func(ca, cb *Config) {
		ca.RemoteRTP = nowhere.LocalAddr()
		ca.Latch = true
		ca.LatchAfter = 3
		ca.OnRemoteChange = func(_, n net.Addr) { changed <- n }
	})
	// One stray packet from elsewhere, then b's packets: the stray source
	// never gets 3 in a row, b does.
	stray.WriteTo([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xff}, a.rtp.LocalAddr())
	for i := 0; i < 2; i++ {
		sb.Send(0, []byte("hello"), false, 160)
	}
	receive(t, a.got)
	receive(t, a.got)
	if st := sa.Stats(); st.RemoteRTPReceived != nil {
		t.Fatalf("latched after %d packets: %v", st.PacketsReceived, st.RemoteRTPReceived)
	}
	sb.Send(0, []byte("hello"), false, 160)
	receive(t, a.got)
	if got := <-changed; got.String() != b.rtp.LocalAddr().String() {
		t.Fatalf("latched to %v", got)
	}
	sa.Send(0, []byte("back"), false, 160)
	if p := receive(t, b.got); string(p.Payload) != "back" {
		t.Fatalf("b got %q", p.Payload)
	}
	st := sa.Stats()
	if st.RemoteRTPSDP.String() != nowhere.LocalAddr().String() || st.RemoteRTPReceived.String() != b.rtp.LocalAddr().String() {
		t.Fatalf("addresses: sdp %v received %v", st.RemoteRTPSDP, st.RemoteRTPReceived)
	}
}

func TestTimeout(t *testing.T) {
	a, b := newEndpoint(t, false), newEndpoint(t, false)
	fired := make(chan struct{}, 16)
	sa, _ := start(t, a, b, func(ca, cb *Config) {
		ca.Timeout = 30 * time.Millisecond
		ca.OnTimeout = func() {
			select {
			case fired <- struct{}{}:
			default: // must not block the timer goroutine
			}
		}
	})
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("timeout callback did not fire")
	}
	if sa.Stats().PacketsReceived != 0 {
		t.Fatal("packets arrived")
	}
}

func TestHoldKeepAlive(t *testing.T) {
	a, b := newEndpoint(t, false), newEndpoint(t, false)
	sa, sb := start(t, a, b, func(ca, cb *Config) {
		ca.KeepAlive = 10 * time.Millisecond
		ca.PayloadTypes = []uint8{0, 101}
	})
	sa.SetSending(false)
	ts := sa.Timestamp()
	if err := sa.Send(0, []byte("held"), false, 160); err != nil {
		t.Fatal(err)
	}
	if sa.Timestamp() != ts+160 {
		t.Fatal("timestamp did not advance while held")
	}
	eventually(t, "keep-alives", func() bool { return sb.Stats().PacketsReceived >= 2 })
	if len(b.got) != 0 {
		t.Fatalf("media delivered while held: %+v", <-b.got)
	}
	sa.SetSending(true)
	sa.Send(0, []byte("resumed"), false, 160)
	if p := receive(t, b.got); string(p.Payload) != "resumed" {
		t.Fatalf("got %q after resume", p.Payload)
	}
}

func TestPayloadTypeFilter(t *testing.T) {
	a, b := newEndpoint(t, false), newEndpoint(t, false)
	sa, sb := start(t, a, b, func(ca, cb *Config) { cb.PayloadTypes = []uint8{0} })
	sa.Send(99, []byte("unknown"), false, 160)
	sa.Send(0, []byte("known"), false, 160)
	if p := receive(t, b.got); string(p.Payload) != "known" {
		t.Fatalf("got %q", p.Payload)
	}
	eventually(t, "drop count", func() bool { return sb.Stats().Dropped == 1 })
}

func TestConfigErrors(t *testing.T) {
	c := listen(t)
	defer c.Close()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no transport", Config{}},
		{"no rtcp", Config{RTP: c}},
		{"rtcp with mux", Config{RTP: c, RTCP: c, RTCPMux: true}},
		{"short key", Config{RTP: c, RTCPMux: true, SRTP: &SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(1)[:10], RemoteKey: key(1)}}},
		{"bad profile", Config{RTP: c, RTCPMux: true, SRTP: &SRTP{Profile: 99, LocalKey: key(1), RemoteKey: key(1)}}},
		{"negative timeout", Config{RTP: c, RTCPMux: true, Timeout: -1}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	c := listen(t)
	s, err := New(Config{RTP: c, RTCPMux: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(0, nil, false, 0); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("send before start: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(0, []byte{1}, false, 0); !errors.Is(err, ErrNoRemote) {
		t.Fatalf("send without remote: %v", err)
	}
	s.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := s.Send(0, nil, false, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}

// TestConcurrentSend exercises Send, Stats and SetRemote together under
// -race: every packet must get its own sequence number. (Loopback UDP may
// drop some packets under load, so not every packet has to arrive.)
func TestConcurrentSend(t *testing.T) {
	a, b := newEndpoint(t, false), newEndpoint(t, false)
	var mu sync.Mutex
	seen := map[uint16]int{}
	sa, sb := start(t, a, b, func(ca, cb *Config) {
		ca.RTCPInterval = time.Millisecond
		cb.OnPacket = func(p Packet) {
			mu.Lock()
			seen[p.SequenceNumber]++
			mu.Unlock()
		}
	})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := sa.Send(0, []byte{byte(i)}, false, 160); err != nil {
					t.Error(err)
				}
				sa.Stats()
				if i%50 == 0 {
					sa.SetRemote(b.addrs())
				}
			}
		}()
	}
	wg.Wait()
	if st := sa.Stats(); st.PacketsSent != 400 {
		t.Fatalf("sent %d", st.PacketsSent)
	}
	eventually(t, "packets", func() bool { return sb.Stats().PacketsReceived > 0 })
	mu.Lock()
	defer mu.Unlock()
	for seq, n := range seen {
		if n > 1 {
			t.Fatalf("sequence number %d used %d times", seq, n)
		}
	}
}

func benchmarkExchange(b *testing.B, profile srtp.ProtectionProfile) {
	ea, eb := newEndpoint(b, false), newEndpoint(b, false)
	sa, _ := start(b, ea, eb, func(ca, cb *Config) {
		if profile != 0 {
			ca.SRTP = &SRTP{Profile: profile, LocalKey: key(1), RemoteKey: key(2)}
			cb.SRTP = &SRTP{Profile: profile, LocalKey: key(2), RemoteKey: key(1)}
		}
	})
	payload := make([]byte, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sa.Send(0, payload, false, 160); err != nil {
			b.Fatal(err)
		}
		<-eb.got
	}
}

func BenchmarkSendReceivePlain(b *testing.B) { benchmarkExchange(b, 0) }

func BenchmarkSendReceiveSRTP80(b *testing.B) {
	benchmarkExchange(b, srtp.ProtectionProfileAes128CmHmacSha1_80)
}

func BenchmarkSendReceiveSRTP32(b *testing.B) {
	benchmarkExchange(b, srtp.ProtectionProfileAes128CmHmacSha1_32)
}

func TestIPv6(t *testing.T) {
	conn := func() *net.UDPConn {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Skip("no IPv6 loopback:", err)
		}
		return c
	}
	a, b := &endpoint{rtp: conn(), got: make(chan Packet, 4)}, &endpoint{rtp: conn(), got: make(chan Packet, 4)}
	a.cfg = Config{RTP: a.rtp, RTCPMux: true, OnPacket: func(p Packet) { a.got <- kept(p) }}
	b.cfg = Config{RTP: b.rtp, RTCPMux: true, OnPacket: func(p Packet) { b.got <- kept(p) }}
	sa, sb := start(t, a, b, func(ca, cb *Config) {
		ca.SRTP = &SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(3), RemoteKey: key(4)}
		cb.SRTP = &SRTP{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, LocalKey: key(4), RemoteKey: key(3)}
	})
	sa.Send(8, []byte("v6"), false, 160)
	sb.Send(8, []byte("v6 back"), false, 160)
	if p := receive(t, b.got); string(p.Payload) != "v6" {
		t.Fatalf("b got %q", p.Payload)
	}
	if p := receive(t, a.got); string(p.Payload) != "v6 back" {
		t.Fatalf("a got %q", p.Payload)
	}
}

// TestCloseWhileReporting: Close sends its RTCP BYE only once the timer
// goroutine, which sends the reports with the same SRTCP context, has
// returned (run with -race: before, a report in flight at Close raced
// the BYE).
func TestCloseWhileReporting(t *testing.T) {
	for range 20 {
		a, b := newEndpoint(t, false), newEndpoint(t, false)
		sa, _ := start(t, a, b, func(ca, cb *Config) {
			p := srtp.ProtectionProfileAes128CmHmacSha1_80
			ca.SRTP = &SRTP{Profile: p, LocalKey: key(1), RemoteKey: key(2)}
			cb.SRTP = &SRTP{Profile: p, LocalKey: key(2), RemoteKey: key(1)}
			ca.RTCPInterval = time.Millisecond
		})
		for sa.Stats().RTCPSent == 0 { // reporting: wait for the event
			time.Sleep(time.Millisecond)
		}
		if err := sa.Close(); err != nil {
			t.Fatal(err)
		}
		if sa.Stats().RTCPSent < 2 {
			t.Fatal("no BYE after the reports")
		}
	}
}

// kept is p with a payload of its own: OnPacket's is valid during the call
// only.
func kept(p Packet) Packet {
	p.Payload = append([]byte(nil), p.Payload...)
	return p
}

// TestByeOnlyAfterSending: Close says goodbye (an RTCP BYE) only for a
// session that sent something, RTP or RTCP (RFC 3550 §6.3.7); the peer
// gets that BYE.
func TestByeOnlyAfterSending(t *testing.T) {
	tests := []struct {
		name    string
		send    bool
		wantBye bool
	}{
		{"nothing sent", false, false},
		{"one packet sent", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newEndpoint(t, false), newEndpoint(t, false)
			sa, sb := start(t, a, b, func(ca, cb *Config) {
				ca.RTCPInterval = time.Hour // no report before Close
				cb.RTCPInterval = time.Hour
			})
			if tt.send {
				if err := sa.Send(0, []byte("media"), true, 160); err != nil {
					t.Fatal(err)
				}
				receive(t, b.got)
			}
			if err := sa.Close(); err != nil {
				t.Fatal(err)
			}
			if got := sa.Stats().RTCPSent; (got == 1) != tt.wantBye || got > 1 {
				t.Fatalf("RTCP packets sent by Close: %d, want a BYE: %v", got, tt.wantBye)
			}
			if tt.wantBye {
				for sb.Stats().RTCPReceived == 0 { // the BYE: wait for the event
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
}
