package device

import (
	"context"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
)

// Null is the device-less Backend: its Streams are a 20 ms clock of our own.
// The zero value ticks in real time.
type Null struct {
	// Ticks, if set, replaces the real-time ticker: the Stream processes one
	// frame per value received. Tests use it to step the clock.
	Ticks <-chan time.Time
	// Output, if set, receives a copy of every frame the Processor produced.
	// It is called on the Stream's goroutine.
	Output func(frame []int16)
}

var _ Backend = (*Null)(nil)

// Name returns "null".
func (n *Null) Name() string { return "null" }

// Devices returns no devices: Null has only the None pseudo device.
func (n *Null) Devices(context.Context) ([]Info, error) { return nil, nil }

// Open starts the clock. The device names in cfg are ignored.
func (n *Null) Open(_ context.Context, cfg Config, p Processor) (Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &nullStream{done: make(chan struct{})}
	ticks := n.Ticks
	var ticker *time.Ticker
	if ticks == nil {
		ticker = time.NewTicker(pcm.FrameDuration)
		ticks = ticker.C
	}
	spf := pcm.SamplesPerFrame(cfg.SampleRate)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if ticker != nil {
			defer ticker.Stop()
		}
		// Nothing is captured, so in is nil; out is nil too unless Output
		// wants the frames: the Processor need not produce what nobody plays.
		var out []int16
		if n.Output != nil {
			out = make([]int16, spf)
		}
		for {
			select {
			case <-s.done:
				return
			case _, ok := <-ticks:
				if !ok {
					<-s.done
					return
				}
				clear(out)
				p.ProcessFrame(nil, out)
				if n.Output != nil {
					n.Output(out)
				}
			}
		}
	}()
	return s, nil
}

type nullStream struct {
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func (s *nullStream) Close() error {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
	return nil
}
