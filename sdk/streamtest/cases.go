package streamtest

import (
	"errors"
	"slices"

	"github.com/sipstreams/sipstreams/sdk"
)

// pair is a call between two streams of the plugin: A made with Create
// offers, B made with NewFromSDP on A's offer answers.
type pair struct {
	a, b *stream
	// sessA and sessB are the sessions A and B belong to.
	sessA, sessB *sdk.SessionInfo
	// as and bs build the session descriptions of A's and B's ends.
	as, bs *side
	// aMedia and bMedia are A's and B's last negotiated media sections.
	aMedia, bMedia string
	// offer and answer are the first offer and answer.
	offer, answer string
}

// negotiate makes A and B, initializes both and exchanges offer and answer;
// it does not start them.
func (ts *typeSuite) negotiate(t tb) *pair {
	t.Helper()
	p := &pair{
		sessA: ts.sessionInfo(sdk.DirectionOutgoing),
		sessB: ts.sessionInfo(sdk.DirectionIncoming),
		as:    ts.newSide(),
		bs:    ts.newSide(),
	}
	p.a = ts.create(t, "A")
	p.a.initialize(t, p.sessA)
	p.aMedia = p.a.offer(t)
	p.offer = p.as.session(p.aMedia)
	p.b = ts.newFromSDP(t, "B", p.offer, 0)
	p.b.initialize(t, p.sessB)
	p.bMedia = p.b.answer(t, p.offer, 0)
	p.answer = p.bs.session(p.bMedia)
	return p
}

// startPair negotiates A and B and starts both. B starts first, as the
// answerer does when it sends its 200 OK; neither Start waits for the other,
// since one side's start may depend on the other's (an MSRP passive side
// waits for the active side to connect).
func (ts *typeSuite) startPair(t tb) *pair {
	t.Helper()
	p := ts.negotiate(t)
	p.b.start(t, p.answer, p.offer, 0)
	p.a.start(t, p.offer, p.answer, 0)
	p.b.waitStarted(t)
	p.a.waitStarted(t)
	return p
}

// lifecycle: the whole life of a call, from Create to End, with the exact
// generic notifications on both sides.
func (ts *typeSuite) lifecycle(t runner) {
	p := ts.startPair(t)
	for _, x := range []*stream{p.a, p.b} {
		if a := x.attributes(t); a.OnHold() {
			t.Errorf("%s: a fresh call is on hold: on_hold_by_local=%v on_hold_by_remote=%v", x.label, a.OnHoldByLocal, a.OnHoldByRemote)
		}
	}
	// Both are deactivated before either ends, as a session does: the end
	// of one side's transport is then normal, not a failure, for the other.
	ts.endAll(t, full, p.a, p.b)
}

// tri is an expected hold flag.
type tri int

const (
	no tri = iota
	yes
	either
)

func (w tri) ok(v bool) bool { return w == either || (w == yes) == v }

func (w tri) String() string {
	return [...]string{"false", "true", "either"}[w]
}

// holdFlags are the expected hold flags of one stream.
type holdFlags struct{ local, remote tri }

// holdSteps is the hold matrix of reference §3.5. The side that holds or
// unholds sends the re-offer; the offer direction follows from its last
// negotiated direction and its hold request, the answer direction from the
// answerer's last direction intersected with the offer.
var holdSteps = []struct {
	name      string
	actorIsA  bool // A holds/unholds and offers; else B
	hold      bool // Hold, else Unhold
	offerDir  string
	answerDir string
	a, b      holdFlags
}{
	{"A holds", true, true, "sendonly", "recvonly", holdFlags{yes, no}, holdFlags{no, yes}},
	// Negotiating inactive keeps on_hold_by_local as it was (§3.5), so B,
	// held by A before it asked for hold itself, may keep false as the
	// reference does, or report its own hold request.
	{"B holds too", false, true, "inactive", "inactive", holdFlags{yes, yes}, holdFlags{either, yes}},
	{"A unholds", true, false, "recvonly", "sendonly", holdFlags{no, yes}, holdFlags{yes, no}},
	{"B unholds", false, false, "sendrecv", "sendrecv", holdFlags{no, no}, holdFlags{no, no}},
}

