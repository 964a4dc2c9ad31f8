package dtmf

import (
	"fmt"
	"sync"
	"time"
)

// Defaults of a [Sender], those of the reference's pjmedia stream.
const (
	// DefaultDuration is the length of one digit's event: pjmedia's
	// PJMEDIA_DTMF_DURATION of 1600 timestamp units at 8 kHz.
	DefaultDuration = 200 * time.Millisecond
	// DefaultInterval is the packet clock.
	DefaultInterval = 20 * time.Millisecond
	// DefaultClockRate is the telephone-event/8000 RTP clock.
	DefaultClockRate = 8000
	// DefaultVolume is the power level sent, in -dBm0.
	DefaultVolume = 10
	// DefaultEndPackets is how many times the final packet is sent
	// (RFC 4733 §2.5.1.4 recommends three).
	DefaultEndPackets = 3
	// DefaultQueueSize is how many digits may wait to be sent.
	DefaultQueueSize = 32
)

// senderConfig holds what the options set.
type senderConfig struct {
	duration   time.Duration
	interval   time.Duration
	clockRate  int
	volume     int
	endPackets int
	queueSize  int
}

// Option configures a [Sender].
type Option func(*senderConfig)

// WithDuration sets how long each digit's event lasts.
func WithDuration(d time.Duration) Option { return func(c *senderConfig) { c.duration = d } }

// WithInterval sets the packet clock (how often Tick is called).
func WithInterval(d time.Duration) Option { return func(c *senderConfig) { c.interval = d } }

// WithClockRate sets the negotiated telephone-event RTP clock rate (8000,
// or for example 48000 beside Opus).
func WithClockRate(hz int) Option { return func(c *senderConfig) { c.clockRate = hz } }

// WithVolume sets the power level in -dBm0 (0-63).
func WithVolume(v int) Option { return func(c *senderConfig) { c.volume = v } }

// WithEndPackets sets how many times the final (E bit) packet is sent.
func WithEndPackets(n int) Option { return func(c *senderConfig) { c.endPackets = n } }

// WithQueueSize sets how many digits may wait to be sent.
func WithQueueSize(n int) Option { return func(c *senderConfig) { c.queueSize = n } }

// Packet is one telephone-event RTP packet a [Sender] asks to send.
type Packet struct {
	// Event is the payload content; Payload is its 4-byte encoding.
	Event   Event
	Payload []byte
	// Marker is the RTP marker bit: set on the first packet of an event.
	Marker bool
	// Start is true on the first packet of an event: the RTP layer stamps
	// it with the current media timestamp, and gives every following
	// packet with Start false the same timestamp (RFC 4733 §2.5.1.1).
	// Sequence numbers advance for every packet as usual.
	Start bool
}

// Sender turns queued digits into telephone-event packets on a fixed
// packet clock. Its methods are safe for concurrent use: typically Enqueue
// is called by the API and Tick by the RTP send loop.
type Sender struct {
	step, total uint16 // timestamp units per packet and per event
	volume      uint8
	endPackets  int
	queueSize   int

	mu    sync.Mutex
	queue []uint8
	// Current event; active is false between events.
	active  bool
	code    uint8
	packets int // packets sent for the current event
	ends    int // end packets sent for the current event
}

// NewSender returns a sender with the reference's defaults changed by
// opts. It fails with ErrInvalidConfig when an event would not fit the
// 16-bit duration field, or an option is out of range.
func NewSender(opts ...Option) (*Sender, error) {
	c := senderConfig{
		duration:   DefaultDuration,
		interval:   DefaultInterval,
		clockRate:  DefaultClockRate,
		volume:     DefaultVolume,
		endPackets: DefaultEndPackets,
		queueSize:  DefaultQueueSize,
	}
	for _, o := range opts {
		o(&c)
	}
	units := func(d time.Duration) int64 { return int64(c.clockRate) * int64(d) / int64(time.Second) }
	step, total := units(c.interval), units(c.duration)
	switch {
	case c.clockRate <= 0:
		return nil, fmt.Errorf("clock rate %d: %w", c.clockRate, ErrInvalidConfig)
	case step < 1 || step > 0xFFFF:
		return nil, fmt.Errorf("interval %v at %d Hz: %w", c.interval, c.clockRate, ErrInvalidConfig)
	case total < step || total > 0xFFFF:
		return nil, fmt.Errorf("duration %v at %d Hz (must be one interval to %d units): %w", c.duration, c.clockRate, 0xFFFF, ErrInvalidConfig)
	case c.volume < 0 || c.volume > 63:
		return nil, fmt.Errorf("volume %d: %w", c.volume, ErrInvalidConfig)
	case c.endPackets < 1:
		return nil, fmt.Errorf("%d end packets: %w", c.endPackets, ErrInvalidConfig)
	case c.queueSize < 1:
		return nil, fmt.Errorf("queue size %d: %w", c.queueSize, ErrInvalidConfig)
	}
	return &Sender{
		step:       uint16(step),
		total:      uint16(total),
		volume:     uint8(c.volume),
		endPackets: c.endPackets,
		queueSize:  c.queueSize,
	}, nil
}

// Enqueue adds digit (0-9 * # A-D) to the digits to send. It fails with
// ErrInvalidDigit or, when the queue is full, ErrQueueFull.
func (s *Sender) Enqueue(digit rune) error {
	code, err := Code(digit)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= s.queueSize {
		return fmt.Errorf("digit %q: %w", digit, ErrQueueFull)
	}
	s.queue = append(s.queue, code)
	return nil
}

// Busy reports whether an event is in progress or digits are queued: while
// it is true, the RTP layer sends Tick's packets instead of audio.
func (s *Sender) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active || len(s.queue) > 0
}

// Tick is called once per packet interval and returns the packet to send
// now, or false when there is nothing to send.
//
// An event of duration D and interval I gives D/I packets with growing
// durations I, 2I, ... D, the last with the E bit, followed by the E packet
// repeated until it has been sent endPackets times, one per tick; then the
// next queued digit starts.
func (s *Sender) Tick() (Packet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		if len(s.queue) == 0 {
			return Packet{}, false
		}
		s.active, s.code, s.packets, s.ends = true, s.queue[0], 0, 0
		s.queue = s.queue[1:]
	}
	s.packets++
	dur := min(uint32(s.packets)*uint32(s.step), uint32(s.total))
	ev := Event{Code: s.code, Volume: s.volume, Duration: uint16(dur), End: dur >= uint32(s.total)}
	if ev.End {
		s.ends++
		if s.ends >= s.endPackets {
			s.active = false
		}
	}
	first := s.packets == 1
	return Packet{Event: ev, Payload: ev.Marshal(), Marker: first, Start: first}, true
}
