package ports

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    Range
		wantErr bool
	}{
		{"50000-50500", Range{50000, 50500}, false},
		{" 4000 - 4001 ", Range{4000, 4001}, false},
		{"4001-4004", Range{4001, 4004}, false},
		{"4001-4002", Range{}, true}, // no even/odd pair
		{"5000", Range{}, true},
		{"a-b", Range{}, true},
		{"6000-5000", Range{}, true},
		{"0-10", Range{}, true},
		{"65534-65536", Range{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRange(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("err = %v, want ErrInvalidRange", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRange = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPairs(t *testing.T) {
	tests := []struct {
		r    Range
		want int
	}{
		{Range{50000, 50500}, 250},
		{Range{50001, 50500}, 249},
		{Range{4000, 4001}, 1},
		{Range{4000, 4002}, 1},
		{Range{4000, 4003}, 2},
	}
	for _, tt := range tests {
		if got := tt.r.pairs(); got != tt.want {
			t.Errorf("%v.pairs() = %d, want %d", tt.r, got, tt.want)
		}
	}
}

// freeRange finds n consecutive pairs currently free on ip so that tests do
// not depend on a fixed port being unused on this machine.
func freeRange(t *testing.T, ip net.IP, n int) Range {
	t.Helper()
	for base := 41000; base < 60000; base += 2 * n {
		r := Range{Min: base, Max: base + 2*n - 1}
		a := New(r)
		var got []Pair
		for i := 0; i < n; i++ {
			p, err := a.bind(context.Background(), ip, base+2*i)
			if err != nil {
				break
			}
			got = append(got, p)
		}
		for _, p := range got {
			p.Close()
		}
		if len(got) == n {
			return r
		}
	}
	t.Fatal("no free port range")
	return Range{}
}

func hold(t *testing.T, ip net.IP, port int) *net.UDPConn {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UDPConn)
}

func TestAllocate(t *testing.T) {
	for _, ips := range []string{"127.0.0.1", "::1"} {
		ip := net.ParseIP(ips)
		t.Run(ips, func(t *testing.T) {
			if ip.To4() == nil {
				if c, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
					t.Skip("no IPv6 loopback")
				} else {
					c.Close()
				}
			}
			r := freeRange(t, ip, 3)
			a := New(r)

			t.Run("pairs are even/odd and round-robin", func(t *testing.T) {
				p1, err := a.Allocate(context.Background(), ip)
				if err != nil {
					t.Fatal(err)
				}
				defer p1.Close()
				p2, err := a.Allocate(context.Background(), ip)
				if err != nil {
					t.Fatal(err)
				}
				defer p2.Close()
				for _, p := range []Pair{p1, p2} {
					if p.RTPPort()%2 != 0 || p.RTCPPort() != p.RTPPort()+1 {
						t.Errorf("pair %d/%d is not even/odd", p.RTPPort(), p.RTCPPort())
					}
					if p.RTPPort() < r.Min || p.RTCPPort() > r.Max {
						t.Errorf("pair %d/%d outside %v", p.RTPPort(), p.RTCPPort(), r)
					}
					if !p.RTP.LocalAddr().(*net.UDPAddr).IP.Equal(ip) {
						t.Errorf("bound on %v, want %v", p.RTP.LocalAddr(), ip)
					}
				}
				if p1.RTPPort() == p2.RTPPort() {
					t.Errorf("same pair twice: %d", p1.RTPPort())
				}
			})

			t.Run("released pair is not reused at once", func(t *testing.T) {
				p1, err := a.Allocate(context.Background(), ip)
				if err != nil {
					t.Fatal(err)
				}
				first := p1.RTPPort()
				p1.Close()
				p2, err := a.Allocate(context.Background(), ip)
				if err != nil {
					t.Fatal(err)
				}
				defer p2.Close()
				if p2.RTPPort() == first {
					t.Errorf("pair %d reused immediately", first)
				}
			})

			t.Run("skips pairs in use", func(t *testing.T) {
				b := New(r)
				hold(t, ip, r.Min+1) // RTCP port of the first pair
				hold(t, ip, r.Min+2) // RTP port of the second pair
				p, err := b.Allocate(context.Background(), ip)
				if err != nil {
					t.Fatal(err)
				}
				if p.RTPPort() != r.Min+4 {
					t.Errorf("got pair %d, want %d", p.RTPPort(), r.Min+4)
				}
				p.Close()
				hold(t, ip, r.Min+5)
				if _, err := b.Allocate(context.Background(), ip); !errors.Is(err, ErrExhausted) {
					t.Errorf("err = %v, want ErrExhausted", err)
				}
			})
		})
	}
}

func TestAllocateCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(DefaultRange).Allocate(ctx, net.IPv4(127, 0, 0, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestAllocateForeignIP(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not configured here: the error is not "in use"
	// and must stop the search instead of walking the whole range.
	_, err := New(DefaultRange).Allocate(context.Background(), net.ParseIP("192.0.2.1"))
	if err == nil || errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want a bind error", err)
	}
}

// free reports whether port can be bound on ip now.
func free(ip net.IP, port int) bool {
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestAllocateReleasesOnFailure: a pair that cannot be had leaves nothing
// bound: the RTP socket of a pair whose RTCP port is taken is closed
// again, a search that ends exhausted or canceled holds no port, and
// Pair.Close gives both ports back.
func TestAllocateReleasesOnFailure(t *testing.T) {
	ip := net.IPv4(127, 0, 0, 1)
	r := freeRange(t, ip, 2)
	a := New(r)
	hold(t, ip, r.Min+1) // RTCP port of the first pair
	hold(t, ip, r.Min+3) // RTCP port of the second pair
	if _, err := a.Allocate(context.Background(), ip); !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	for _, port := range []int{r.Min, r.Min + 2} {
		if !free(ip, port) {
			t.Errorf("RTP port %d still bound after its pair failed", port)
		}
	}

	r = freeRange(t, ip, 1)
	a = New(r)
	p, err := a.Allocate(context.Background(), ip)
	if err != nil {
		t.Fatal(err)
	}
	if free(ip, r.Min) || free(ip, r.Min+1) {
		t.Fatal("the allocated pair is not bound")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !free(ip, r.Min) || !free(ip, r.Min+1) {
		t.Fatal("Pair.Close left a port bound")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Allocate(ctx, ip); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !free(ip, r.Min) || !free(ip, r.Min+1) {
		t.Fatal("a canceled Allocate left a port bound")
	}
}
