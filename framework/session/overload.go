package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Overload control of new sessions (issue 15).
//
// Past its capacity a host must keep completing the calls it can and
// refuse the rest at once, rather than take every INVITE and let all of
// them wait: once calls queue, each waits longer than its caller is
// willing to, retransmits, and the host ends up doing work nobody waits
// for. The manager therefore admits a new INVITE only while the INVITEs
// it is still setting up stay below a limit, and adapts that limit to its
// own queueing delay, measured on every call as the time from taking the
// INVITE to having its streams (the dispatch: the session's loop, the
// stream plugins' NewFromSDP over their connections, the notification):
//
//   - a setup that took longer than the target (Config.MaxSetupDelay)
//     cuts the limit by a tenth, at most once per target interval (one
//     slow period is one signal, not one per call in it), down to 16 (so
//     that a slow machine, or a race-detector build, is not mistaken for
//     an overloaded one while few calls arrive);
//   - a setup within the target raises it by one per limit's worth of
//     setups (additive increase: about one per round of calls), while
//     the limit is in use: only a setup admitted with a quarter of the
//     limit or more in setup counts (as RFC 7661 grows a congestion
//     window only while the sender fills it). A limit raised by every
//     setup of a long run below capacity — by 1/limit each, some 490
//     after 120,000 calls — admitted the whole of a later surge before
//     its first cut: setups, and the INVITEs to refuse behind them,
//     waited up to 220 ms. (Half the limit in use, measured, kept the
//     limit too low for the bursts of a busy VM: 15 refusals in a
//     minute at 2,000 calls/s.)
//
// An INVITE over the limit is answered 503 Service Unavailable with
// Retry-After before any session or stream exists: by the engine, from
// the datagram as read, when the signalling has an admission hook
// (engine.Engine.SetAdmission), else by the INVITE's server transaction,
// which also absorbs the caller's retransmissions. The engine asks as it
// reads, and the INVITEs it reads together reach the manager only after
// it has read them all: each INVITE it takes, once it has passed the
// engine's checks (engine.Engine.SetAdmitted), is therefore held as
// pending (by Call-ID) from then until the manager sees it, and counted
// with the setups in progress. Without that the engine took a whole
// batch under the limit and the manager refused the excess itself — at
// 6,000 INVITEs/s nearly as many as the engine (10,041 against 11,711 in
// 10 s), each through a transaction, a handler and timers, and late. Not
// before the checks: malformed INVITEs, which the engine refuses 400 and
// the manager never sees, would fill the limit (an attack's, in
// TestAttackSoak, refused 7,454 of 9,000 good calls). onInvite claims
// every INVITE first thing, whatever it then answers. One that passed the
// engine's checks and still never reaches onInvite (sipgo's transaction
// absorbed it, or dropped it) stops being pending after pendingTargets
// targets: it then takes a place no longer than a slow setup would.
// (With a second instead, the soak once refused 12 of 9,000 good calls
// beside a race run; which INVITEs held the places was not pinned down:
// the soak's mangled UDP INVITEs that pass the checks are all claimed,
// TestPendingMangledInvites.) A stream plugin at one of its resource
// limits (sdk.ErrBusy) makes the same answer after the dispatch.
//
// A setup held up by a stream plugin's restart (the registry's wait hook
// calls SetupWait) is neither counted nor a sample: that is an outage,
// not the host's queueing, and the calls it held all resume at once when
// the plugin is back.
//
// The limit counts the setups in progress, not the calls alive: calls
// that ring for a person, or last an hour, do not count once their
// streams are offered to the application.

// Overload defaults.
const (
	// DefaultMaxSetupDelay is Config.MaxSetupDelay's default.
	DefaultMaxSetupDelay = 20 * time.Millisecond
	// initialSetupLimit is where the limit starts, and maxSetupLimit and
	// minSetupLimit bound it: at least a few setups always run (the
	// controller must keep learning what a setup costs), and there is no
	// point admitting more than MaxSessions anyway.
	initialSetupLimit = 64
	minSetupLimit     = 16
	maxSetupLimit     = 4096
	// pendingTargets is how long, in targets (Config.MaxSetupDelay), an
	// INVITE the engine took stays pending when the manager does not see
	// it: 100 ms at the default target. The engine's read and onInvite are
	// a few milliseconds apart even under an overload; an INVITE that
	// passes the engine's checks and never reaches the claim (a
	// retransmission sipgo's transaction absorbed, one sipgo drops)
	// holds a place for no longer than a setup a few times over the
	// target would, so that sending such INVITEs takes no more of the
	// limit than sending real ones.
	pendingTargets = 5
)

