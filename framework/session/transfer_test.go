package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

// placeTransferCall places the call of a transfer h accepted, as the
// application does: streams from h's registry, the route from the target
// URI (UDP).
func placeTransferCall(ctx context.Context, h *host, tc TransferCall) (*Session, error) {
	var streams []Stream
	for _, typ := range tc.Types {
		st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: typ})
		if err != nil {
			return nil, err
		}
		streams = append(streams, st)
	}
	s := h.mgr.NewSessionAs(tc.Account)
	tc.Watch(s)
	route := engine.Route{Address: tc.Target.Host, Port: tc.Target.Port, Transport: engine.TransportUDP}
	return s, s.Connect(ctx, tc.Target, []engine.Route{route}, streams, "", tc.Options...)
}

// transferHosts are a (transferor), b (transferee, accepting transfers)
// and c (the target, answering), with a call from a to b.
func transferHosts(t *testing.T) (a, b, c *host, ab, ba *Session, recA, recB, recC *notify.Recorder) {
	t.Helper()
	a = newHost(t, "alice")
	// b places its transferred calls with its own registry and manager,
	// which exist once newHostOn returned.
	var bh *host
	b = newHostOn(t, "bob", udp4, func(cfg *Config) {
		cfg.Transfer = func(ctx context.Context, tc TransferCall) (*Session, error) { return placeTransferCall(ctx, bh, tc) }
	})
	bh = b
	c = newHost(t, "carol")
	recA, recB, recC = sessionRecorder(t, a), sessionRecorder(t, b), sessionRecorder(t, c)
	autoAnswer(t, c)
	got := make(chan *Session, 1)
	ab = call(t, a, b, func(s *Session, streams []Stream) {
		if err := s.Accept(streams); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- s
	})
	ba = <-got
	waitFor(t, recA, SIPSessionDidStart)
	waitFor(t, recB, SIPSessionDidStart)
	return
}

// namesOf returns the notification names of sender in rec.
func namesOf(rec *notify.Recorder, sender any) []string {
	var out []string
	for _, n := range rec.All() {
		if n.Sender == sender {
			out = append(out, n.Name)
		}
	}
	return out
}

func waitSenderName(t *testing.T, rec *notify.Recorder, sender any, name string) notify.Notification {
	t.Helper()
	var got notify.Notification
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rec.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Sender == sender && n.Name == name {
				got = n
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("waiting for %s of %v: %v\n%v", name, sender, err, rec.Names())
	}
	return got
}

// TestBlindTransfer: alice transfers bob to carol (REFER); bob accepts,
// calls carol with Referred-By, reports the progress by NOTIFY, and once
// carol answered the call between alice and bob ends.
func TestBlindTransfer(t *testing.T) {
	_, b, c, ab, ba, recA, recB, recC := transferHosts(t)
	accepted := make(chan error, 1)
	defer b.center.Subscribe(notify.ObserverFunc(func(notify.Notification) {
		go func() { accepted <- ba.AcceptTransfer() }()
	}), SIPSessionTransferNewIncoming, ba)()
	if err := ab.Transfer(c.uri(), nil); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("AcceptTransfer: %v", err)
	}
	in := waitSenderName(t, recB, ba, SIPSessionTransferNewIncoming).Data.(TransferNewIncomingData)
	if want := c.uri(); in.TransferDestination != want.String() {
		t.Errorf("transfer destination %q, want %q", in.TransferDestination, want.String())
	}
	waitSenderName(t, recA, ab, SIPSessionTransferDidEnd)
	waitSenderName(t, recB, ba, SIPSessionTransferDidEnd)
	// Carol got bob's call with Referred-By naming alice, and it started.
	ni := waitFor(t, recC, SIPSessionNewIncoming)
	cs := ni.Sender.(*Session)
	rb := ni.Data.(NewIncomingData).Headers["Referred-By"]
	if len(rb) != 1 || !strings.Contains(rb[0], "alice") {
		t.Errorf("Referred-By %v, want alice's", rb)
	}
	waitSenderName(t, recC, cs, SIPSessionDidStart)
	// The transferred session ended on both sides.
	waitSenderName(t, recA, ab, SIPSessionDidEnd)
	waitSenderName(t, recB, ba, SIPSessionDidEnd)
	// Alice saw the progress of bob's call, ending with carol's 200.
	var codes []int
	for _, n := range recA.All() {
		if n.Sender == ab && n.Name == SIPSessionTransferGotProgress {
			codes = append(codes, n.Data.(TransferProgressData).Code)
		}
	}
	if len(codes) == 0 || codes[len(codes)-1] != 200 {
		t.Errorf("progress codes %v, want ... 200", codes)
	}
	wantA := []string{SIPSessionTransferNewOutgoing, SIPSessionTransferDidStart}
	if got := namesOf(recA, ab); !containsInOrder(got, wantA...) {
		t.Errorf("alice: %v", got)
	}
	// Bob's new session knows it came from a transfer.
	var newB *Session
	for _, n := range recB.All() {
		if n.Name == SIPSessionNewOutgoing {
			newB = n.Sender.(*Session)
		}
	}
	if newB == nil || newB.TransferInfo() == nil || !strings.Contains(newB.TransferInfo().ReferredBy, "alice") {
		t.Errorf("bob's new session's transfer info: %+v", newB)
	}
}

