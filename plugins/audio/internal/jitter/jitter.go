package jitter

import (
	"fmt"
	"sync"
	"time"
)

// Config configures a Buffer. Zero fields take the defaults noted.
type Config struct {
	// ClockRate is the RTP clock rate in Hz (default 8000).
	ClockRate uint32
	// Frame is the audio duration of one packet (default 20 ms).
	Frame time.Duration
	// MinDelay is the fixed target delay, or the adaptive lower bound
	// (default 40 ms).
	MinDelay time.Duration
	// MaxDelay is the adaptive upper bound, and for a fixed buffer the span
	// beyond which old frames are discarded (default 200 ms).
	MaxDelay time.Duration
	// Adaptive makes the target delay follow the measured jitter.
	Adaptive bool
	// Capacity is the most frames held (default twice MaxDelay in frames).
	Capacity int
}

func (c *Config) setDefaults() error {
	if c.ClockRate == 0 {
		c.ClockRate = 8000
	}
	if c.Frame == 0 {
		c.Frame = 20 * time.Millisecond
	}
	if c.MinDelay == 0 {
		c.MinDelay = 40 * time.Millisecond
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 200 * time.Millisecond
	}
	if c.Frame < 0 || c.MinDelay < 0 || c.MaxDelay < c.MinDelay {
		return fmt.Errorf("%w: frame %v, delay %v..%v", ErrInvalidConfig, c.Frame, c.MinDelay, c.MaxDelay)
	}
	if c.Capacity == 0 {
		c.Capacity = 2 * frames(c.MaxDelay, c.Frame)
	}
	if c.Capacity < frames(c.MaxDelay, c.Frame)+1 {
		return fmt.Errorf("%w: capacity %d below max delay %v", ErrInvalidConfig, c.Capacity, c.MaxDelay)
	}
	return nil
}

// frames returns d in whole frames, rounded up, at least 1.
func frames(d, frame time.Duration) int {
	n := int((d + frame - 1) / frame)
	if n < 1 {
		n = 1
	}
	return n
}

// Packet is one received RTP packet as the buffer needs it.
type Packet struct {
	SSRC           uint32
	SequenceNumber uint16
	Timestamp      uint32
	Marker         bool
	PayloadType    uint8
	Payload        []byte
}

// Status says what Pop returned.
type Status int

// Pop results.
const (
	// StatusEmpty: the buffer is filling; there is nothing to play or conceal.
	StatusEmpty Status = iota
	// StatusOK: the returned packet is the one due now.
	StatusOK
	// StatusLost: the packet due now is missing; conceal it.
	StatusLost
)