// hold: the hold matrix, both sides holding and unholding in turn, checking
// the SDP directions and hold flags after each re-INVITE.
func (ts *typeSuite) hold(t runner) {
	p := ts.startPair(t)
	for _, step := range holdSteps {
		actor, peer := p.a, p.b
		actorSide, peerSide := p.as, p.bs
		actorMedia, peerMedia := &p.aMedia, &p.bMedia
		if !step.actorIsA {
			actor, peer = p.b, p.a
			actorSide, peerSide = p.bs, p.as
			actorMedia, peerMedia = &p.bMedia, &p.aMedia
		}
		if step.hold {
			actor.hold(t)
		} else {
			actor.unhold(t)
		}
		offerMedia := actor.offer(t)
		offer := actorSide.session(offerMedia)
		if d := direction(t, offer, 0); d != step.offerDir {
			t.Errorf("%s: %s re-offers direction %s, want %s (reference §3.5)\nSDP:\n%s", step.name, actor.label, d, step.offerDir, offer)
		}
		before := peer.attributes(t)
		peer.mustValidate(t, offer, 0)
		if after := peer.attributes(t); !sameHold(before, after) {
			t.Errorf("%s: %s.ValidateUpdate changed the stream's hold flags from %+v to %+v; it must not change state",
				step.name, peer.label, holdOf(before), holdOf(after))
		}
		answerMedia := peer.answer(t, offer, 0)
		answer := peerSide.session(answerMedia)
		if d := direction(t, answer, 0); d != step.answerDir {
			t.Errorf("%s: %s answers direction %s to %s, want %s (reference §3.5)\nSDP:\n%s", step.name, peer.label, d, step.offerDir, step.answerDir, answer)
		}
		peer.update(t, answer, offer, 0)
		actor.update(t, offer, answer, 0)
		*actorMedia, *peerMedia = offerMedia, answerMedia
		for _, c := range []struct {
			x    *stream
			want holdFlags
		}{{p.a, step.a}, {p.b, step.b}} {
			got := c.x.attributes(t)
			if !c.want.local.ok(got.OnHoldByLocal) || !c.want.remote.ok(got.OnHoldByRemote) {
				t.Errorf("%s: %s has on_hold_by_local=%v on_hold_by_remote=%v, want %v and %v",
					step.name, c.x.label, got.OnHoldByLocal, got.OnHoldByRemote, c.want.local, c.want.remote)
			}
		}
		ts.assertNoFail(t, p.a, p.b)
		if t.Failed() {
			t.Logf("the later hold steps build on %q: stopping here", step.name)
			return
		}
	}
	// Hold and unhold are renegotiations, not generic events.
	ts.endAll(t, full, p.a, p.b)
}

func sameHold(x, y *sdk.Attributes) bool { return holdOf(x) == holdOf(y) }

type holdState struct{ HoldSupported, OnHoldByLocal, OnHoldByRemote bool }

func holdOf(a *sdk.Attributes) holdState {
	return holdState{a.HoldSupported, a.OnHoldByLocal, a.OnHoldByRemote}
}

// reinviteAddRemove: a second pair of streams is added to a running call by
// re-INVITE (a two-m-line offer), then removed by another (its m-line at
// port 0); the first pair keeps working throughout.
func (ts *typeSuite) reinviteAddRemove(t runner) {
	p := ts.startPair(t)

	// A's end adds C: its current media at index 0, C's offer at index 1.
	c := ts.create(t, "C")
	c.initialize(t, p.sessA)
	cMedia := c.offer(t)
	offer := p.as.session(p.aMedia, cMedia)
	d := ts.newFromSDP(t, "D", offer, 1)
	d.initialize(t, p.sessB)
	p.b.mustValidate(t, offer, 0)
	bMedia := p.b.answer(t, offer, 0)
	dMedia := d.answer(t, offer, 1)
	answer := p.bs.session(bMedia, dMedia)
	p.b.update(t, answer, offer, 0)
	d.start(t, answer, offer, 1)
	p.a.update(t, offer, answer, 0)
	c.start(t, offer, answer, 1)
	d.waitStarted(t)
	c.waitStarted(t)
	p.bMedia = bMedia
	ts.assertAlive(t, p.a, p.b)

	// B's end removes D: its current media at index 0, index 1 at port 0.
	offer = p.bs.session(p.bMedia, removed(t, dMedia))
	p.a.mustValidate(t, offer, 0)
	aMedia := p.a.answer(t, offer, 0)
	answer = p.as.session(aMedia, removed(t, cMedia))
	p.a.update(t, answer, offer, 0)
	p.b.update(t, offer, answer, 0)
	p.aMedia = aMedia
	ts.endAll(t, full, c, d)
	ts.assertAlive(t, p.a, p.b)
	ts.endAll(t, full, p.a, p.b)
}