// containsInOrder tells whether want appear in got in this order.
func containsInOrder(got []string, want ...string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// dial calls to (which answers by itself) from from with one echo stream.
func dial(t *testing.T, from, to *host) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := from.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	s := from.mgr.NewSession()
	if err := s.Connect(ctx, to.uri(), []engine.Route{to.route()}, []Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttendedTransfer: alice, in calls with bob and with carol,
// transfers bob to carol replacing her call with carol (Refer-To with
// Replaces). Bob's INVITE to carol replaces alice's dialog: carol's new
// session names it, and once it started carol ends her call with alice;
// alice's call with bob ends too.
func TestAttendedTransfer(t *testing.T) {
	a, b, c, ab, ba, recA, recB, recC := transferHosts(t)
	ac := dial(t, a, c)
	waitSenderName(t, recA, ac, SIPSessionDidStart)
	var ca *Session
	for _, s := range c.mgr.Sessions() {
		ca = s
	}
	accepted := make(chan error, 1)
	defer b.center.Subscribe(notify.ObserverFunc(func(notify.Notification) {
		go func() { accepted <- ba.AcceptTransfer() }()
	}), SIPSessionTransferNewIncoming, ba)()
	if err := ab.Transfer(c.uri(), ac); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("AcceptTransfer: %v", err)
	}
	// Carol's new session (from bob) replaces her dialog with alice.
	var cb *Session
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := recC.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == SIPSessionNewIncomingFromTransfer {
				cb = n.Sender.(*Session)
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("carol never got the replacing call: %v\n%v", err, recC.Names())
	}
	if cb.ReplacedSession() != ca {
		t.Errorf("the new session replaces %v, want carol's call with alice", cb.ReplacedSession())
	}
	if d := waitSenderName(t, recC, cb, SIPSessionNewIncoming).Data.(NewIncomingData).ReplacedDialog; d == nil || *d != ca.DialogID() {
		t.Errorf("NewIncoming's replaced dialog %+v, want %+v", d, ca.DialogID())
	}
	waitSenderName(t, recC, cb, SIPSessionDidStart)
	// Carol ends her call with alice; alice's transfer succeeded and her
	// call with bob ended.
	waitSenderName(t, recC, ca, SIPSessionDidEnd)
	if d := waitSenderName(t, recA, ac, SIPSessionDidEnd).Data.(DidEndData); d.Originator != Remote {
		t.Errorf("alice's call with carol ended %+v, want by carol", d)
	}
	waitSenderName(t, recA, ab, SIPSessionTransferDidEnd)
	waitSenderName(t, recA, ab, SIPSessionDidEnd)
	waitSenderName(t, recB, ba, SIPSessionDidEnd)
	if st := cb.State(); st != StateConnected {
		t.Errorf("bob and carol's call is %v, want connected", st)
	}
}

// TestTransferRejected: bob refuses the transfer with 603: alice's
// transfer fails with the code, and the call between them goes on.
func TestTransferRejected(t *testing.T) {
	_, b, c, ab, ba, recA, recB, _ := transferHosts(t)
	defer b.center.Subscribe(notify.ObserverFunc(func(notify.Notification) {
		go func() {
			if err := ba.RejectTransfer(0, ""); err != nil {
				t.Errorf("RejectTransfer: %v", err)
			}
		}()
	}), SIPSessionTransferNewIncoming, ba)()
	if err := ab.Transfer(c.uri(), nil); err != nil {
		t.Fatal(err)
	}
	fail := waitSenderName(t, recA, ab, SIPSessionTransferDidFail).Data.(TransferProgressData)
	if fail.Code != 603 {
		t.Errorf("alice's transfer failed with %+v, want 603", fail)
	}
	if d := waitSenderName(t, recB, ba, SIPSessionTransferDidFail).Data.(TransferProgressData); d.Code != 603 {
		t.Errorf("bob's transfer failed with %+v, want 603", d)
	}
	if ab.State() != StateConnected || ba.State() != StateConnected {
		t.Errorf("states after a refused transfer: %v, %v", ab.State(), ba.State())
	}
	// Another transfer can be made afterwards.
	if dir, st := ab.TransferState(); dir != Outgoing || st != TransferFailed {
		t.Errorf("alice's transfer state %v %v", dir, st)
	}
}

// TestTransferToUnreachable: bob accepts a transfer to an address where
// nothing answers; the new call fails and the failure reaches alice,
// whose call with bob goes on.
func TestTransferToUnreachable(t *testing.T) {
	_, b, _, ab, ba, recA, _, _ := transferHosts(t)
	defer b.center.Subscribe(notify.ObserverFunc(func(notify.Notification) {
		go func() { _ = ba.AcceptTransfer() }()
	}), SIPSessionTransferNewIncoming, ba)()
	// A host that refuses every call: 404 for a user it does not serve.
	d := newHostOn(t, "dave", udp4, func(c *Config) { c.AccountFor = func(sip.Uri) *Account { return nil } })
	if err := ab.Transfer(d.uri(), nil); err != nil {
		t.Fatal(err)
	}
	fail := waitSenderName(t, recA, ab, SIPSessionTransferDidFail).Data.(TransferProgressData)
	if fail.Code != 404 {
		t.Errorf("alice's transfer failed with %+v, want the target's 404", fail)
	}
	if ab.State() != StateConnected {
		t.Errorf("alice's call is %v after the failed transfer", ab.State())
	}
}

// TestTransferFailsAtOnceInOrder: bob accepts transfers whose call cannot
// even be placed (the application finds no route to the target: the
// error matches engine.ErrNoRoute), so his NOTIFY 100 and the final one
// follow each other at once. Alice must read them in order — 100, then
// 480, the reference's answer to a target without a route (§2.8) — each
// time: the NOTIFYs of a transfer go one after the other, not side by
// side. The call goes on after each failure.
func TestTransferFailsAtOnceInOrder(t *testing.T) {
	a := newHost(t, "alice")
	b := newHostOn(t, "bob", udp4, func(cfg *Config) {
		cfg.Transfer = func(ctx context.Context, tc TransferCall) (*Session, error) {
			return nil, &engine.NoRouteError{Target: tc.Target.String(), Reason: "no listener for the address family"}
		}
	})
	recA := sessionRecorder(t, a)
	got := make(chan *Session, 1)
	ab := call(t, a, b, func(s *Session, streams []Stream) {
		if err := s.Accept(streams); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- s
	})
	ba := <-got
	waitSenderName(t, recA, ab, SIPSessionDidStart)
	defer b.center.Subscribe(notify.ObserverFunc(func(notify.Notification) {
		go func() {
			if err := ba.AcceptTransfer(); err != nil {
				t.Errorf("AcceptTransfer: %v", err)
			}
		}()
	}), SIPSessionTransferNewIncoming, ba)()
	const rounds = 10
	for i := range rounds {
		from := recA.Len()
		if err := ab.Transfer(c4(t, "carol"), nil); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := recA.Wait(ctx, func(ns []notify.Notification) bool {
			return slices.ContainsFunc(ns[from:], func(n notify.Notification) bool {
				return n.Sender == ab && n.Name == SIPSessionTransferDidFail
			})
		})
		cancel()
		if err != nil {
			t.Fatalf("round %d: no SIPSessionTransferDidFail: %v", i, err)
		}
		var codes []int
		var fail TransferProgressData
		for _, n := range recA.All()[from:] {
			switch {
			case n.Sender != ab:
			case n.Name == SIPSessionTransferGotProgress:
				codes = append(codes, n.Data.(TransferProgressData).Code)
			case n.Name == SIPSessionTransferDidFail:
				fail = n.Data.(TransferProgressData)
			}
		}
		if fmt.Sprint(codes) != "[100 480]" || fail.Code != 480 {
			t.Fatalf("round %d: progress %v, failure %+v; want [100 480] and 480", i, codes, fail)
		}
		if ab.State() != StateConnected {
			t.Fatalf("round %d: alice's call is %v after the failed transfer", i, ab.State())
		}
	}
}

// c4 is a SIP URI of user on IPv4 loopback port 9 (nothing is sent
// there).
func c4(t *testing.T, user string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri("sip:"+user+"@127.0.0.1:9", &u); err != nil {
		t.Fatal(err)
	}
	return u
}
