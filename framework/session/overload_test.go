package session

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/sdk"
)

// TestOverloadLimit: the admission limit of the overload control, on a
// clock the test moves: admitted up to the limit and refused beyond;
// a slow setup cuts the limit by a tenth at most once per target
// interval; fast setups raise it by about one per limit's worth, only
// while a quarter of the limit or more is in setup; it stays
// within its bounds; done is counted once; a zero target admits all.
func TestOverloadLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	o := newOverload(20*time.Millisecond, 1000)
	o.clock = func() time.Time { return now }

	var held []*setup
	for range initialSetupLimit {
		s, ok := o.admit()
		if !ok {
			t.Fatalf("refused at %d in setup, limit %d", len(held), initialSetupLimit)
		}
		held = append(held, s)
	}
	if _, ok := o.admit(); ok {
		t.Fatal("admitted beyond the limit")
	}
	if st := o.stats(); st.Refused != 1 || st.Admitted != initialSetupLimit || st.InSetup != initialSetupLimit || st.Limit != initialSetupLimit {
		t.Fatalf("stats %+v", st)
	}

	// Slow setups: one cut per 20 ms, however many end in it.
	now = now.Add(30 * time.Millisecond)
	for _, s := range held[:10] {
		s.done(true)
		s.done(true) // once only
	}
	if st := o.stats(); st.Limit != 57 || st.InSetup != initialSetupLimit-10 {
		t.Fatalf("after 10 slow setups in one interval: %+v, want limit 57 (64·0.9)", st)
	}
	now = now.Add(20 * time.Millisecond)
	held[10].done(true)
	if st := o.stats(); st.Limit != 51 {
		t.Fatalf("after a slow setup one interval later: limit %d, want 51", st.Limit)
	}
	// A setup cut short is no sample.
	held[11].done(false)
	if st := o.stats(); st.Limit != 51 || st.InSetup != initialSetupLimit-12 {
		t.Fatalf("after a setup cut short: %+v", st)
	}

	// Fast setups: +1 per limit's worth, while the limit is in use.
	for _, s := range held[12:] {
		s.done(true) // took 0: within the target
	}
	base := o.stats().Limit
	for range 1000 {
		s, _ := o.admit() // alone in setup: the limit is not in use
		s.done(true)
	}
	if st := o.stats(); st.Limit != base || st.InSetup != 0 {
		t.Fatalf("after 1,000 fast setups one at a time: %+v, want the limit kept at %d", st, base)
	}
	for range 8 {
		atLimit(o)
	}
	// Each round: the setups admitted with a quarter of the limit or more
	// in setup, about three quarters of them, raise it by 1/limit each.
	if st := o.stats(); st.Limit < base+5 || st.Limit > base+7 || st.InSetup != 0 {
		t.Fatalf("after 8 rounds of fast setups up to the limit from %d: %+v, want a limit of %d–%d", base, st, base+5, base+7)
	}

	// The bounds: never below minSetupLimit, never above MaxSessions.
	for range 100 {
		now = now.Add(time.Second)
		s, _ := o.admit()
		now = now.Add(time.Second)
		s.done(true)
	}
	if st := o.stats(); st.Limit != minSetupLimit {
		t.Fatalf("after 100 slow intervals: limit %d, want %d", st.Limit, minSetupLimit)
	}
	small := newOverload(time.Millisecond, 40)
	small.clock = func() time.Time { return now } // every setup takes 0
	for range 1000 {
		atLimit(small)
	}
	if st := small.stats(); st.Limit != 40 {
		t.Fatalf("limit %d with MaxSessions 40", st.Limit)
	}

	// A setup that waited (SetupWait) is out of the count from then on,
	// and no sample when it ends.
	s, _ := o.admit()
	in := o.stats().InSetup
	ctx := withSetup(context.Background(), s)
	SetupWait(ctx)
	SetupWait(ctx) // counted out once
	if st := o.stats(); st.InSetup != in-1 {
		t.Fatalf("setup that waited still counted: %+v", st)
	}
	lim := o.stats().Limit
	now = now.Add(time.Hour)
	s.done(true)
	if st := o.stats(); st.Limit != lim || st.InSetup != in-1 {
		t.Fatalf("a setup that waited an hour: %+v, want the limit %d kept and it counted out once", st, lim)
	}
	SetupWait(context.Background()) // not a new session's: nothing
	if st := o.stats(); st.InSetup != in-1 || st.PeakInSetup != initialSetupLimit {
		t.Fatalf("%+v", st)
	}

	off := newOverload(-1, 1000)
	for range 10 * maxSetupLimit {
		if _, ok := off.admit(); !ok {
			t.Fatal("no target, yet refused")
		}
	}
	var nilSetup *setup
	nilSetup.done(true)
}