// reset: the remote re-INVITEs without SDP, so B must offer afresh after
// Reset; A answers and the call goes on.
func (ts *typeSuite) reset(t runner) {
	p := ts.startPair(t)
	p.b.reset(t, 0)
	offer := p.bs.session(p.b.offer(t))
	p.a.mustValidate(t, offer, 0)
	answer := p.as.session(p.a.answer(t, offer, 0))
	p.a.update(t, answer, offer, 0)
	p.b.update(t, offer, answer, 0)
	ts.assertAlive(t, p.a, p.b)
	ts.endAll(t, full, p.a, p.b)
}

// streamErrors: a stream refuses an unknown method with ErrUnknownMethod.
func (ts *typeSuite) streamErrors(t runner) {
	a := ts.create(t, "A")
	a.initialize(t, ts.sessionInfo(sdk.DirectionOutgoing))
	if err := a.invoke(t, "x-no-such-method"); !errors.Is(err, sdk.ErrUnknownMethod) {
		t.Errorf("%s.Invoke(x-no-such-method) = %v, want an error wrapping %v", a.label, err, sdk.ErrUnknownMethod)
	}
	ts.endAll(t, []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}, a)
}

// endDuringStart: A is ended right after Start, without waiting for the
// outcome (the session was cancelled). A must end cleanly and go quiet.
func (ts *typeSuite) endDuringStart(t runner) {
	p := ts.negotiate(t)
	p.b.start(t, p.answer, p.offer, 0)
	p.a.start(t, p.offer, p.answer, 0)
	p.a.end(t)
	ts.notes.waitFor(t, p.a.h, sdk.MediaStreamDidEnd)
	// B's end is the settle: once its DidEnd has been read, anything A
	// posted after its own DidEnd, up to then, has been read too.
	p.b.deactivate(t)
	p.b.end(t)
	ts.notes.waitFor(t, p.b.h, sdk.MediaStreamDidEnd)
	for _, x := range []*stream{p.a, p.b} {
		// The outcome of Start may or may not be posted before the end;
		// B, whose peer went away, may fail.
		if got := ts.notes.names(x.h); !endedDuringStart(got) {
			t.Errorf("%s: generic notification sequence %v, want %s then optionally %s and/or %s, then %s and %s, and nothing after\n%s",
				x.label, got, sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail,
				sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd, ts.notes.dump(x.h))
		}
	}
	p.a.assertGone(t)
	p.b.assertGone(t)
}

// endedDuringStart matches DidInitialize [DidStart] [DidFail] WillEnd DidEnd.
func endedDuringStart(got []string) bool {
	if len(got) < 3 || got[0] != sdk.MediaStreamDidInitialize {
		return false
	}
	rest := got[1:]
	for _, optional := range []string{sdk.MediaStreamDidStart, sdk.MediaStreamDidFail} {
		if len(rest) > 0 && rest[0] == optional {
			rest = rest[1:]
		}
	}
	return slices.Equal(rest, []string{sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd})
}

