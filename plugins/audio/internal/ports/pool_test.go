package ports

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports/portstest"
)

var loopback4 = net.IPv4(127, 0, 0, 1)

// testPool returns a Pool over r, closed at the end of the test.
func testPool(t *testing.T, r Range, opts ...PoolOption) *Pool {
	t.Helper()
	p := NewPool(New(r), opts...)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func get(t *testing.T, p *Pool, ip net.IP) (*Endpoint, *Endpoint) {
	t.Helper()
	rtp, rtcp, err := p.Get(context.Background(), ip)
	if err != nil {
		t.Fatal(err)
	}
	return rtp, rtcp
}

// inbox collects what an endpoint delivers.
type inbox struct {
	mu   sync.Mutex
	got  []string
	more chan struct{}
}

func newInbox() *inbox { return &inbox{more: make(chan struct{}, 64)} }

func (b *inbox) deliver(p []byte, _ net.Addr, trial bool) bool {
	b.mu.Lock()
	b.got = append(b.got, string(p))
	b.mu.Unlock()
	b.more <- struct{}{}
	return true
}

// wait waits for the n-th datagram and returns all so far.
func (b *inbox) wait(t *testing.T, n int) []string {
	t.Helper()
	got, ok := b.waitFor(n)
	if !ok {
		t.Fatalf("%d datagrams delivered, want %d: %q", len(got), n, got)
	}
	return got
}

// waitFor waits for the n-th datagram; false after 10 s without it.
func (b *inbox) waitFor(n int) ([]string, bool) {
	for {
		got := b.all()
		if len(got) >= n {
			return got, true
		}
		select {
		case <-b.more:
		case <-time.After(10 * time.Second):
			return got, false
		}
	}
}

func (b *inbox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got...)
}

// sender sends datagrams from a socket of its own.
func sender(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, from *net.UDPConn, to *Endpoint, msg string) {
	t.Helper()
	if _, err := from.WriteTo([]byte(msg), &net.UDPAddr{IP: loopback4, Port: to.LocalPort()}); err != nil {
		t.Fatal(err)
	}
}

// TestPoolReuse: a pair given back is handed out again, oldest first and
// only on its own address; one still in use or given back half is not.
func TestPoolReuse(t *testing.T) {
	p := testPool(t, Range{42000, 42019})
	a1, a2 := get(t, p, loopback4)
	if a2.LocalPort() != a1.LocalPort()+1 || a1.LocalPort()%2 != 0 {
		t.Fatalf("pair %d/%d, want even/odd", a1.LocalPort(), a2.LocalPort())
	}
	b1, b2 := get(t, p, loopback4)
	if b1.LocalPort() == a1.LocalPort() {
		t.Fatal("a pair in use handed out twice")
	}
	a1.Close()
	if p.Idle() != 0 {
		t.Fatal("a pair given back half is in the pool")
	}
	a2.Close()
	a2.Close() // again: nothing
	b1.Close()
	b2.Close()
	if n := p.Idle(); n != 2 {
		t.Fatalf("%d idle pairs, want 2", n)
	}
	if held := portstest.Held([]int{a1.LocalPort(), a2.LocalPort()}); len(held) != 2 {
		t.Fatal("a pooled pair is not bound")
	}
	// IPv6 loopback: a pair of its own, not one bound on 127.0.0.1.
	v1, v2 := get(t, p, net.IPv6loopback)
	if p.Idle() != 2 {
		t.Fatalf("a pair for ::1 came from the pool of 127.0.0.1's")
	}
	v1.Close()
	v2.Close()
	c1, c2 := get(t, p, loopback4)
	if c1.LocalPort() != a1.LocalPort() || c2.LocalPort() != a2.LocalPort() {
		t.Fatalf("got %d/%d, want the oldest pair given back, %d/%d", c1.LocalPort(), c2.LocalPort(), a1.LocalPort(), a2.LocalPort())
	}
	d1, d2 := get(t, p, loopback4)
	if d1.LocalPort() != b1.LocalPort() {
		t.Fatalf("got %d, want the next oldest, %d", d1.LocalPort(), b1.LocalPort())
	}
	for _, e := range []*Endpoint{c1, c2, d1, d2} {
		e.Close()
	}
}