// OverloadStats are the manager's admission figures.
type OverloadStats struct {
	// Refused counts the INVITEs answered 503 because the host was past
	// its capacity: over the setup limit, or a stream plugin busy.
	Refused uint64
	// Busy counts those of Refused that a stream plugin refused at one of
	// its resource limits (sdk.ErrBusy): the rest were over the setup
	// limit.
	Busy uint64
	// Admitted counts the INVITEs taken for setup.
	Admitted uint64
	// InSetup is the number of INVITEs being set up now, and Limit the
	// current limit on it.
	InSetup, Limit int
	// PeakInSetup is the most INVITEs that have been in setup at once.
	PeakInSetup int
}

// overload is a Manager's admission control; safe for concurrent use.
type overload struct {
	target time.Duration // <= 0: no limit

	inSetup  atomic.Int64
	peak     atomic.Int64 // the most inSetup has been
	admitted atomic.Uint64
	refused  atomic.Uint64
	busy     atomic.Uint64 // of refused, a stream plugin at a limit
	// current is int(limit), read on every INVITE without the lock.
	current atomic.Int64

	// pend holds the INVITEs the engine took as it read them, until the
	// manager sees them (hold, claim).
	pend struct {
		sync.Mutex
		at    map[string]time.Time // by Call-ID, when taken
		swept atomic.Int64         // the last sweep of the expired, Unix ns
		n     atomic.Int64         // len(at), read without the lock
		held  atomic.Uint64        // INVITEs ever held (tests read it)
	}

	mu    sync.Mutex // guards what follows; done is its only writer
	limit float64
	cutAt time.Time // the last cut: no other before target has passed
	clock func() time.Time
	// pendTTL is how long an INVITE stays pending unclaimed
	// (pendingTargets targets).
	pendTTL time.Duration
	maxLim  float64
}

func newOverload(target time.Duration, maxSessions int) *overload {
	o := &overload{target: target, clock: time.Now, pendTTL: pendingTargets * target}
	o.maxLim = min(maxSetupLimit, max(minSetupLimit, float64(maxSessions)))
	o.limit = min(initialSetupLimit, o.maxLim)
	o.current.Store(int64(o.limit))
	o.pend.at = make(map[string]time.Time)
	return o
}

// admissible tells whether the engine may take a new INVITE, by its
// Call-ID, as it reads it: while the setups in progress and the INVITEs
// pending are below the limit, and for one already pending (a
// retransmission). hold makes one it took pending.
func (o *overload) admissible(callID string) bool {
	o.expire()
	return !o.over() || o.pending(callID)
}

// pending tells whether callID's INVITE is pending.
func (o *overload) pending(callID string) bool {
	if o.pend.n.Load() == 0 {
		return false
	}
	o.pend.Lock()
	_, ok := o.pend.at[callID]
	o.pend.Unlock()
	return ok
}

// hold makes callID's INVITE pending, until claim or pendTTL (the
// engine asked admissible about it just before, which dropped those
// pending longer).
func (o *overload) hold(callID string) {
	if o.target <= 0 {
		return
	}
	now := o.clock()
	o.pend.Lock()
	defer o.pend.Unlock()
	if _, ok := o.pend.at[callID]; !ok {
		o.pend.at[callID] = now
		o.pend.held.Add(1)
	}
	o.pend.n.Store(int64(len(o.pend.at)))
}

// expire drops the INVITEs pending for pendTTL or longer, at most four
// times per pendTTL: the engine's check calls it, so that INVITEs that
// never reached the manager cannot hold the limit when nothing new is
// taken.
func (o *overload) expire() {
	if o.pend.n.Load() == 0 {
		return
	}
	now := o.clock()
	if now.UnixNano()-o.pend.swept.Load() < int64(o.pendTTL/4) {
		return
	}
	o.pend.Lock()
	defer o.pend.Unlock()
	for id, at := range o.pend.at {
		if now.Sub(at) >= o.pendTTL {
			delete(o.pend.at, id)
		}
	}
	o.pend.swept.Store(now.UnixNano())
	o.pend.n.Store(int64(len(o.pend.at)))
}