// atLimit admits setups until o refuses one, then ends them all, each
// within the target on o's clock.
func atLimit(o *overload) {
	var batch []*setup
	for {
		s, ok := o.admit()
		if !ok {
			break
		}
		batch = append(batch, s)
	}
	for _, s := range batch {
		s.done(true)
	}
}

// gatedSource holds every NewFromSDP until open is closed: setups that do
// not finish, which the real plugins cannot be made to produce on demand.
type gatedSource struct {
	StreamSource
	open    chan struct{}
	entered atomic.Int64
	busy    bool // refuse with sdk.ErrBusy instead
	// park: the wait is for something that is not the host's work, as
	// the registry's for a restarting plugin (SetupWait).
	park bool
}

func (g *gatedSource) NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
	if g.busy {
		return nil, sdk.Errorf(sdk.ErrBusy, "too many streams")
	}
	if g.park {
		SetupWait(ctx)
	}
	g.entered.Add(1)
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.StreamSource.NewFromSDP(ctx, req)
}

// TestOverloadRefusesAtOnce: with the INVITEs being set up at the limit,
// a new INVITE is answered 503 with Retry-After at once by the engine,
// without a transaction or a session (its retransmission too), while the
// calls in setup go on; once they are set up, a new call is taken.
func TestOverloadRefusesAtOnce(t *testing.T) {
	a := newHost(t, "alice")
	gate := &gatedSource{open: make(chan struct{})}
	b := newHostOn(t, "bob", udp4, func(c *Config) {
		gate.StreamSource = c.Streams
		c.Streams = gate
		c.MaxSetupDelay = time.Second // no sample ends before the gate opens
	})
	autoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	type answer struct {
		inv *sip.Request
		res *sip.Response
		err error
	}
	answers := make(chan answer, initialSetupLimit)
	var wg sync.WaitGroup
	var callIDs []string
	for range initialSetupLimit {
		inv := rawInvite(a, b, 1)
		callIDs = append(callIDs, inv.CallID().Value())
		wg.Go(func() {
			res, err := finalResponse(ctx, a.eng, inv, b.route())
			answers <- answer{inv, res, err}
		})
	}
	// Wait for the event: every one of them in setup.
	for gate.entered.Load() < initialSetupLimit {
		select {
		case <-ctx.Done():
			t.Fatalf("%d INVITEs reached the streams", gate.entered.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if st := b.mgr.OverloadStats(); st.InSetup != initialSetupLimit || st.Limit != initialSetupLimit {
		t.Fatalf("stats with the setups held: %+v", st)
	}
	// The engine took each as pending and the manager claimed each by
	// the same Call-ID.
	if n := b.mgr.overload.pend.n.Load(); n != 0 {
		t.Errorf("%d INVITEs still pending with all of them in setup", n)
	}
	sessions := len(b.mgr.Sessions())
	for range 2 {
		inviteRefused503(t, ctx, a, b, "INVITE over the limit")
	}
	if n := len(b.mgr.Sessions()); n != sessions {
		t.Errorf("the refused INVITEs made sessions: %d, before %d", n, sessions)
	}
	if st := b.eng.Stats(); st.Overloaded != 2 {
		t.Errorf("engine refused %d INVITEs statelessly, want 2", st.Overloaded)
	}
	if st := b.mgr.OverloadStats(); st.Refused != 2 || st.Busy != 0 {
		t.Errorf("overload stats %+v, want 2 refused, none for a busy plugin", st)
	}
	// The caller's transactions ACK the 503s; the engine drops those ACKs
	// as it reads them.
	for b.eng.Stats().Dropped < 2 {
		select {
		case <-ctx.Done():
			t.Fatalf("the ACKs of the 503s were not dropped by the engine: %+v", b.eng.Stats())
		case <-time.After(5 * time.Millisecond):
		}
	}
	// A retransmission of an INVITE in setup goes on to its transaction.
	if !b.mgr.admissible(callIDs[0]) {
		t.Error("a retransmitted INVITE of a call in setup was refused")
	}
	if b.mgr.admissible(rawInvite(a, b, 1).CallID().Value()) {
		t.Error("a new INVITE over the limit was admissible")
	}

	close(gate.open)
	wg.Wait()
	close(answers)
	for an := range answers {
		if an.err != nil || an.res.StatusCode != 200 {
			t.Fatalf("a call in setup: %v %v", an.res, an.err)
		}
		if err := a.eng.Write(ackOf(an.inv, an.res), b.route()); err != nil {
			t.Fatal(err)
		}
	}
	inv := rawInvite(a, b, 1)
	res, err := finalResponse(ctx, a.eng, inv, b.route())
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("a call after the load: %v %v", res, err)
	}
	if err := a.eng.Write(ackOf(inv, res), b.route()); err != nil {
		t.Fatal(err)
	}
}

// TestSetupWaitNotCounted: setups waiting for a plugin's restart are not
// the host's queueing: they do not count against the limit, so INVITEs
// past it are still taken, and all are answered once the plugin is back.
func TestSetupWaitNotCounted(t *testing.T) {
	a := newHost(t, "alice")
	gate := &gatedSource{open: make(chan struct{}), park: true}
	b := newHostOn(t, "bob", udp4, func(c *Config) {
		gate.StreamSource = c.Streams
		c.Streams = gate
	})
	autoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const calls = initialSetupLimit + 8
	type answer struct {
		inv *sip.Request
		res *sip.Response
		err error
	}
	answers := make(chan answer, calls)
	var wg sync.WaitGroup
	// In two waves, each under the limit, the second sent once the first
	// waits: an INVITE counts from its admission until its NewFromSDP
	// says it waits, and a busy machine may admit a whole wave before
	// the first of it gets there. Together the waves pass the limit.
	const first = initialSetupLimit / 2
	sent := 0
	for _, wave := range []int{first, calls} {
		for ; sent < wave; sent++ {
			inv := rawInvite(a, b, 1)
			wg.Go(func() {
				res, err := finalResponse(ctx, a.eng, inv, b.route())
				answers <- answer{inv, res, err}
			})
		}
		for gate.entered.Load() < int64(wave) {
			select {
			case <-ctx.Done():
				t.Fatalf("%d of %d INVITEs reached the streams (%+v)", gate.entered.Load(), wave, b.mgr.OverloadStats())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	if st := b.mgr.OverloadStats(); st.InSetup != 0 || st.Refused != 0 || st.Admitted != calls {
		t.Fatalf("stats with the setups waiting: %+v, want none in setup, none refused", st)
	}
	close(gate.open)
	wg.Wait()
	close(answers)
	for an := range answers {
		if an.err != nil || an.res.StatusCode != 200 {
			t.Fatalf("a call that waited: %v %v", an.res, an.err)
		}
		if err := a.eng.Write(ackOf(an.inv, an.res), b.route()); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.mgr.OverloadStats(); st.InSetup != 0 || st.Limit < initialSetupLimit {
		t.Errorf("after the wait: %+v; a setup that waited is no sample, the limit must not fall", st)
	}
}

// TestBusyStreamRefused: an INVITE whose only stream is refused because
// its plugin is at a resource limit (sdk.ErrBusy) is answered 503 with
// Retry-After, not 488: the offer is fine, the host is full.
func TestBusyStreamRefused(t *testing.T) {
	a := newHost(t, "alice")
	b := newHostOn(t, "bob", udp4, func(c *Config) {
		c.Streams = &gatedSource{StreamSource: c.Streams, busy: true}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inviteRefused503(t, ctx, a, b, "busy stream")
	// The setup ends as the session's dispatch returns, just after the
	// 503 went out: wait for it.
	for b.mgr.OverloadStats().InSetup != 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("the refused setup still counts: %+v", b.mgr.OverloadStats())
		case <-time.After(time.Millisecond):
		}
	}
	if st := b.mgr.OverloadStats(); st.Refused != 1 || st.Busy != 1 {
		t.Errorf("overload stats %+v, want one refused, for a busy plugin", st)
	}
}

// TestOverloadPending: the INVITEs the engine takes as it reads them
// count against the limit until the manager sees them (claim), so that a
// batch read together is not taken over the limit; a retransmission of a
// pending one is taken again without counting twice; one the manager
// never sees stops counting after pendingTargets targets.
func TestOverloadPending(t *testing.T) {
	now := time.Unix(1000, 0)
	o := newOverload(20*time.Millisecond, 1000)
	o.clock = func() time.Time { return now }
	id := func(i int) string { return fmt.Sprintf("call-%d", i) }
	// take is the engine's part: the admission as it reads the INVITE,
	// then, the INVITE well formed, the hold.
	take := func(o *overload, callID string) bool {
		if !o.admissible(callID) {
			return false
		}
		o.hold(callID)
		return true
	}

	for i := range initialSetupLimit {
		if !take(o, id(i)) {
			t.Fatalf("INVITE %d refused with %d pending, limit %d", i, i, initialSetupLimit)
		}
	}
	if take(o, id(initialSetupLimit)) {
		t.Fatal("took an INVITE over the limit with the others pending")
	}
	if !take(o, id(3)) {
		t.Fatal("refused the retransmission of a pending INVITE")
	}
	if st := o.stats(); st.InSetup != 0 || o.pend.n.Load() != initialSetupLimit {
		t.Fatalf("%+v, %d pending; want 0 in setup and %d pending", st, o.pend.n.Load(), initialSetupLimit)
	}

	// The manager sees one: it moves from pending to setup.
	o.claim(id(0))
	o.claim("never-taken") // nothing
	su, ok := o.admit()
	if !ok {
		t.Fatal("the manager refused an INVITE the engine took")
	}
	if take(o, id(initialSetupLimit)) || o.pend.n.Load() != initialSetupLimit-1 {
		t.Fatalf("after a claim and its setup: %d pending, and a new INVITE was taken", o.pend.n.Load())
	}
	su.done(true)
	if !take(o, id(initialSetupLimit)) {
		t.Fatal("refused once a setup ended")
	}

	// Those the manager never sees expire.
	now = now.Add(o.pendTTL)
	if !take(o, id(initialSetupLimit+1)) {
		t.Fatalf("refused after %v with nothing claimed", o.pendTTL)
	}
	if n := o.pend.n.Load(); n != 1 {
		t.Fatalf("%d pending after the expiry, want the new one", n)
	}

	off := newOverload(-1, 1000)
	for i := range 10 * initialSetupLimit {
		if !take(off, id(i)) {
			t.Fatal("no target, yet refused")
		}
	}
}

// TestPendingMangledInvites: INVITEs a peer mangled as the attack soak
// does (bytes flipped after the Via line) that still pass the engine's
// checks are each claimed by the manager, whatever it answers them: none
// stays pending to hold a place of the setup limit. The target is long,
// so that nothing expires during the test. The INVITEs go in batches,
// each followed by an OPTIONS from the same socket whose answer tells
// that the engine has read the batch (so that the socket's buffer never
// overflows, however slow the host).
func TestPendingMangledInvites(t *testing.T) {
	b := newHostOn(t, "bob", udp4, func(c *Config) { c.MaxSetupDelay = time.Minute })
	autoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := &net.UDPAddr{IP: b.eng.Addrs()[0].IP, Port: b.eng.Addrs()[0].Port}
	local, to := c.LocalAddr().String(), dst.String()
	request := func(method, id, body string) []byte {
		head := method + " sip:bob@" + to + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + id + ";rport\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:mallory@" + local + ">;tag=" + id + "\r\nTo: <sip:bob@" + to + ">\r\nCall-ID: " + id + "\r\n" +
			"CSeq: 1 " + method + "\r\nContact: <sip:mallory@" + local + ">\r\n"
		if body == "" {
			return []byte(head + "Content-Length: 0\r\n\r\n")
		}
		return []byte(head + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"

	// The answers to the probes, by Call-ID.
	var mu sync.Mutex
	answered := map[string]chan struct{}{}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			m := buf[:n]
			if bytes.HasPrefix(m, []byte("SIP/2.0 1")) {
				continue
			}
			mu.Lock()
			for id, ch := range answered {
				if bytes.Contains(m, []byte("Call-ID: "+id+"\r\n")) {
					close(ch)
					delete(answered, id)
				}
			}
			mu.Unlock()
		}
	}()
	// probe sends an OPTIONS, again every half second as a UAC does, until
	// its final answer comes.
	probe := func(id string) {
		t.Helper()
		done := make(chan struct{})
		mu.Lock()
		answered[id] = done
		mu.Unlock()
		msg := request("OPTIONS", id, "")
		for {
			if _, err := c.WriteTo(msg, dst); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				t.Fatalf("no final answer to OPTIONS %s", id)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}

	rng := rand.New(rand.NewPCG(15, 1))
	const n, batch = 3000, 50
	for i := range n {
		msg := request("INVITE", fmt.Sprintf("mangled-%d", i), sdp)
		from := bytes.Index(msg, []byte("Max-Forwards"))
		for range 1 + rng.IntN(4) {
			msg[from+rng.IntN(len(msg)-from)] = byte(rng.Uint32())
		}
		if _, err := c.WriteTo(msg, dst); err != nil {
			t.Fatal(err)
		}
		if i%batch == batch-1 {
			probe(fmt.Sprintf("probe-%d", i/batch))
		}
	}
	o := b.mgr.overload
	if held := o.pend.held.Load(); held < n/100 {
		t.Fatalf("only %d of %d mangled INVITEs were taken as pending: the test does not exercise the claim", held, n)
	}
	// Wait for the event: the handlers of the INVITEs read last claim them.
	for o.pend.n.Load() != 0 {
		select {
		case <-ctx.Done():
			o.pend.Lock()
			left := slices.Collect(maps.Keys(o.pend.at))
			o.pend.Unlock()
			t.Fatalf("%d of %d INVITEs taken are still pending, never claimed: %q", len(left), o.pend.held.Load(), left)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Logf("%d of %d mangled INVITEs passed the engine's checks and were claimed", o.pend.held.Load(), n)
}