// TestPoolDelivery: the session that holds a pair gets what arrives once
// it receives (what came before waits for it), and nothing after it gave
// the pair back; a stray datagram that arrives while the pair is in the
// pool reaches nobody.
func TestPoolDelivery(t *testing.T) {
	p := testPool(t, Range{42100, 42119})
	var clock atomic.Int64 // the pool's, moved by the test (read by the readers too)
	clock.Store(time.Unix(1000, 0).UnixNano())
	p.clock = func() time.Time { return time.Unix(0, clock.Load()) }
	peer := sender(t)
	rtp, rtcp := get(t, p, loopback4)
	send(t, peer, rtp, "early")
	first := newInbox()
	rtp.Receive(first.deliver, false)
	send(t, peer, rtp, "one")
	if got := first.wait(t, 2); got[0] != "early" || got[1] != "one" {
		t.Fatalf("delivered %q, want early, one", got)
	}
	rtcpBox := newInbox()
	rtcp.Receive(rtcpBox.deliver, false)
	send(t, peer, rtcp, "report")
	rtcpBox.wait(t, 1)
	// WriteTo goes out of the pooled socket.
	if _, err := rtp.WriteTo([]byte("out"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, from, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "out" || from.(*net.UDPAddr).Port != rtp.LocalPort() {
		t.Fatalf("peer read %q from %v, %v", buf[:n], from, err)
	}

	rtp.Close()
	rtcp.Close()
	if _, err := rtp.WriteTo([]byte("late"), peer.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteTo after Close: %v, want net.ErrClosed", err)
	}
	send(t, peer, rtp, "stray")
	for deadline := time.Now().Add(10 * time.Second); p.Dropped() == 0; { // the pool's reader takes it
		if time.Now().After(deadline) {
			t.Fatal("the datagram sent to a pair in the pool was not dropped")
		}
		runtime.Gosched()
	}
	// A pair that received something is not handed out until it has
	// been quiet for PoolQuiet: a peer still sending to the ended call
	// must not reach the next one.
	other, otherRTCP := get(t, p, loopback4)
	defer other.Close()
	defer otherRTCP.Close()
	if other.LocalPort() == rtp.LocalPort() {
		t.Fatal("a pair that has just received a stray datagram was handed out")
	}
	clock.Add(int64(PoolQuiet - time.Millisecond))
	if o2, o2RTCP := get(t, p, loopback4); o2.LocalPort() == rtp.LocalPort() {
		t.Fatal("a pair handed out before it was quiet for PoolQuiet")
	} else {
		o2.Close()
		o2RTCP.Close()
	}
	clock.Add(int64(time.Millisecond))
	// Quiet now: the next owner gets it, and not the stray.
	again, againRTCP := get(t, p, loopback4)
	defer again.Close()
	defer againRTCP.Close()
	if again.LocalPort() != rtp.LocalPort() {
		t.Fatalf("got port %d, want the pooled %d", again.LocalPort(), rtp.LocalPort())
	}
	second := newInbox()
	again.Receive(second.deliver, false)
	send(t, peer, again, "two")
	if got := second.wait(t, 1); len(got) != 1 || got[0] != "two" {
		t.Fatalf("second session got %q, want two", got)
	}
	if got := first.all(); len(got) != 2 {
		t.Fatalf("the first session got %q after it gave the pair back", got)
	}
}

// TestPoolBounds: the pool keeps at most its size (the rest is closed at
// once), closes what lingered unused, and after Close keeps nothing and
// hands out nothing.
func TestPoolBounds(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		p := testPool(t, Range{42200, 42219}, WithPoolSize(1))
		a1, a2 := get(t, p, loopback4)
		b1, b2 := get(t, p, loopback4)
		a1.Close()
		a2.Close()
		b1.Close()
		b2.Close()
		if p.Idle() != 1 {
			t.Fatalf("%d idle, want 1", p.Idle())
		}
		mustBeFree4(t, []int{b1.LocalPort(), b2.LocalPort()})
	})
	t.Run("no pool", func(t *testing.T) {
		p := testPool(t, Range{42220, 42239}, WithPoolSize(0))
		a1, a2 := get(t, p, loopback4)
		a1.Close()
		a2.Close()
		mustBeFree4(t, []int{a1.LocalPort(), a2.LocalPort()})
	})
	t.Run("linger", func(t *testing.T) {
		p := testPool(t, Range{42240, 42259}, WithPoolLinger(20*time.Millisecond))
		a1, a2 := get(t, p, loopback4)
		a1.Close()
		a2.Close()
		deadline := time.Now().Add(10 * time.Second)
		for held := portstest.Held([]int{a1.LocalPort(), a2.LocalPort()}); len(held) > 0; held = portstest.Held(held) {
			if time.Now().After(deadline) {
				t.Fatal("the idle pair outlived its linger")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if p.Idle() != 0 {
			t.Fatal("a closed pair is still in the pool")
		}
	})
	t.Run("close", func(t *testing.T) {
		p := NewPool(New(Range{42260, 42279}))
		a1, a2 := get(t, p, loopback4)
		b1, b2 := get(t, p, loopback4)
		a1.Close()
		a2.Close()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		mustBeFree4(t, []int{a1.LocalPort(), a2.LocalPort()})
		if held := portstest.Held([]int{b1.LocalPort()}); len(held) != 1 {
			t.Fatal("Close closed a pair in use")
		}
		b1.Close()
		b2.Close()
		mustBeFree4(t, []int{b1.LocalPort(), b2.LocalPort()})
		if _, _, err := p.Get(context.Background(), loopback4); !errors.Is(err, ErrPoolClosed) {
			t.Fatalf("Get after Close: %v, want ErrPoolClosed", err)
		}
	})
}

// TestPoolConcurrent: streams taking and giving back pairs at once while
// datagrams arrive; run with -race. Each session gets only datagrams sent
// to it while it held the pair.
func TestPoolConcurrent(t *testing.T) {
	p := testPool(t, Range{42300, 42399})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			peer := sender(t)
			for i := range 50 {
				rtp, rtcp, err := p.Get(context.Background(), loopback4)
				if err != nil {
					t.Error(err)
					return
				}
				box := newInbox()
				rtp.Receive(box.deliver, false)
				msg := string(rune('a'+w)) + string(rune('0'+i%10))
				if _, err := peer.WriteTo([]byte(msg), &net.UDPAddr{IP: loopback4, Port: rtp.LocalPort()}); err != nil {
					t.Error(err)
				}
				if got, ok := box.waitFor(1); !ok || len(got) != 1 || got[0] != msg {
					t.Errorf("worker %d call %d got %q, want %q", w, i, got, msg)
				}
				rtp.Close()
				rtcp.Close()
			}
		})
	}
	wg.Wait()
}

func mustBeFree4(t *testing.T, ports []int) {
	t.Helper()
	if held := portstest.Held(ports); len(held) > 0 {
		t.Fatalf("ports %v still held", held)
	}
}
