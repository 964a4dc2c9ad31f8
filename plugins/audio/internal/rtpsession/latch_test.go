package rtpsession

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v2"
)

// nat is a UDP NAT in front of one socket of an endpoint: the endpoint sends
// to inside, the NAT forwards from its current outside socket to the peer,
// and what reaches the outside socket goes back to the endpoint. rebind
// moves the mapping to a new outside port and forgets the old one, as a NAT
// whose binding expired does.
type nat struct {
	t      testing.TB
	inside *net.UDPConn
	peer   net.Addr // where outside traffic goes

	mu      sync.Mutex
	outside *net.UDPConn
	client  net.Addr // the endpoint's socket, learned from its first packet
	wg      sync.WaitGroup
}

func newNAT(t testing.TB, peer net.Addr) *nat {
	t.Helper()
	n := &nat{t: t, inside: listen(t), peer: peer}
	n.outside = listen(t)
	n.wg.Add(2)
	go n.forwardOut()
	go n.forwardIn(n.outside)
	t.Cleanup(n.close)
	return n
}

// forwardOut carries the endpoint's datagrams to the peer.
func (n *nat) forwardOut() {
	defer n.wg.Done()
	buf := make([]byte, 1500)
	for {
		k, from, err := n.inside.ReadFrom(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		n.client = from
		out := n.outside
		n.mu.Unlock()
		out.WriteTo(buf[:k], n.peer)
	}
}

// forwardIn carries what reaches one outside socket back to the endpoint.
func (n *nat) forwardIn(out *net.UDPConn) {
	defer n.wg.Done()
	buf := make([]byte, 1500)
	for {
		k, _, err := out.ReadFrom(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		client := n.client
		n.mu.Unlock()
		if client != nil {
			n.inside.WriteTo(buf[:k], client)
		}
	}
}

// outsideAddr is the NAT's current public address.
func (n *nat) outsideAddr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.outside.LocalAddr()
}

// rebind opens a new outside socket and closes the old one.
func (n *nat) rebind() {
	out := listen(n.t)
	n.mu.Lock()
	old := n.outside
	n.outside = out
	n.mu.Unlock()
	old.Close()
	n.wg.Add(1)
	go n.forwardIn(out)
}

func (n *nat) close() {
	n.inside.Close()
	n.mu.Lock()
	n.outside.Close()
	n.mu.Unlock()
	n.wg.Wait()
}

// rtpPacket is a plain RTP packet with a one-byte PCMU payload.
func rtpPacket(ssrc uint32, seq uint16, ts uint32) []byte {
	p := make([]byte, 13)
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	p[12] = 0xff
	return p
}

// nothingQueued fails if c has a datagram waiting. Loopback delivery is
// done by the sender's write, so anything sent before the caller's last
// observed event is already queued.
func nothingQueued(t *testing.T, c *net.UDPConn, who string) {
	t.Helper()
	c.SetReadDeadline(time.Now())
	buf := make([]byte, 1500)
	n := 0
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("%s: read: %v", who, err)
			}
			break
		}
		n++
	}
	if n > 0 {
		t.Fatalf("%s received %d of our packets", who, n)
	}
}

// sendAndCheck sends n media packets from sa and checks that b's RTP socket
// gets every one of them.
func sendAndCheck(t *testing.T, sa *Session, b *endpoint, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := sa.Send(0, []byte{byte(i)}, false, 160); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if p := receive(t, b.got); p.Payload[0] != byte(i) {
			t.Fatalf("peer got packet %d, want %d", p.Payload[0], i)
		}
	}
}