func (s Status) String() string {
	switch s {
	case StatusEmpty:
		return "empty"
	case StatusOK:
		return "ok"
	case StatusLost:
		return "lost"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Stats is a snapshot of a Buffer's counters.
type Stats struct {
	Pushed    uint64 // packets accepted into the buffer
	Played    uint64 // packets returned with StatusOK
	Lost      uint64 // frames popped as StatusLost because the packet was missing
	Late      uint64 // packets dropped because their playout time had passed or far outside the window
	Duplicate uint64 // packets dropped because already buffered
	Discarded uint64 // buffered packets dropped to cut latency or on overflow
	Underruns uint64 // times playout ran dry and the buffer refilled
	Resets    uint64 // SSRC changes and sequence jumps
	Depth     int    // frames currently spanned by the buffer
	Target    time.Duration
	Jitter    time.Duration // interarrival jitter estimate
}

// slot holds one packet; its payload lives in buf, which the slot keeps
// from packet to packet: no allocation per packet.
type slot struct {
	ext int64
	ok  bool
	p   Packet
	buf []byte
}

// set stores p (its payload copied) as the packet of ext.
func (s *slot) set(ext int64, p Packet) {
	s.buf = append(s.buf[:0], p.Payload...)
	p.Payload = s.buf
	s.ext, s.ok, s.p = ext, true, p
}

// empty forgets the packet, keeping the buffer.
func (s *slot) empty() { *s = slot{buf: s.buf[:0]} }

// Buffer is a jitter buffer. Create it with New.
type Buffer struct {
	cfg Config

	mu      sync.Mutex
	slots   []slot
	ssrc    uint32
	active  bool  // a packet of ssrc has been seen since the last reset
	started bool  // playout has started at least once since the last reset
	playing bool  // currently playing (not refilling)
	next    int64 // extended sequence number due at the next Pop
	highest int64 // highest extended sequence number buffered or played
	count   int   // packets in slots

	probing  bool   // a far out-of-window packet was seen
	probe    Packet // that packet, its payload in probeBuf
	probeBuf []byte
	out      []byte // the payload of the packet Pop returned last

	// Jitter estimation (RFC 3550 A.8), in timestamp units.
	lastTransit int64
	haveTransit bool
	jitter      float64
	base        time.Time

	stats Stats
}

// New returns an empty Buffer.
func New(cfg Config) (*Buffer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	b := &Buffer{cfg: cfg, slots: make([]slot, cfg.Capacity)}
	b.stats.Target = b.targetLocked()
	return b, nil
}

// resetLocked forgets every packet and the stream's sequence state.
func (b *Buffer) resetLocked() {
	for i := range b.slots {
		b.slots[i].empty()
	}
	b.active, b.started, b.playing = false, false, false
	b.count = 0
	b.haveTransit = false
	b.probing = false
}

// Reset empties the buffer, for example after the remote end changed.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resetLocked()
}

// Push offers a received packet, with its arrival time (used for the jitter
// estimate). The payload is copied into the buffer's own memory: the
// caller may reuse p.Payload at once, and nothing is allocated per packet.
func (b *Buffer) Push(p Packet, arrival time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active && p.SSRC != b.ssrc {
		b.stats.Resets++
		b.resetLocked()
	}
	if !b.active {
		b.active = true
		b.ssrc = p.SSRC
		b.next = int64(p.SequenceNumber)
		b.highest = b.next
		b.base = arrival
	}
	ext := b.highest + int64(int16(p.SequenceNumber-uint16(b.highest)))
	b.updateJitter(p.Timestamp, arrival)

	capacity := int64(len(b.slots))
	if far := b.next-ext > capacity || ext-b.highest > capacity; far {
		// Far outside the window: either a stray packet or the sender
		// restarted its sequence. As RFC 3550 A.1 does, accept the new
		// sequence only when two consecutive packets confirm it.
		if !b.probing || p.SequenceNumber != b.probe.SequenceNumber+1 {
			b.probeBuf = append(b.probeBuf[:0], p.Payload...)
			b.probing, b.probe = true, p
			b.probe.Payload = b.probeBuf
			b.stats.Late++
			return
		}
		probe := b.probe
		b.stats.Resets++
		b.stats.Late-- // the probe is played after all
		b.resetLocked()
		b.active, b.ssrc = true, p.SSRC
		ext = int64(p.SequenceNumber)
		b.next, b.highest, b.base = ext-1, ext, arrival
		b.slotOf(ext-1).set(ext-1, probe)
		b.count++
		b.stats.Pushed++
	}
	b.probing = false
	switch {
	case ext < b.next && b.started:
		b.stats.Late++
		return
	case ext < b.next:
		// Reordered before playout ever started: move the start back if
		// the span still fits.
		if b.highest-ext >= capacity {
			b.stats.Late++
			return
		}
		b.next = ext
	case ext-b.next >= capacity:
		// Make room by dropping the oldest frames.
		for ext-b.next >= capacity {
			b.dropOldestLocked()
		}
	}
	s := b.slotOf(ext)
	if s.ok && s.ext == ext {
		b.stats.Duplicate++
		return
	}
	s.set(ext, p)
	b.count++
	b.stats.Pushed++
	if ext > b.highest {
		b.highest = ext
	}
	if !b.playing && b.depthLocked() >= frames(b.targetLocked(), b.cfg.Frame) {
		b.playing, b.started = true, true
	}
}

func (b *Buffer) slotOf(ext int64) *slot {
	c := int64(len(b.slots))
	i := ext % c
	if i < 0 {
		i += c
	}
	return &b.slots[i]
}

// dropOldestLocked advances past the frame due next, counting it as
// discarded if it was buffered.
func (b *Buffer) dropOldestLocked() {
	s := b.slotOf(b.next)
	if s.ok && s.ext == b.next {
		s.empty()
		b.count--
		b.stats.Discarded++
	}
	b.next++
}

// depthLocked returns the span, in frames, from the next due packet to the
// highest buffered one.
func (b *Buffer) depthLocked() int {
	if b.count == 0 {
		return 0
	}
	return int(b.highest - b.next + 1)
}

func (b *Buffer) updateJitter(ts uint32, arrival time.Time) {
	// Arrival in timestamp units since the first packet.
	a := int64(arrival.Sub(b.base)) * int64(b.cfg.ClockRate) / int64(time.Second)
	transit := a - int64(ts)
	if b.haveTransit {
		d := transit - b.lastTransit
		// Timestamps wrap at 2^32: fold the difference back.
		d = int64(int32(d))
		if d < 0 {
			d = -d
		}
		b.jitter += (float64(d) - b.jitter) / 16
	}
	b.lastTransit, b.haveTransit = transit, true
}

func (b *Buffer) jitterLocked() time.Duration {
	return time.Duration(b.jitter * float64(time.Second) / float64(b.cfg.ClockRate))
}

// targetLocked returns the current target delay.
func (b *Buffer) targetLocked() time.Duration {
	if !b.cfg.Adaptive {
		return b.cfg.MinDelay
	}
	t := b.cfg.Frame + 3*b.jitterLocked()
	return min(max(t, b.cfg.MinDelay), b.cfg.MaxDelay)
}

// limitLocked returns the span in frames beyond which old frames are dropped.
func (b *Buffer) limitLocked() int {
	if b.cfg.Adaptive {
		return frames(b.targetLocked(), b.cfg.Frame) + 2
	}
	return max(frames(b.cfg.MaxDelay, b.cfg.Frame), frames(b.cfg.MinDelay, b.cfg.Frame)+2)
}

// Pop returns the packet due now. Call it once per frame tick. The
// packet's payload is valid until the next Pop.
func (b *Buffer) Pop() (Packet, Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.playing {
		return Packet{}, StatusEmpty
	}
	if b.count == 0 {
		// Ran dry: conceal this frame, then refill to the target delay.
		// The frame stays due, so a delayed packet still plays.
		b.playing = false
		b.stats.Underruns++
		return Packet{}, StatusLost
	}
	if b.depthLocked() > b.limitLocked() {
		b.dropOldestLocked()
	}
	s := b.slotOf(b.next)
	b.next++
	if s.ok && s.ext == b.next-1 {
		p := s.p
		b.out = append(b.out[:0], p.Payload...)
		p.Payload = b.out
		s.empty()
		b.count--
		b.stats.Played++
		return p, StatusOK
	}
	b.stats.Lost++
	return Packet{}, StatusLost
}

// Stats returns a snapshot of the counters.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Depth = b.depthLocked()
	s.Target = b.targetLocked()
	s.Jitter = b.jitterLocked()
	return s
}
