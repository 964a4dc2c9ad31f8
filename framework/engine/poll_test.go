//go:build unix

package engine

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReaderPollsWhenBusy: with the only P kept busy by other goroutines,
// the UDP reader takes datagrams by polling the socket between their
// turns, not by waiting for the scheduler to look at the socket (which it
// does only when the P has nothing else to run, or every 10 ms or so), and
// every INVITE the admission refuses is still answered 503 by the reader.
// With nothing else to run the reader waits for the socket again.
func TestReaderPollsWhenBusy(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e := start(t, Config{Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	e.SetAdmission(func(string) bool { return false })
	tap := e.listeners[0].tap
	r := routeTo(t, e, TransportUDP, false)

	client, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	dst := &net.UDPAddr{IP: net.ParseIP(r.Address), Port: r.Port}
	invite := func(i int) {
		t.Helper()
		msg := strings.ReplaceAll(string(request(nil)), "c1@127.0.0.1", fmt.Sprintf("poll-%d@127.0.0.1", i))
		msg = strings.ReplaceAll(msg, "127.0.0.1:5099", client.LocalAddr().String())
		if _, err := client.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
		// A bound for a broken reader, not a measure of its speed.
		_ = client.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		n, _, err := client.ReadFrom(buf)
		if err != nil {
			t.Fatalf("INVITE %d: no answer: %v", i, err)
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 503 ") || !strings.Contains(string(buf[:n]), fmt.Sprintf("poll-%d@", i)) {
			t.Fatalf("INVITE %d answered\n%s", i, buf[:n])
		}
	}

	// Two goroutines hand the P to each other, each after 100 µs of work:
	// there is always one to run.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	ping, pong := make(chan struct{}), make(chan struct{})
	work := func(in <-chan struct{}, out chan<- struct{}) {
		defer wg.Done()
		for {
			select {
			case <-in:
			case <-stop:
				return
			}
			for start := time.Now(); time.Since(start) < 100*time.Microsecond; {
			}
			select {
			case out <- struct{}{}:
			case <-stop:
				return
			}
		}
	}
	wg.Add(2)
	go work(ping, pong)
	go work(pong, ping)
	ping <- struct{}{}

	const n = 20
	before := tap.polled.Load()
	for i := range n {
		invite(i)
	}
	close(stop)
	wg.Wait()
	// The first may have been read by the waiting reader, and a busy
	// machine can make a yield look like one on an idle P now and then;
	// most arrived while it polled.
	if got := tap.polled.Load() - before; got <= n/2 {
		t.Fatalf("%d of %d datagrams read by polling with the P busy, want most", got, n)
	}

	// Idle: one at a time, each answered before the next is sent, the
	// reader has nothing to share the P with and waits for the socket.
	before = tap.polled.Load()
	for i := range n {
		invite(n + i)
	}
	if got := tap.polled.Load() - before; got >= n/2 {
		t.Fatalf("%d of %d datagrams read by polling on an idle P, want most waited for", got, n)
	}
}
