package engine

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestAcceptedAbsorbsRetransmissions: once an INVITE has its 2xx, sipgo
// ends its transaction (ReleaseAcceptedInvites, as the host sets it and
// TestMain does), and a retransmission of the INVITE — same bytes — is
// absorbed by the engine: no handler sees it and nothing answers it
// (RFC 6026 §7.1). An INVITE of the same call with another branch (a
// merged request, or a new transaction) reaches the handler as before,
// and so does a new call.
func TestAcceptedAbsorbsRetransmissions(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) {
			e := start(t, Config{Listen: []Listen{{Transport: tr, Address: "127.0.0.1:0"}}})
			var seen atomic.Int32
			e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
				seen.Add(1)
				_ = e.Respond(tx, req, 200, "OK", nil)
			})
			p := newPeer(t, e, tr)
			invite := p.invite("acc1", nil)
			p.send(invite)
			if res := p.response(); res.StatusCode != 200 {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
			// The first ones may still meet sipgo's transaction, which
			// absorbs them too until it ends a moment after the 2xx (its
			// Timer L of 0 fires on a goroutine of its own): sent again
			// until the engine absorbed one. Then each is the engine's.
			deadline := time.Now().Add(testTimeout)
			for e.Stats().Absorbed == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no retransmission reached the engine's Accepted state")
				}
				p.send(invite)
				time.Sleep(5 * time.Millisecond)
			}
			n := e.Stats().Absorbed
			for i := range 2 {
				p.send(invite)
				waitFor(t, fmt.Sprintf("retransmission %d absorbed", i+1), func() bool { return e.Stats().Absorbed == n+uint64(i+1) })
			}
			// Another branch of the same call: a request of its own. Its
			// answer is the next message the peer reads: the
			// retransmissions were answered nothing.
			p.send(p.invite("acc1", func(lines []string) []string {
				lines[1] = strings.Replace(lines[1], "z9hG4bK-acc1", "z9hG4bK-acc1-other", 1)
				return lines
			}))
			res := p.response()
			if v := res.Via(); res.StatusCode != 200 || v == nil || !strings.Contains(v.Value(), "z9hG4bK-acc1-other") {
				t.Fatalf("next response %d with Via %v, want the 200 of the other branch", res.StatusCode, v)
			}
			p.send(p.invite("acc2", nil))
			if res := p.response(); res.StatusCode != 200 || res.CallID().Value() != "acc2" {
				t.Fatalf("a new call: got %d for %s", res.StatusCode, res.CallID().Value())
			}
			if n := seen.Load(); n != 3 {
				t.Errorf("the handler saw %d INVITEs, want 3", n)
			}
			if got := e.Stats().Absorbed; got != n+2 {
				t.Errorf("Stats().Absorbed = %d, want %d", got, n+2)
			}
		})
	}
}

// TestAcceptedReleasesTransaction: what a call answered 2xx leaves in
// sipgo is gone with the 2xx: its INVITE becomes garbage as soon as the
// handler and the caller let go (with sipgo's Timer L, 32 s later).
func TestAcceptedReleasesTransaction(t *testing.T) {
	e := start(t, Config{Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})
	collected := make(chan struct{})
	e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		runtime.AddCleanup(req, func(c chan struct{}) { close(c) }, collected)
		_ = e.Respond(tx, req, 200, "OK", nil)
	})
	p := newPeer(t, e, TransportUDP)
	p.send(p.invite("rel1", nil))
	if res := p.response(); res.StatusCode != 200 {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	deadline := time.After(testTimeout)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-deadline:
			t.Fatal("the INVITE answered 2xx is still reachable")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestAcceptedGenerations: a key lives between its life and 5/4 of it,
// generations go whole, the timer stops once nothing is held, and stop
// forgets everything.
func TestAcceptedGenerations(t *testing.T) {
	// The clock is read by the set's own timer too.
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	set := func(t time.Time) { clock.Store(t.UnixNano()) }
	a := newAccepted(4*time.Second, now)
	defer a.stop()
	req := func(callID, branch string) *sip.Request {
		r := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "127.0.0.1"})
		params := sip.NewParams()
		params.Add("branch", branch)
		r.AppendHeader(&sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5060, Params: params})
		cid := sip.CallIDHeader(callID)
		r.AppendHeader(&cid)
		r.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
		return r
	}
	first := req("c1", "z9hG4bK-1")
	a.add(first)
	if !a.has(first) || a.has(req("c1", "z9hG4bK-2")) || a.has(req("c2", "z9hG4bK-1")) {
		t.Fatal("a key matches another request, or not its own")
	}
	set(now().Add(999 * time.Millisecond))
	late := req("c3", "z9hG4bK-3")
	a.add(late) // the same generation as first, near its end
	for _, d := range []time.Duration{time.Second, 3 * time.Second} {
		set(now().Add(d - time.Millisecond))
		a.tick()
		if !a.has(first) || !a.has(late) {
			t.Fatalf("a key gone %v after its generation started", now().Sub(time.Unix(1000, 0)))
		}
	}
	// 4.997 s after first was added; its generation goes at 5 s, when
	// late has had its 4 s.
	set(time.Unix(1005, 0))
	a.tick()
	if a.has(first) || a.has(late) || a.len() != 0 {
		t.Fatalf("keys kept past 5/4 of their life: %d", a.len())
	}
	a.mu.Lock()
	armed := a.timer != nil
	a.mu.Unlock()
	if armed {
		t.Error("the timer is still armed with nothing held")
	}
	// A long pause drops everything at once.
	a.add(first)
	set(now().Add(time.Hour))
	if a.has(first) {
		t.Error("a key kept an hour")
	}
	a.add(first)
	a.stop()
	if a.has(first) || a.len() != 0 {
		t.Error("stop kept a key")
	}
	a.add(first)
	if a.len() != 0 {
		t.Error("add after stop kept a key")
	}
}

// waitFor polls cond until it holds, within testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
