//go:build linux && (amd64 || arm64)

package rtpmux

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func listenUDP(t *testing.T, network, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Datagrams waiting in the socket are read with one system call, each with
// its own source address, IPv4 and IPv6.
func TestBatchRead(t *testing.T) {
	for _, tc := range []struct{ network, ip string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
		t.Run(tc.network, func(t *testing.T) {
			c := listenUDP(t, tc.network, tc.ip)
			r, err := newBatchReader(c)
			if err != nil {
				t.Fatal(err)
			}
			senders := []*net.UDPConn{listenUDP(t, tc.network, tc.ip), listenUDP(t, tc.network, tc.ip)}
			for i := range 50 {
				if _, err := senders[i%2].WriteTo([]byte{byte(i), 1, 2}, c.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			got := 0
			for got < 50 {
				n, err := r.read()
				if err != nil {
					t.Fatal(err)
				}
				if got == 0 && n != 50 {
					t.Fatalf("first read took %d of 50 waiting datagrams", n)
				}
				for i := range n {
					p, from := r.datagram(i)
					want := senders[(got+i)%2].LocalAddr().(*net.UDPAddr).AddrPort()
					if len(p) != 3 || p[0] != byte(got+i) || from != want {
						t.Fatalf("datagram %d: % x from %v, want from %v", got+i, p, from, want)
					}
				}
				got += n
			}
		})
	}
}

// 100 datagrams to several destinations go in two sendmmsg calls; one to
// an address the socket cannot reach, in the middle, fails alone.
func TestBatchWrite(t *testing.T) {
	for _, tc := range []struct{ network, ip, bad string }{
		{"udp4", "127.0.0.1", "[::1]:9"},        // refused before the system call
		{"udp6", "::1", "[::ffff:127.0.0.1]:9"}, // refused by the kernel
	} {
		t.Run(tc.network, func(t *testing.T) {
			c := listenUDP(t, tc.network, tc.ip)
			w, err := newBatchWriter(c)
			if err != nil {
				t.Fatal(err)
			}
			dsts := []*net.UDPConn{listenUDP(t, tc.network, tc.ip), listenUDP(t, tc.network, tc.ip)}
			var bufs [][]byte
			var to []netip.AddrPort
			for i := range 100 {
				if i == 50 {
					bufs = append(bufs, []byte{0xff})
					to = append(to, netip.MustParseAddrPort(tc.bad))
				}
				bufs = append(bufs, []byte{byte(i)})
				to = append(to, dsts[i%2].LocalAddr().(*net.UDPAddr).AddrPort())
			}
			sent, calls, errs, err := w.send(bufs, to)
			if sent != 100 || calls < 2 || calls > 4 || errs != 1 || err == nil {
				t.Fatalf("sent %d in %d calls, %d failed (%v)", sent, calls, errs, err)
			}
			buf := make([]byte, 10)
			for i := range 100 {
				n, _, err := dsts[i%2].ReadFrom(buf)
				if err != nil || n != 1 || buf[0] != byte(i) {
					t.Fatalf("datagram %d: % x, %v", i, buf[:n], err)
				}
			}
		})
	}
}

// Datagrams of one size to one destination go as GSO messages (fewer
// messages than datagrams), other sizes and destinations apart; every
// datagram arrives whole, in order per destination.
func TestBatchWriteGSO(t *testing.T) {
	c := listenUDP(t, "udp4", "127.0.0.1")
	w, err := newBatchWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	dsts := []*net.UDPConn{listenUDP(t, "udp4", "127.0.0.1"), listenUDP(t, "udp4", "127.0.0.1")}
	var bufs [][]byte
	var to []netip.AddrPort
	size := func(i int) int {
		if i%10 == 9 {
			return 60 // a DTMF-sized packet now and then
		}
		return 182
	}
	for i := range 150 {
		p := make([]byte, size(i))
		p[0], p[len(p)-1] = byte(i), byte(i)
		bufs = append(bufs, p)
		to = append(to, dsts[i%2].LocalAddr().(*net.UDPAddr).AddrPort())
	}
	sent, calls, errs, err := w.send(bufs, to)
	if sent != 150 || errs != 0 || err != nil || calls > 6 {
		t.Fatalf("sent %d in %d calls, %d failed (%v)", sent, calls, errs, err)
	}
	if !w.gso {
		t.Fatal("GSO was refused by this kernel") // Linux ≥ 4.18 has it
	}
	buf := make([]byte, 2000)
	for d := range 2 {
		for i := d; i < 150; i += 2 {
			n, _, err := dsts[d].ReadFrom(buf)
			if err != nil || n != size(i) || buf[0] != byte(i) || buf[n-1] != byte(i) {
				t.Fatalf("destination %d, datagram %d: %d bytes [%d…%d], %v", d, i, n, buf[0], buf[n-1], err)
			}
		}
	}
}

// A socket the kernel refuses GSO on (SO_NO_CHECK) falls back to a
// datagram per message, from the refused one on: nothing is lost.
func TestBatchWriteGSORefused(t *testing.T) {
	c := listenUDP(t, "udp4", "127.0.0.1")
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	w, err := newBatchWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	dst := listenUDP(t, "udp4", "127.0.0.1")
	var bufs [][]byte
	var to []netip.AddrPort
	for i := range 100 {
		bufs = append(bufs, []byte{byte(i), 1, 2, 3})
		to = append(to, dst.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	sent, _, errs, err := w.send(bufs, to)
	if sent != 100 || errs != 0 || err != nil {
		t.Fatalf("sent %d, %d failed (%v)", sent, errs, err)
	}
	if w.gso {
		t.Fatal("GSO still on after the kernel refused it")
	}
	buf := make([]byte, 100)
	for i := range 100 {
		n, _, err := dst.ReadFrom(buf)
		if err != nil || n != 4 || buf[0] != byte(i) {
			t.Fatalf("datagram %d: % x, %v", i, buf[:n], err)
		}
	}
}