// endBeforeInitialize: a stream ended before Initialize ends at once, either
// as an ordinary end or as an interrupted initialization. It sets *created
// once Create has made a stream, and reports whether Create is not
// implemented.
func (ts *typeSuite) endBeforeInitialize(t runner, created *bool) (notImplemented bool) {
	o, err := ts.createRaw(t)
	if errors.Is(err, sdk.ErrNotImplemented) {
		t.Logf("Create(type %s): %v", ts.info.Type, err)
		return true
	}
	if err != nil {
		t.Fatalf("Create(type %s): %v", ts.info.Type, err)
	}
	*created = true
	a := ts.track(t, "A", o)
	if o.Type != ts.info.Type {
		t.Errorf("Create(type %s) made a stream of type %q", ts.info.Type, o.Type)
	}
	a.end(t)
	ts.notes.waitAny(t, a.h, sdk.MediaStreamDidEnd, sdk.MediaStreamDidNotInitialize)
	ts.fence(t)
	ts.assertInterrupted(t, a, []string{sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd})
	a.assertGone(t)
	return false
}

// endDuringInitialize: a stream ended right after Initialize, without
// waiting for its outcome, either finishes initializing and ends, or reports
// the initialization interrupted (reference §1.1: end before initialization
// finished posts MediaStreamDidNotInitialize).
func (ts *typeSuite) endDuringInitialize(t runner) {
	a := ts.create(t, "A")
	a.startInitialize(t, ts.sessionInfo(sdk.DirectionOutgoing))
	a.end(t)
	ts.notes.waitAny(t, a.h, sdk.MediaStreamDidEnd, sdk.MediaStreamDidNotInitialize)
	ts.fence(t)
	ts.assertInterrupted(t, a, []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd})
	a.assertGone(t)
}

// assertInterrupted checks that x's generic sequence is ended, or is a
// single MediaStreamDidNotInitialize with a reason.
func (ts *typeSuite) assertInterrupted(t tb, x *stream, ended []string) {
	t.Helper()
	got := ts.notes.names(x.h)
	switch {
	case slices.Equal(got, ended):
	case slices.Equal(got, []string{sdk.MediaStreamDidNotInitialize}):
		for _, n := range ts.notes.log(x.h) {
			if n.Name != sdk.MediaStreamDidNotInitialize {
				continue
			}
			var d sdk.DidNotInitializeData
			if err := n.Decode(&d); err != nil || d.Reason == "" {
				t.Errorf("%s: %s carries no reason (want e.g. \"Interrupted\"): %s", x.label, n.Name, n.Data)
			}
		}
	default:
		t.Errorf("%s: generic notification sequence %v, want %v or [%s] with a reason\n%s",
			x.label, got, ended, sdk.MediaStreamDidNotInitialize, ts.notes.dump(x.h))
	}
}

// quietAfterEnd: once a stream has posted MediaStreamDidEnd (or
// MediaStreamDidNotInitialize "Interrupted"), it posts nothing more, of any
// name: the host forgets the stream's handle at that notification, so
// whatever follows reaches no one. Every stream the type's cases made is
// checked, after a fence has read everything posted so far.
func (ts *typeSuite) quietAfterEnd(t runner) {
	ts.fence(t)
	ts.mu.Lock()
	streams := append([]*stream(nil), ts.tracked...)
	ts.mu.Unlock()
	for _, x := range streams {
		log := ts.notes.log(x.h)
		for i, n := range log {
			if !isLast(n) {
				continue
			}
			if after := log[i+1:]; len(after) > 0 {
				names := make([]string, len(after))
				for j, a := range after {
					names[j] = a.Name
				}
				t.Errorf("%s posted %v after %s: a stream posts nothing once it has ended (the host forgets its handle there)\n%s",
					x.label, names, n.Name, ts.notes.dump(x.h))
			}
			break
		}
	}
}

// isLast reports whether n is a stream's last notification:
// MediaStreamDidEnd, or MediaStreamDidNotInitialize for an interrupted
// initialization (End before it finished).
func isLast(n sdk.Notification) bool {
	switch n.Name {
	case sdk.MediaStreamDidEnd:
		return true
	case sdk.MediaStreamDidNotInitialize:
		var d sdk.DidNotInitializeData
		return n.Decode(&d) == nil && d.Reason == sdk.ReasonInterrupted
	}
	return false
}
