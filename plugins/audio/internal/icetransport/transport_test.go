package icetransport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v2"
	"go.uber.org/goleak"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func loopbackConfig(controlling, mux bool) Config {
	return Config{
		Controlling:     controlling,
		RTCPMux:         mux,
		IncludeLoopback: true,
		InterfaceFilter: func(name string) bool { return name == "lo" },
	}
}

// negotiate gathers on two transports, swaps their attributes as an SDP
// offer/answer would, and connects both.
func negotiate(t *testing.T, offerer, answerer *Transport) (a, b [2]net.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tr := range []*Transport{offerer, answerer} {
		if err := tr.Gather(ctx); err != nil {
			t.Fatal(err)
		}
		if len(tr.Candidates()) < tr.Components() {
			t.Fatalf("gathered %v", tr.Candidates())
		}
	}
	remoteOfA, err := ParseAttributes(offerer.Attributes())
	if err != nil {
		t.Fatal(err)
	}
	remoteOfB, err := ParseAttributes(answerer.Attributes())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var errA, errB error
	wg.Add(2)
	go func() { defer wg.Done(); a[0], a[1], errA = offerer.Connect(ctx, remoteOfB) }()
	go func() { defer wg.Done(); b[0], b[1], errB = answerer.Connect(ctx, remoteOfA) }()
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("connect: %v / %v", errA, errB)
	}
	return a, b
}

func TestConnectCarriesRTP(t *testing.T) {
	for _, mux := range []bool{false, true} {
		name := map[bool]string{false: "two components", true: "rtcp-mux"}[mux]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			states := map[ice.ConnectionState]bool{}
			cfgA := loopbackConfig(true, mux)
			cfgA.OnStateChange = func(_ int, s ice.ConnectionState) {
				mu.Lock()
				states[s] = true
				mu.Unlock()
			}
			ta, err := New(cfgA)
			if err != nil {
				t.Fatal(err)
			}
			defer ta.Close()
			tb, err := New(loopbackConfig(false, mux))
			if err != nil {
				t.Fatal(err)
			}
			defer tb.Close()
			ca, cb := negotiate(t, ta, tb)

			for comp := 1; comp <= ta.Components(); comp++ {
				if addr, ok := ta.DefaultAddress(comp); !ok || !addr.IP.IsLoopback() || addr.Port == 0 {
					t.Errorf("default address of component %d: %v", comp, addr)
				}
			}
			if _, ok := ta.DefaultAddress(3); ok {
				t.Error("default address for a component that does not exist")
			}
			sel := ta.Selected()
			if len(sel) != ta.Components() {
				t.Fatalf("selected %v", sel)
			}
			for _, p := range sel {
				// The peer's checks may come before its candidates are
				// added (both sides connect at once): then the remote
				// is learnt from them, peer-reflexive (RFC 8445 7.3.1.3).
				if p.LocalType != "host" || (p.RemoteType != "host" && p.RemoteType != "prflx") || !p.Remote.IP.IsLoopback() {
					t.Errorf("pair %v", p)
				}
			}
			// State callbacks run on pion's goroutines and may trail Connect.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				mu.Lock()
				ok := states[ice.ConnectionStateChecking] && states[ice.ConnectionStateConnected]
				seen := fmt.Sprint(states)
				mu.Unlock()
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("state changes seen: %s", seen)
				}
			}

			gotA, gotB := make(chan rtpsession.Packet, 16), make(chan rtpsession.Packet, 16)
			session := func(c [2]net.Conn, got chan rtpsession.Packet) *rtpsession.Session {
				cfg := rtpsession.Config{
					RTP:          rtpsession.ConnTransport(c[0]),
					RTCPMux:      mux,
					RTCPInterval: 10 * time.Millisecond,
					OnPacket: func(p rtpsession.Packet) {
						p.Payload = slices.Clone(p.Payload) // valid during the call only
						got <- p
					},
				}
				if !mux {
					cfg.RTCP = rtpsession.ConnTransport(c[1])
				}
				s, err := rtpsession.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				return s
			}
			sa, sb := session(ca, gotA), session(cb, gotB)
			defer sa.Close()
			defer sb.Close()
			if err := sa.Send(0, []byte("offerer"), false, 160); err != nil {
				t.Fatal(err)
			}
			if err := sb.Send(0, []byte("answerer"), false, 160); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				ch   chan rtpsession.Packet
				want string
			}{{gotB, "offerer"}, {gotA, "answerer"}} {
				select {
				case p := <-tc.ch:
					if string(p.Payload) != tc.want {
						t.Fatalf("got %q, want %q", p.Payload, tc.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("no RTP %q over ICE", tc.want)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for sa.Stats().RTCPReceived == 0 || sb.Stats().RTCPReceived == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no RTCP over ICE")
				}
				time.Sleep(time.Millisecond)
			}
			// Close silences OnStateChange: not even the Closed state
			// it brings is reported (a stream posts nothing after it
			// ended).
			_ = ta.Close()
			_ = tb.Close()
			mu.Lock()
			defer mu.Unlock()
			if states[ice.ConnectionStateClosed] {
				t.Error("OnStateChange called after Close began")
			}
		})
	}
}

func TestConnectErrors(t *testing.T) {
	tr, err := New(loopbackConfig(true, true))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	if _, _, err := tr.Connect(ctx, Remote{}); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := tr.Connect(ctx, Remote{Ufrag: "abcd", Pwd: "abcdefghijklmnopqrstuv"}); !errors.Is(err, ErrNoCandidates) {
		t.Fatalf("err = %v", err)
	}
	// A candidate nobody answers on: the checks run until ctx ends.
	c, _ := ParseCandidate("1 1 UDP 2130706431 127.0.0.1 9 typ host")
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, _, err := tr.Connect(ctx, Remote{Ufrag: "abcd", Pwd: "abcdefghijklmnopqrstuv", Candidates: []Candidate{c}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestBadSTUNServer(t *testing.T) {
	if _, err := New(Config{STUNServers: []string{"http://example.com"}}); err == nil {
		t.Fatal("accepted a non-STUN URI")
	}
}