// claim ends callID's INVITE's time as pending: the manager has it.
func (o *overload) claim(callID string) {
	if o.pend.n.Load() == 0 {
		return
	}
	o.pend.Lock()
	delete(o.pend.at, callID)
	o.pend.n.Store(int64(len(o.pend.at)))
	o.pend.Unlock()
}

// setup is one admitted INVITE's setup; done ends it once.
type setup struct {
	o     *overload
	start time.Time
	ended atomic.Bool
	// counted tells whether the setup is among o.inSetup: from admit to
	// done or SetupWait, whichever comes first.
	counted atomic.Bool
	// waited tells that the setup waited for something other than the
	// host (SetupWait): its duration is no sample.
	waited atomic.Bool
	// load is how many setups were in progress, this one included, when
	// it was admitted.
	load int64
}

// uncount takes the setup out of the setups in progress, once.
func (s *setup) uncount() {
	if s.counted.CompareAndSwap(true, false) {
		s.o.inSetup.Add(-1)
	}
}

type setupKey struct{}

// withSetup marks ctx as the context of su's stream requests.
func withSetup(ctx context.Context, su *setup) context.Context {
	if su == nil {
		return ctx
	}
	return context.WithValue(ctx, setupKey{}, su)
}

// SetupWait is for a StreamSource about to wait, in a request made with
// ctx, for something other than the host's own work: a stream plugin that
// crashed and is being restarted, say. The overload control judges the
// host by its own queueing delay, and a setup held up by a plugin's
// restart is not that: from then on it is not counted among the setups in
// progress, and its duration is no sample. (Not counted again once the
// plugin is back either: the calls that arrived during a restart all
// resume at once, a burst the outage made, not the arrival rate, and new
// calls must not be refused for it.) For a ctx that is not a new
// session's, SetupWait does nothing.
func SetupWait(ctx context.Context) {
	if su, _ := ctx.Value(setupKey{}).(*setup); su != nil {
		su.waited.Store(true)
		su.uncount()
	}
}

// over tells whether the setups in progress and the INVITEs pending are
// at the limit.
func (o *overload) over() bool {
	return o.target > 0 && o.inSetup.Load()+o.pend.n.Load() >= o.current.Load()
}

// refuse counts an INVITE refused 503 for overload.
func (o *overload) refuse() { o.refused.Add(1) }

// refuseBusy counts an INVITE refused 503 because a stream plugin was at
// one of its resource limits.
func (o *overload) refuseBusy() {
	o.busy.Add(1)
	o.refused.Add(1)
}

// admit takes a new INVITE for setup, or reports false when the host is
// over its limit (the caller answers 503).
func (o *overload) admit() (*setup, bool) {
	if o.over() {
		o.refuse()
		return nil, false
	}
	o.admitted.Add(1)
	n := o.inSetup.Add(1)
	su := &setup{o: o, start: o.clock(), load: n}
	su.counted.Store(true)
	for peak := o.peak.Load(); n > peak && !o.peak.CompareAndSwap(peak, n); peak = o.peak.Load() {
	}
	return su, true
}

// done ends the setup: measured tells whether its duration is a sample
// of the host's delay (false for a setup cut short, such as a CANCEL or
// the manager closing). Later calls do nothing; nil does nothing.
func (s *setup) done(measured bool) {
	if s == nil || !s.ended.CompareAndSwap(false, true) {
		return
	}
	s.uncount()
	o := s.o
	if !measured || s.waited.Load() || o.target <= 0 {
		return
	}
	now := o.clock()
	took := now.Sub(s.start)
	o.mu.Lock()
	defer o.mu.Unlock()
	if took > o.target {
		if now.Sub(o.cutAt) >= o.target {
			o.limit = max(minSetupLimit, o.limit*0.9)
			o.cutAt = now
		}
	} else if float64(s.load)*4 >= o.limit {
		o.limit = min(o.maxLim, o.limit+1/o.limit)
	}
	o.current.Store(int64(o.limit))
}

// stats returns the figures.
func (o *overload) stats() OverloadStats {
	limit := int(o.current.Load())
	if o.target <= 0 {
		limit = 0
	}
	return OverloadStats{Refused: o.refused.Load(), Busy: o.busy.Load(), Admitted: o.admitted.Load(), InSetup: int(o.inSetup.Load()), Limit: limit, PeakInSetup: int(o.peak.Load())}
}
