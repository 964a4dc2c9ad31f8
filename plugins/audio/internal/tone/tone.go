package tone

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrInvalidDigit means a DTMF digit is not one of 0-9 * # A-D.
var ErrInvalidDigit = errors.New("tone: invalid DTMF digit")

// ErrInvalidRate means a sample rate is not positive.
var ErrInvalidRate = errors.New("tone: invalid sample rate")

// Durations of a DTMF digit: the tone, then a pause before the next digit.
const (
	DTMFDuration = 100 * time.Millisecond
	DTMFPause    = 50 * time.Millisecond
)

// DefaultVolume is a Generator's volume unless WithVolume says otherwise.
const DefaultVolume = 50

// fade is the length of the linear ramp at both ends of a tone.
const fade = 2 * time.Millisecond

// Tone is up to two sine frequencies, in Hz, played together for Duration.
// Zero frequencies are left out; with both zero the Tone is silence.
type Tone struct {
	F1, F2   float64
	Duration time.Duration
}

// Pause returns a silent Tone lasting d.
func Pause(d time.Duration) Tone { return Tone{Duration: d} }

// FromMillis converts the reference's tone list [(f1, f2, ms), ...].
func FromMillis(list ...[3]float64) []Tone {
	out := make([]Tone, len(list))
	for i, e := range list {
		out[i] = Tone{F1: e[0], F2: e[1], Duration: time.Duration(e[2] * float64(time.Millisecond))}
	}
	return out
}

var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4]string{"123A", "456B", "789C", "*0#D"}
)

// DTMF returns the tone of a keypad digit (0-9 * # A-D, lower-case letters
// accepted), lasting DTMFDuration.
func DTMF(digit rune) (Tone, error) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r, keys := range dtmfKeys {
		for c, k := range keys {
			if k == digit {
				return Tone{F1: dtmfRows[r], F2: dtmfCols[c], Duration: DTMFDuration}, nil
			}
		}
	}
	return Tone{}, fmt.Errorf("%w: %q", ErrInvalidDigit, digit)
}

// Generator turns queued tones into frames. It is safe for concurrent use:
// one goroutine may Fill while others Play or Stop.
type Generator struct {
	rate int

	mu     sync.Mutex
	volume int
	queue  []Tone
	pos    int // samples of queue[0] already produced
}

// Option configures a Generator.
type Option func(*Generator)

// WithVolume sets the volume in percent of full scale (0..100).
func WithVolume(percent int) Option {
	return func(g *Generator) { g.volume = min(max(percent, 0), 100) }
}

// NewGenerator returns an idle Generator producing samples at rate Hz.
func NewGenerator(rate int, opts ...Option) (*Generator, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrInvalidRate, rate)
	}
	g := &Generator{rate: rate, volume: DefaultVolume}
	for _, o := range opts {
		o(g)
	}
	return g, nil
}

// SampleRate returns the rate of the samples Fill produces.
func (g *Generator) SampleRate() int { return g.rate }

// SetVolume changes the volume (percent of full scale, 0..100).
func (g *Generator) SetVolume(percent int) {
	g.mu.Lock()
	g.volume = min(max(percent, 0), 100)
	g.mu.Unlock()
}

// Play queues tones after those already queued.
func (g *Generator) Play(tones ...Tone) {
	g.mu.Lock()
	for _, t := range tones {
		if t.Duration > 0 {
			g.queue = append(g.queue, t)
		}
	}
	g.mu.Unlock()
}

// PlayDTMF queues the tones of digits, each followed by DTMFPause. Nothing
// is queued if a digit is invalid.
func (g *Generator) PlayDTMF(digits string) error {
	var tones []Tone
	for _, d := range digits {
		t, err := DTMF(d)
		if err != nil {
			return err
		}
		tones = append(tones, t, Pause(DTMFPause))
	}
	g.Play(tones...)
	return nil
}

// Stop drops every queued tone, including the one playing.
func (g *Generator) Stop() {
	g.mu.Lock()
	g.queue, g.pos = nil, 0
	g.mu.Unlock()
}

// Playing reports whether tones are queued.
func (g *Generator) Playing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue) > 0
}

// Fill writes the next len(frame) samples into frame: the queued tones, then
// silence once the queue is empty. It reports whether the queue still holds
// tones after this frame.
func (g *Generator) Fill(frame []int16) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	amp := float64(g.volume) / 100 * math.MaxInt16
	ramp := int(int64(g.rate) * int64(fade) / int64(time.Second))
	for i := range frame {
		frame[i] = 0
		for len(g.queue) > 0 && g.pos >= g.samples(g.queue[0]) {
			g.queue, g.pos = g.queue[1:], 0
		}
		if len(g.queue) == 0 {
			continue
		}
		t := g.queue[0]
		frame[i] = g.sample(t, g.pos, amp, ramp)
		g.pos++
	}
	for len(g.queue) > 0 && g.pos >= g.samples(g.queue[0]) {
		g.queue, g.pos = g.queue[1:], 0
	}
	return len(g.queue) > 0
}

func (g *Generator) samples(t Tone) int {
	return int(int64(t.Duration) * int64(g.rate) / int64(time.Second))
}

func (g *Generator) sample(t Tone, n int, amp float64, ramp int) int16 {
	var freqs [2]float64
	k := 0
	for _, f := range [2]float64{t.F1, t.F2} {
		if f > 0 {
			freqs[k] = f
			k++
		}
	}
	if k == 0 {
		return 0
	}
	env := 1.0
	total := g.samples(t)
	if ramp > 0 {
		env = min(1, float64(n)/float64(ramp), float64(total-1-n)/float64(ramp))
	}
	x := float64(n) / float64(g.rate)
	var v float64
	for _, f := range freqs[:k] {
		v += math.Sin(2 * math.Pi * f * x)
	}
	return int16(v / float64(k) * amp * env)
}
