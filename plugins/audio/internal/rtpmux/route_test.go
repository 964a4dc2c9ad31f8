package rtpmux

import (
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// FuzzRoute feeds arbitrary datagrams from arbitrary sources to a socket's
// routing with endpoints in every state: it must not panic, and a datagram
// is delivered for good (not on trial) to one endpoint at most.
func FuzzRoute(f *testing.F) {
	rtp := func(ssrc uint32) []byte {
		p := []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 0, 0xff, 0xff}
		binary.BigEndian.PutUint32(p[8:], ssrc)
		return p
	}
	f.Add(rtp(1), uint16(4000), byte(0))
	f.Add(rtp(2), uint16(4002), byte(1))
	f.Add(rtp(3), uint16(4004), byte(3))
	f.Add([]byte{0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0}, uint16(4001), byte(0))
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 9}, uint16(9), byte(2))
	f.Add([]byte{0x00, 0, 0}, uint16(4000), byte(0))
	f.Add([]byte{}, uint16(0), byte(0))
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	f.Fuzz(func(t *testing.T, p []byte, port uint16, accept byte) {
		s, err := newSock(c, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		m := &Mux{logger: slog.Default()}
		var final int
		mk := func(peerPort uint16, ssrc uint32, told, authenticated bool, i int) *Endpoint {
			e := s.endpoint(m)
			m.endpoints++
			e.Receive(func(_ []byte, from net.Addr, trial bool) bool {
				if from == nil {
					t.Fatal("delivered without a source")
				}
				ok := accept&(1<<i) != 0
				if ok && !trial {
					final++
				}
				return ok
			}, authenticated)
			if peerPort != 0 {
				e.SetPeer(net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), peerPort)))
			}
			if told {
				e.SetRemoteSSRC(ssrc)
			}
			return e
		}
		eps := []*Endpoint{
			mk(4000, 1, true, false, 0),
			mk(4002, 2, false, true, 1),
			mk(4002, 3, true, true, 2),
			mk(0, 0, false, true, 3),
			mk(0, 0, false, false, 4),
		}
		from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		s.route(p, from)
		s.route(p, netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), port))
		if final > 2 {
			t.Fatalf("delivered for good %d times for 2 datagrams", final)
		}
		for _, e := range eps {
			e.Close()
		}
		if len(s.byAddr) != 0 || len(s.bySSRC) != 0 || len(s.fresh) != 0 || m.endpoints != 0 {
			t.Fatalf("tables not empty after every endpoint closed: %d %d %d %d", len(s.byAddr), len(s.bySSRC), len(s.fresh), m.endpoints)
		}
	})
}

// Once an endpoint's Close returned, no delivery to it runs or starts,
// however busy the socket: the session frees its port and codec next.
func TestNoDeliveryAfterClose(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New([]Pair{{RTP: c, RTCP: mustUDP(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	peer := mustUDP(t)
	defer peer.Close()
	for round := range 20 {
		rtp, rtcp, err := m.Endpoints()
		if err != nil {
			t.Fatal(err)
		}
		var closed, late atomic.Bool
		var running atomic.Int32
		got := make(chan struct{}, 1)
		rtp.Receive(func([]byte, net.Addr, bool) bool {
			running.Add(1)
			defer running.Add(-1)
			if closed.Load() {
				late.Store(true)
			}
			select {
			case got <- struct{}{}:
			default:
			}
			time.Sleep(50 * time.Microsecond) // a slow session widens the window
			return true
		}, false)
		rtp.SetPeer(peer.LocalAddr())
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			p := []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, byte(round), 1, 2, 3}
			for {
				select {
				case <-stop:
					return
				default:
				}
				peer.WriteTo(p, c.LocalAddr())
			}
		}()
		<-got
		rtp.Close()
		if n := running.Load(); n != 0 {
			t.Fatalf("round %d: %d deliveries still running when Close returned", round, n)
		}
		closed.Store(true)
		rtcp.Close()
		close(stop)
		<-done
		if late.Load() {
			t.Fatalf("round %d: a datagram was delivered after Close returned", round)
		}
	}
}

func mustUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