// TestLatchRefusesSpoofedRTP: with plain RTP, once the peer's stream is
// known, bursts from another port are not followed unless they continue
// the peer's SSRC and sequence: a spoofer with a random SSRC, or with the
// peer's SSRC and a sequence that does not continue the peer's, gets none
// of our packets.
func TestLatchRefusesSpoofedRTP(t *testing.T) {
	tests := []struct {
		name string
		// packet returns the i-th spoofed packet of burst b, given the
		// peer's SSRC and last sequence number.
		packet func(b, i int, ssrc uint32, seq uint16) []byte
	}{
		{"random SSRC, in sequence", func(b, i int, _ uint32, seq uint16) []byte {
			return rtpPacket(uint32(0xbad0000+b), seq+1+uint16(i), uint32(i*160))
		}},
		{"random SSRC, random sequence", func(int, int, uint32, uint16) []byte {
			return rtpPacket(rand.Uint32(), uint16(rand.Uint32()), rand.Uint32())
		}},
		{"peer's SSRC, sequence far ahead", func(b, i int, ssrc uint32, seq uint16) []byte {
			return rtpPacket(ssrc, seq+1000+uint16(100*b+i), uint32(i*160))
		}},
		{"peer's SSRC, sequence behind", func(b, i int, ssrc uint32, seq uint16) []byte {
			return rtpPacket(ssrc, seq-200+uint16(i), uint32(i*160))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mux := range []bool{true, false} {
				a, b := newEndpoint(t, mux), newEndpoint(t, mux)
				spoofer := listen(t)
				defer spoofer.Close()
				sa, sb := start(t, a, b, func(ca, cb *Config) {
					ca.Latch = true
					ca.RTCPInterval, cb.RTCPInterval = -1, -1
				})
				// The peer's stream from its SDP address.
				for i := 0; i < 5; i++ {
					sb.Send(0, []byte{1}, false, 160)
					receive(t, a.got)
				}
				peer := sa.Stats()
				last := lastSeq(t, sb)
				sent := 0
				for burst := 0; burst < 4; burst++ {
					for i := 0; i < 12; i++ {
						if _, err := spoofer.WriteTo(tt.packet(burst, i, peer.RemoteSSRC, last), a.rtp.LocalAddr()); err != nil {
							t.Fatal(err)
						}
						sent++
					}
				}
				// Every spoofed packet has been through a's receive path.
				eventually(t, "spoofed packets handled", func() bool {
					st := sa.Stats()
					return st.PacketsReceived+st.Dropped >= peer.PacketsReceived+uint64(sent)
				})
				if got := sa.Stats().RemoteRTPReceived; got != nil {
					t.Fatalf("mux=%v: latched to %v", mux, got)
				}
				for len(a.got) > 0 {
					<-a.got
				}
				sendAndCheck(t, sa, b, 20)
				nothingQueued(t, spoofer, "spoofer")
			}
		})
	}
}

// lastSeq is the sequence number of the last packet s sent.
func lastSeq(t *testing.T, s *Session) uint16 {
	t.Helper()
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.seq - 1
}

// TestLatchFollowsMovedPeer: a peer behind a NAT whose binding changes
// keeps its SSRC and sequence from a new port; after a short probation our
// packets follow it there. The case is run with plain RTP and SRTP, and
// with and without rtcp-mux (RTCP follows its own new port).
func TestLatchFollowsMovedPeer(t *testing.T) {
	tests := []struct {
		name string
		mux  bool
		srtp bool
	}{
		{"plain rtcp-mux", true, false},
		{"plain", false, false},
		{"SRTP rtcp-mux", true, true},
		{"SRTP", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newEndpoint(t, tt.mux), newEndpoint(t, tt.mux)
			rtpNAT := newNAT(t, a.rtp.LocalAddr())
			var rtcpNAT *nat
			// b sends through its NAT; a is told the NAT's outside address
			// (a port-preserving NAT, as the peer's SDP would say).
			b.cfg.RemoteRTP = rtpNAT.inside.LocalAddr()
			a.cfg.RemoteRTP = rtpNAT.outsideAddr()
			if !tt.mux {
				rtcpNAT = newNAT(t, a.rtcp.LocalAddr())
				b.cfg.RemoteRTCP = rtcpNAT.inside.LocalAddr()
				a.cfg.RemoteRTCP = rtcpNAT.outsideAddr()
			}
			a.cfg.Latch = true
			a.cfg.RTCPInterval = 10 * time.Millisecond
			b.cfg.RTCPInterval = 10 * time.Millisecond
			if tt.srtp {
				p := srtp.ProtectionProfileAes128CmHmacSha1_80
				a.cfg.SRTP = &SRTP{Profile: p, LocalKey: key(1), RemoteKey: key(2)}
				b.cfg.SRTP = &SRTP{Profile: p, LocalKey: key(2), RemoteKey: key(1)}
			}
			sa, sb := startConfigured(t, a, b)
			sb.Send(0, []byte{1}, false, 160)
			receive(t, a.got)
			sendAndCheck(t, sa, b, 5)

			rtpNAT.rebind()
			if rtcpNAT != nil {
				rtcpNAT.rebind()
			}
			moved := rtpNAT.outsideAddr().String()
			eventually(t, "latch to the new port", func() bool {
				sb.Send(0, []byte{1}, false, 160)
				got := sa.Stats().RemoteRTPReceived
				return got != nil && got.String() == moved
			})
			for len(b.got) > 0 {
				<-b.got
			}
			sendAndCheck(t, sa, b, 20)
			// RTCP reaches b through the new binding.
			if rtcpNAT != nil {
				movedRTCP := rtcpNAT.outsideAddr().String()
				eventually(t, "RTCP latch to the new port", func() bool {
					got := sa.Stats().RemoteRTCPReceived
					return got != nil && got.String() == movedRTCP
				})
			}
			n := sb.Stats().RTCPReceived
			eventually(t, "RTCP through the new binding", func() bool { return sb.Stats().RTCPReceived > n+1 })
		})
	}
}

