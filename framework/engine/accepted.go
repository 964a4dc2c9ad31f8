package engine

import (
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ReleaseAcceptedInvites makes sipgo end an INVITE server transaction
// with its 2xx, as RFC 3261 had it, instead of keeping it 64·T1 (32 s)
// in RFC 6026's Accepted state to absorb retransmissions of the INVITE:
// there the transaction, its request and its 2xx stay on the heap, and
// ServerTx.Terminate does not stop the timer that holds them (Timer L) —
// at 700 calls/s, 115 MB of finished calls. The engine keeps the
// Accepted state itself in any case, as one hash per INVITE (see
// accepted), so a program that calls this loses nothing of RFC 6026.
//
// It sets sipgo's package variable sip.Timer_L, read by nothing else
// (the client's Accepted state has Timer M), to 0; sipgo's transactions
// read it unguarded, so call it first thing in main, before any engine
// or sipgo transaction exists. It holds for every sipgo user of the
// program: sipgo's DialogServerSession, which retransmits its 2xx
// through the transaction, fails its Respond when the ACK takes longer
// than T1 — the engine and the session layer do not use it. The host
// (cmd/host) calls it.
func ReleaseAcceptedInvites() { sip.Timer_L = 0 }

// acceptedGens is how many generations an accepted set keeps: a key lives
// between its life and life·acceptedGens/(acceptedGens-1).
const acceptedGens = 5

// accepted is RFC 6026's Accepted state of the INVITE server transactions
// the engine answered 2xx: for 64·T1 after the 2xx a retransmission of
// the INVITE — same Call-ID, CSeq, top Via branch and sent-by — is
// absorbed, never taken for a new request. It holds a 64-bit hash per
// INVITE in generations of life/(acceptedGens-1): the oldest is dropped
// whole when a new one starts, so that memory follows the call rate and
// goes back to nothing when the calls stop. A timer of its own, armed
// while it holds anything, turns the generations; stop ends it.
type accepted struct {
	life time.Duration
	step time.Duration
	seed maphash.Seed
	now  func() time.Time

	mu      sync.Mutex
	gens    [acceptedGens]map[uint64]struct{} // gens[cur] takes new keys
	cur     int
	started time.Time   // when gens[cur] started
	timer   *time.Timer // armed while a generation holds keys
	stopped bool
}

func newAccepted(life time.Duration, now func() time.Time) *accepted {
	return &accepted{
		life: life,
		step: max(life/(acceptedGens-1), time.Millisecond),
		seed: maphash.MakeSeed(),
		now:  now,
	}
}

// key is the hash that identifies req's transaction: what RFC 3261
// §17.2.3 matches (the top Via's branch and sent-by, the method — always
// INVITE here), with the Call-ID and CSeq number for requests whose
// branch is not RFC 3261's.
func (a *accepted) key(req *sip.Request) uint64 {
	var h maphash.Hash
	h.SetSeed(a.seed)
	if c := req.CallID(); c != nil {
		h.WriteString(c.Value())
	}
	h.WriteByte(0)
	if cs := req.CSeq(); cs != nil {
		var b [20]byte
		h.Write(strconv.AppendUint(b[:0], uint64(cs.SeqNo), 10))
	}
	h.WriteByte(0)
	if v := req.Via(); v != nil {
		if b, ok := v.Params.Get("branch"); ok {
			h.WriteString(b)
		}
		h.WriteByte(0)
		h.WriteString(v.Host)
		h.WriteByte(0)
		var b [20]byte
		h.Write(strconv.AppendInt(b[:0], int64(v.Port), 10))
	}
	return h.Sum64()
}

// add remembers req's transaction as accepted.
func (a *accepted) add(req *sip.Request) {
	k := a.key(req)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.turnLocked(a.now())
	g := a.gens[a.cur]
	if g == nil {
		g = make(map[uint64]struct{})
		a.gens[a.cur] = g
	}
	g[k] = struct{}{}
	if a.timer == nil {
		a.timer = time.AfterFunc(a.step, a.tick)
	}
}

// has reports whether req belongs to an accepted transaction.
func (a *accepted) has(req *sip.Request) bool {
	k := a.key(req)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.turnLocked(a.now())
	for _, g := range a.gens {
		if _, ok := g[k]; ok {
			return true
		}
	}
	return false
}

// len returns how many transactions it holds.
func (a *accepted) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, g := range a.gens {
		n += len(g)
	}
	return n
}

// tick turns the generations on the timer and re-arms it while any
// holds keys.
func (a *accepted) tick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.turnLocked(a.now())
	for _, g := range a.gens {
		if len(g) > 0 {
			a.timer.Reset(a.step)
			return
		}
	}
	a.timer = nil
}

// turnLocked starts a new generation for each step gone by since the
// current one started, dropping the oldest each time.
func (a *accepted) turnLocked(now time.Time) {
	if a.started.IsZero() {
		a.started = now
		return
	}
	gone := now.Sub(a.started)
	if gone < a.step {
		return
	}
	if gone >= acceptedGens*a.step {
		a.gens = [acceptedGens]map[uint64]struct{}{}
		a.started = now
		return
	}
	for ; gone >= a.step; gone -= a.step {
		a.cur = (a.cur + 1) % acceptedGens
		a.gens[a.cur] = nil
		a.started = a.started.Add(a.step)
	}
}

// stop ends the timer and forgets everything.
func (a *accepted) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	a.gens = [acceptedGens]map[uint64]struct{}{}
}
