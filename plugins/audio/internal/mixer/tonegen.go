package mixer

import (
	"sync"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/tone"
)

// ToneGenerator is a Source playing tones and DTMF digits (the reference's
// ToneGenerator port).
type ToneGenerator struct {
	name string
	gen  *tone.Generator

	mu      sync.Mutex
	waiters []chan struct{}
}

var _ Source = (*ToneGenerator)(nil)

// NewToneGenerator returns an idle ToneGenerator producing frames at rate
// Hz (the Mixer's rate).
func NewToneGenerator(name string, rate int, opts ...tone.Option) (*ToneGenerator, error) {
	g, err := tone.NewGenerator(rate, opts...)
	if err != nil {
		return nil, err
	}
	return &ToneGenerator{name: name, gen: g}, nil
}

// Name returns the name given to NewToneGenerator.
func (t *ToneGenerator) Name() string { return t.name }

// PlayTones queues tones; the returned channel is closed when the queue
// has played out (or Stop emptied it), the reference's
// ToneGeneratorDidFinishPlaying. Tones advance only while the generator is
// connected to a Sink: the clock reads no unconnected Source.
func (t *ToneGenerator) PlayTones(tones ...tone.Tone) <-chan struct{} {
	t.gen.Play(tones...)
	return t.wait()
}

// PlayDTMF queues the tones of digits, as PlayTones.
func (t *ToneGenerator) PlayDTMF(digits string) (<-chan struct{}, error) {
	if err := t.gen.PlayDTMF(digits); err != nil {
		return nil, err
	}
	return t.wait(), nil
}

func (t *ToneGenerator) wait() <-chan struct{} {
	ch := make(chan struct{})
	t.mu.Lock()
	t.waiters = append(t.waiters, ch)
	t.mu.Unlock()
	return ch
}

// SetVolume sets the volume in percent of full scale.
func (t *ToneGenerator) SetVolume(percent int) { t.gen.SetVolume(percent) }

// Playing reports whether tones are queued.
func (t *ToneGenerator) Playing() bool { return t.gen.Playing() }

// Stop drops the queued tones.
func (t *ToneGenerator) Stop() {
	t.gen.Stop()
	t.release()
}

// ReadFrame implements Source.
func (t *ToneGenerator) ReadFrame(frame []int16) {
	if !t.gen.Fill(frame) {
		t.release()
	}
}

func (t *ToneGenerator) release() {
	t.mu.Lock()
	ws := t.waiters
	t.waiters = nil
	t.mu.Unlock()
	for _, ch := range ws {
		close(ch)
	}
}
