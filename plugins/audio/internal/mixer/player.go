package mixer

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
)

// WAVPlayer is a Source playing a WAV file (the reference's WavePlayer):
// volume, loop count (0 = forever), a pause between loops and an initial
// delay. Done is closed when it has finished or failed. It plays only while
// connected: the clock reads a Source only when it feeds some Sink.
type WAVPlayer struct {
	name   string
	path   string
	rate   int
	volume int
	loops  int
	pause  int // samples between loops
	delay  int // samples before the first loop

	cache *FileCache

	mu       sync.Mutex
	src      samples
	fifo     []int16 // the rest of the last run src gave: read only
	played   int     // loops finished
	wait     int     // silent samples left (delay or pause)
	paused   bool
	finished bool
	err      error
	done     chan struct{}
}

var _ Source = (*WAVPlayer)(nil)

// PlayerOption configures a WAVPlayer.
type PlayerOption func(*WAVPlayer)

// WithVolume sets the volume in percent (default 100, unchanged).
func WithVolume(percent int) PlayerOption { return func(p *WAVPlayer) { p.volume = max(percent, 0) } }

// WithLoopCount sets how many times the file plays; 0 loops forever
// (default 1).
func WithLoopCount(n int) PlayerOption { return func(p *WAVPlayer) { p.loops = max(n, 0) } }

// WithPauseTime sets the silence between two loops.
func WithPauseTime(d time.Duration) PlayerOption {
	return func(p *WAVPlayer) { p.pause = p.samples(d) }
}

// WithCache shares the file's decoded samples with the other players of
// the same file through c (see FileCache).
func WithCache(c *FileCache) PlayerOption { return func(p *WAVPlayer) { p.cache = c } }

// WithInitialDelay sets the silence before the first loop.
func WithInitialDelay(d time.Duration) PlayerOption {
	return func(p *WAVPlayer) { p.delay = p.samples(d) }
}

func (p *WAVPlayer) samples(d time.Duration) int {
	return int(int64(max(d, 0)) * int64(p.rate) / int64(time.Second))
}

// NewWAVPlayer opens path for playing at rate Hz (the Mixer's rate),
// resampling from the file's rate. With rate 0 it plays at the file's own
// rate when that is one of pcm.SupportedRates (else at the next one up),
// and the Mixer converts only where a Sink runs at another rate
// (RatedPort): an 8 kHz file played into a G.711 call is never resampled.
func NewWAVPlayer(path string, rate int, opts ...PlayerOption) (*WAVPlayer, error) {
	r, err := wav.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mixer: player: %w", err)
	}
	if rate == 0 {
		rate = nativeRate(r.SampleRate())
	}
	rs, err := pcm.NewResampler(r.SampleRate(), rate)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("mixer: player %s: %w", path, err)
	}
	p := &WAVPlayer{
		name: "wav-player:" + filepath.Base(path), path: path, rate: rate,
		volume: 100, loops: 1,
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	p.wait = p.delay
	if p.cache != nil {
		if p.src, err = p.cache.open(path, r, rs); err != nil {
			r.Close()
			return nil, fmt.Errorf("mixer: player %s: %w", path, err)
		}
	}
	if p.src == nil { // no cache, or a file over its bound
		p.src = newFileSamples(r, rs)
	}
	return p, nil
}

// nativeRate is the first of pcm.SupportedRates at or above a file's rate
// (the highest for a file above them all).
func nativeRate(file int) int {
	for _, r := range pcm.SupportedRates {
		if r >= file {
			return r
		}
	}
	return pcm.SupportedRates[len(pcm.SupportedRates)-1]
}

// SampleRate returns the rate the player produces (RatedPort).
func (p *WAVPlayer) SampleRate() int { return p.rate }

// Name returns "wav-player:" and the file's base name.
func (p *WAVPlayer) Name() string { return p.name }

// Path returns the file's path.
func (p *WAVPlayer) Path() string { return p.path }

// Done is closed when playing has ended: all loops played, Close called, or
// a read error (see Err).
func (p *WAVPlayer) Done() <-chan struct{} { return p.done }

// Err returns the error that ended playing, if any (the reference's
// WavePlayerDidFail).
func (p *WAVPlayer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Pause makes the player produce silence without advancing.
func (p *WAVPlayer) Pause() { p.setPaused(true) }

// Resume continues after Pause.
func (p *WAVPlayer) Resume() { p.setPaused(false) }

func (p *WAVPlayer) setPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.mu.Unlock()
}

// Close stops playing and closes the file.
func (p *WAVPlayer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return nil
	}
	p.finish(nil)
	return nil
}

// finish ends playing; p.mu is held.
func (p *WAVPlayer) finish(err error) {
	p.finished, p.err = true, err
	p.src.close()
	p.fifo = nil
	close(p.done)
}

// ReadFrame implements Source.
func (p *WAVPlayer) ReadFrame(frame []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(frame)
	if p.finished || p.paused {
		return
	}
	for i := 0; i < len(frame) && !p.finished; {
		if p.wait > 0 {
			n := min(p.wait, len(frame)-i)
			p.wait -= n
			i += n
			continue
		}
		if len(p.fifo) == 0 {
			p.refill()
			continue
		}
		n := copy(frame[i:], p.fifo)
		p.fifo = p.fifo[n:]
		i += n
	}
	pcm.Volume(frame, p.volume)
}

// refill takes the next run of samples into fifo, or handles the end of a
// loop; p.mu is held.
func (p *WAVPlayer) refill() {
	run, err := p.src.next()
	if len(run) > 0 {
		p.fifo = run
		return
	}
	if !errors.Is(err, io.EOF) {
		p.finish(fmt.Errorf("mixer: player %s: %w", p.path, err))
		return
	}
	p.played++
	if p.loops != 0 && p.played >= p.loops {
		p.finish(nil)
		return
	}
	if err := p.src.rewind(); err != nil {
		p.finish(fmt.Errorf("mixer: player %s: %w", p.path, err))
		return
	}
	p.wait = p.pause
	if p.pause == 0 {
		// A file without samples looping forever would spin: it ends.
		run, err := p.src.next()
		switch {
		case len(run) > 0:
			p.fifo = run
		case errors.Is(err, io.EOF):
			p.finish(nil)
		default:
			p.finish(fmt.Errorf("mixer: player %s: %w", p.path, err))
		}
	}
}