// startConfigured starts a and b with their configurations as they are.
func startConfigured(t testing.TB, a, b *endpoint) (*Session, *Session) {
	t.Helper()
	sa, err := New(a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(b.cfg)
	if err != nil {
		sa.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close(); sb.Close() })
	for _, s := range []*Session{sa, sb} {
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return sa, sb
}

// TestLatchRefusesSpoofedRTCP: once RTP has latched to the peer, RTCP from
// another port is followed only when it comes from the peer (its SSRC,
// from the peer's address; with rtcp-mux RTCP simply follows RTP); a
// spoofed receiver report with another SSRC gets none of our reports.
func TestLatchRefusesSpoofedRTCP(t *testing.T) {
	for _, mux := range []bool{false, true} {
		a, b := newEndpoint(t, mux), newEndpoint(t, mux)
		spoofer := listen(t)
		nowhere := listen(t) // the SDP addresses, never used by the peer
		nowhereRTCP := listen(t)
		sa, sb := start(t, a, b, func(ca, cb *Config) {
			ca.RemoteRTP, ca.RemoteRTCP = nowhere.LocalAddr(), nil
			if !mux {
				ca.RemoteRTCP = nowhereRTCP.LocalAddr()
			}
			ca.Latch = true
			ca.RTCPInterval, cb.RTCPInterval = 5*time.Millisecond, -1
		})
		eventually(t, "RTP latch to the peer", func() bool {
			sb.Send(0, []byte{1}, false, 160)
			return sa.Stats().RemoteRTPReceived != nil
		})
		target := a.rtp.LocalAddr()
		if !mux {
			target = a.rtcp.LocalAddr()
		}
		for i := 0; i < 20; i++ {
			raw, err := rtcp.Marshal([]rtcp.Packet{
				&rtcp.ReceiverReport{SSRC: rand.Uint32()},
				rtcp.NewCNAMESourceDescription(1, "spoofer"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spoofer.WriteTo(raw, target); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "spoofed RTCP handled", func() bool { return sa.Stats().RTCPReceived >= 20 })
		if got := sa.Stats().RemoteRTCPReceived; got != nil && got.String() == spoofer.LocalAddr().String() {
			t.Fatalf("mux=%v: RTCP latched to the spoofer %v", mux, got)
		}
		if mux {
			// RTCP goes where RTP goes: b gets our reports.
			n := sb.Stats().RTCPReceived
			eventually(t, "our reports at the peer", func() bool { return sb.Stats().RTCPReceived >= n+3 })
		} else {
			// Without rtcp-mux our reports still go to the SDP's RTCP
			// address (b sends no RTCP to latch to): a few more of them
			// are sent after the spoofed ones were handled.
			n := sa.Stats().RTCPSent
			eventually(t, "our reports sent", func() bool { return sa.Stats().RTCPSent >= n+3 })
		}
		nothingQueued(t, spoofer, "spoofer")
		spoofer.Close()
		nowhere.Close()
		nowhereRTCP.Close()
	}
}

func TestSameAddr(t *testing.T) {
	udp := func(ip string, port int) *net.UDPAddr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: port} }
	tests := []struct {
		a, b net.Addr
		want bool
	}{
		{udp("127.0.0.1", 4000), udp("127.0.0.1", 4000), true},
		{udp("127.0.0.1", 4000), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 4000}, true}, // 16- and 4-byte forms
		{udp("127.0.0.1", 4000), udp("127.0.0.1", 4002), false},
		{udp("127.0.0.1", 4000), udp("127.0.0.2", 4000), false},
		{udp("::1", 4000), udp("::1", 4000), true},
		{udp("::1", 4000), udp("127.0.0.1", 4000), false},
		{udp("127.0.0.1", 4000), nil, false},
		{udp("127.0.0.1", 4000), &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 4000}, true}, // same text
	}
	for _, tt := range tests {
		if got := sameAddr(tt.a, tt.b); got != tt.want {
			t.Errorf("sameAddr(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
