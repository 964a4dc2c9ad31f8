package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// HalfLife is how fast a Pacer lets the heap goal come down by default.
const HalfLife = 10 * time.Second

// heapMinimum is the runtime's smallest heap goal at GOGC=100 (4 MiB);
// it scales with GOGC, so a GOGC set high to keep a goal over a small
// live heap must not raise this floor above that goal.
const heapMinimum = 4 << 20

// Heap is what one collection found: the live heap and the roots the
// collector counts beside it (goroutine stacks, globals), in bytes.
type Heap struct {
	Live, Stacks, Globals uint64
}

// goal is the heap goal the runtime sets at percent: the live heap plus
// percent of the live heap and the roots.
func (h Heap) goal(percent int) float64 {
	return float64(h.Live) + float64(h.Live+h.Stacks+h.Globals)*float64(percent)/100
}

// Policy decides the GOGC of each cycle. It has no clock or runtime of
// its own: tests drive it.
type Policy struct {
	// Base is the GOGC the process runs at otherwise, the least a Policy
	// sets under the Ceiling.
	Base int
	// HalfLife is how long the kept goal takes to come down by half; 0
	// means the package's HalfLife.
	HalfLife time.Duration
	// Ceiling, when not 0, is the heap goal in bytes over which the
	// Policy lowers GOGC under Base, down to Floor: the heap of a burst
	// stays near the Ceiling unless the live heap needs more.
	Ceiling uint64
	// Floor is the least GOGC the Ceiling may set (0: 100, Go's default;
	// never over Base): the collector never runs more often than at Floor.
	Floor int

	kept float64   // the goal to keep, as of at
	at   time.Time // when kept was last set
}

// Next returns the GOGC for the cycle after a collection at now found h.
// The goal it aims at is the higher of Base's own goal and the kept one
// (the highest recent goal, decayed since it was set), but not over the
// Ceiling unless Floor's own goal is: then Floor's. That goal becomes
// the kept one. Base when Base's own goal is the aim.
func (p *Policy) Next(now time.Time, h Heap) int {
	half := p.HalfLife
	if half <= 0 {
		half = HalfLife
	}
	own := h.goal(p.Base)
	kept := 0.0
	if !p.at.IsZero() {
		kept = p.kept * math.Exp2(-float64(now.Sub(p.at))/float64(half))
	}
	aim, least := max(own, kept), p.Base
	if c := float64(p.Ceiling); c > 0 && aim > c {
		least = p.floor()
		aim = max(c, h.goal(least))
	}
	p.kept, p.at = aim, now
	roots := float64(h.Live + h.Stacks + h.Globals)
	if aim == own || roots == 0 {
		return p.Base
	}
	pct := 100 * (aim - float64(h.Live)) / roots
	pct = min(pct, 100*aim/heapMinimum) // the runtime's floor stays under the goal
	return max(least, int(pct))
}

// floor is the least GOGC the Ceiling may set.
func (p *Policy) floor() int {
	f := p.Floor
	if f <= 0 {
		f = 100
	}
	return min(f, p.Base)
}

// Pacer applies a Policy to the process's collector after each
// collection. One per process: GOGC is the process's.
type Pacer struct {
	mu      sync.Mutex // guards what follows: cycle runs on the runtime's cleanup goroutine
	samples []metrics.Sample
	policy  Policy
	set     int // the GOGC in effect
	cycles  int
	stopped bool
}

// An Option sets up a Pacer.
type Option func(*Policy)

// WithCeiling has the Pacer keep the heap goal under ceiling bytes by
// lowering GOGC under the base, down to floor (0: 100) at the least:
// once floor's own goal is over the ceiling (a live heap over about
// ceiling/(1+floor/100), stacks counted), the goal is floor's.
func WithCeiling(ceiling uint64, floor int) Option {
	return func(p *Policy) { p.Ceiling, p.Floor = ceiling, floor }
}

// New returns a Pacer for the process's GOGC as it is now (GOGC in the
// environment, or what debug.SetGCPercent last set): the base it
// returns to at Stop, and never goes below unless WithCeiling says.
func New(opts ...Option) *Pacer {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	base := int(s[0].Value.Uint64()) // -1 with GOGC=off
	policy := Policy{Base: base}
	for _, o := range opts {
		o(&policy)
	}
	return &Pacer{
		policy: policy,
		set:    base,
		samples: []metrics.Sample{
			{Name: "/gc/heap/live:bytes"},
			{Name: "/gc/scan/stack:bytes"},
			{Name: "/gc/scan/globals:bytes"},
		},
	}
}

// Start has the Pacer follow the collections from now on: it needs no
// goroutine of its own (it runs after each collection, on the runtime's
// cleanup goroutine). With GOGC off (or 0) there is nothing to pace.
func (p *Pacer) Start() {
	if p.policy.Base > 0 {
		p.arm()
	}
}

// Stop ends the pacing and puts GOGC back to the base.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.set != p.policy.Base {
		debug.SetGCPercent(p.policy.Base)
		p.set = p.policy.Base
	}
}

// Cycles returns how many collections the Pacer has followed.
func (p *Pacer) Cycles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cycles
}

// sentinel is made only to be collected: its cleanup marks the end of a
// collection. (With a pointer in it, it stays out of the tiny allocator,
// whose blocks can outlive their objects.)
type sentinel struct{ _ *int }

// arm makes a sentinel whose cleanup runs after the next collection.
func (p *Pacer) arm() {
	runtime.AddCleanup(&sentinel{}, (*Pacer).cycle, p)
}

// cycle runs after a collection: it sets the next cycle's GOGC and arms
// the next sentinel.
func (p *Pacer) cycle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.cycles++
	metrics.Read(p.samples)
	h := Heap{Live: p.samples[0].Value.Uint64(), Stacks: p.samples[1].Value.Uint64(), Globals: p.samples[2].Value.Uint64()}
	if pct := p.policy.Next(time.Now(), h); pct != p.set {
		debug.SetGCPercent(pct)
		p.set = pct
	}
	p.arm()
}
