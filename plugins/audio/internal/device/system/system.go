package system

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	ma "github.com/gen2brain/malgo"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
)

// DefaultBackends returns the order in which miniaudio backends are tried.
func DefaultBackends() []ma.Backend { return []ma.Backend{ma.BackendPulseaudio, ma.BackendAlsa} }

// ErrNoBackend means miniaudio found none of the requested backends.
var ErrNoBackend = errors.New("system: no usable audio backend")

// Backend opens real sound devices. Close it when done.
type Backend struct {
	ctx    *ma.AllocatedContext
	logger *slog.Logger
	mu     sync.Mutex // serialises device init/uninit on the context
}

var _ device.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*options)

type options struct {
	backends []ma.Backend
	logger   *slog.Logger
}

// WithBackends replaces the order of miniaudio backends to try.
func WithBackends(b ...ma.Backend) Option { return func(o *options) { o.backends = b } }

// WithLogger sets the logger (slog.Default() if not given).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New initialises a miniaudio context.
func New(opts ...Option) (*Backend, error) {
	o := options{backends: DefaultBackends(), logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	logger := o.logger.With("component", "audio-system")
	ctx, err := ma.InitContext(o.backends, ma.ContextConfig{}, func(msg string) {
		logger.Debug("miniaudio", "message", msg)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBackend, err)
	}
	return &Backend{ctx: ctx, logger: logger}, nil
}

// Name returns "miniaudio".
func (b *Backend) Name() string { return "miniaudio" }

// Close releases the context. Close every Stream first.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil
	}
	err := b.ctx.Uninit()
	b.ctx.Free()
	b.ctx = nil
	return err
}

// Devices lists the playback devices, then the capture devices.
func (b *Backend) Devices(ctx context.Context) ([]device.Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, device.ErrClosed
	}
	var out []device.Info
	for _, kind := range []ma.DeviceType{ma.Playback, ma.Capture} {
		infos, err := b.ctx.Devices(kind)
		if err != nil {
			return out, fmt.Errorf("system: list devices: %w", err)
		}
		for _, in := range infos {
			out = append(out, device.Info{
				ID:      in.ID.String(),
				Name:    in.Name(),
				Input:   kind == ma.Capture,
				Output:  kind == ma.Playback,
				Default: in.IsDefault != 0,
			})
		}
	}
	return out, nil
}

// resolve returns the miniaudio ID of the named device of kind, nil for the
// default device.
func (b *Backend) resolve(kind ma.DeviceType, name string) (*ma.DeviceID, error) {
	if name == "" || name == device.SystemDefault {
		return nil, nil
	}
	infos, err := b.ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("system: list devices: %w", err)
	}
	for _, in := range infos {
		if in.Name() == name || in.ID.String() == name {
			id := in.ID
			return &id, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", device.ErrDeviceNotFound, name)
}

// Open starts a Stream on the devices of cfg.
func (b *Backend) Open(ctx context.Context, cfg device.Config, p device.Processor) (device.Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hasIn := cfg.Input != "" && cfg.Input != device.None
	hasOut := cfg.Output != "" && cfg.Output != device.None
	var kind ma.DeviceType
	switch {
	case hasIn && hasOut:
		kind = ma.Duplex
	case hasOut:
		kind = ma.Playback
	case hasIn:
		kind = ma.Capture
	default:
		return nil, fmt.Errorf("%w: neither input nor output", device.ErrUnsupported)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, device.ErrClosed
	}
	// The IDs live in Go memory; pinned, miniaudio may read them during init
	// (malgo's DeviceID.Pointer would copy them to C memory never freed).
	var pin runtime.Pinner
	defer pin.Unpin()
	dc := ma.DefaultDeviceConfig(kind)
	dc.SampleRate = uint32(cfg.SampleRate)
	dc.PeriodSizeInMilliseconds = uint32(pcm.FrameDuration.Milliseconds())
	dc.Periods = 3
	if hasOut {
		id, err := b.resolve(ma.Playback, cfg.Output)
		if err != nil {
			return nil, err
		}
		dc.Playback.Format, dc.Playback.Channels = ma.FormatS16, 1
		if id != nil {
			pin.Pin(id)
			dc.Playback.DeviceID = unsafe.Pointer(id)
		}
	}
	if hasIn {
		id, err := b.resolve(ma.Capture, cfg.Input)
		if err != nil {
			return nil, err
		}
		dc.Capture.Format, dc.Capture.Channels = ma.FormatS16, 1
		if id != nil {
			pin.Pin(id)
			dc.Capture.DeviceID = unsafe.Pointer(id)
		}
	}

	s := newStream(cfg.SampleRate, p, hasIn, hasOut, b.logger)
	dev, err := ma.InitDevice(b.ctx.Context, dc, ma.DeviceCallbacks{Data: s.onData, Stop: s.onStop})
	if err != nil {
		return nil, fmt.Errorf("system: open device: %w", err)
	}
	s.dev = dev
	s.start()
	if err := dev.Start(); err != nil {
		s.closeDevice()
		return nil, fmt.Errorf("system: start device: %w", err)
	}
	b.logger.Debug("device started", "type", kind, "rate", dev.SampleRate())
	return s, nil
}

// Frames the playback ring is kept ahead of the device, and the most the
// capture ring may lag before frames are dropped.
const (
	aheadFrames   = 3
	maxLagFrames  = 4
	ringFrames    = 32
	callbackLimit = 48000 // samples converted per callback chunk
	// stallTimeout is how long a started device may go without calling
	// back before it counts as lost: miniaudio does not report a PulseAudio
	// server that died.
	stallTimeout = 2 * time.Second
)

// stream is an open miniaudio device.
type stream struct {
	spf    int
	proc   device.Processor
	hasIn  bool
	hasOut bool
	logger *slog.Logger
	dev    *ma.Device

	play, capt *device.Ring
	cbOut      []int16 // used by the callback only
	cbIn       []int16 // used by the callback only

	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	closing  atomic.Bool
	lost     chan struct{}
	lostOnce sync.Once
	lastCall atomic.Int64 // time of the last callback, UnixNano
	maxChunk atomic.Int64 // largest playback request of a callback, in samples

	capturing bool // the worker is taking captured audio (see fill)
}

var _ device.LostStream = (*stream)(nil)

func newStream(rate int, p device.Processor, hasIn, hasOut bool, logger *slog.Logger) *stream {
	spf := pcm.SamplesPerFrame(rate)
	return &stream{
		spf: spf, proc: p, hasIn: hasIn, hasOut: hasOut, logger: logger,
		play: device.NewRing(ringFrames * spf), capt: device.NewRing(ringFrames * spf),
		cbOut: make([]int16, callbackLimit), cbIn: make([]int16, callbackLimit),
		wake: make(chan struct{}, 1), done: make(chan struct{}), lost: make(chan struct{}),
	}
}

// start fills the playback ring and starts the worker goroutine.
func (s *stream) start() {
	in, out := make([]int16, s.spf), make([]int16, s.spf)
	if s.hasOut {
		s.fill(in, out)
	}
	s.lastCall.Store(time.Now().UnixNano())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		watchdog := time.NewTicker(stallTimeout / 4)
		defer watchdog.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-watchdog.C:
				if time.Since(time.Unix(0, s.lastCall.Load())) > stallTimeout {
					s.markLost("no callback for " + stallTimeout.String())
				}
				continue
			case <-s.wake:
			}
			if s.hasOut {
				s.fill(in, out)
				continue
			}
			for s.capt.Len() >= s.spf {
				s.capt.Read(in)
				clear(out)
				s.proc.ProcessFrame(in, out)
			}
		}
	}()
}

// fill runs the Processor until the playback ring holds aheadFrames, or
// one frame more than the largest callback asked for if the device's
// periods are longer than asked. The capture ring works as a small jitter
// buffer: captured audio is used once a callback's worth plus a frame has
// gathered, and after running dry it gathers again, with silence meanwhile.
// Only the worker calls fill.
func (s *stream) fill(in, out []int16) {
	chunk := int(s.maxChunk.Load())
	for s.capt.Len() > max(maxLagFrames*s.spf, 2*chunk+s.spf) {
		s.capt.Read(in) // the device delivers faster than it plays: drop
	}
	target := max(aheadFrames*s.spf, chunk+s.spf)
	target = min(target, s.play.Cap()-s.spf)
	for s.play.Len() < target {
		if !s.capturing && s.capt.Len() >= chunk+s.spf {
			s.capturing = true
		}
		if s.capturing && s.capt.Len() < s.spf {
			s.capturing = false
		}
		if s.capturing {
			s.capt.Read(in)
		} else {
			clear(in)
		}
		clear(out)
		s.proc.ProcessFrame(in, out)
		s.play.Write(out)
	}
}

// onData runs on miniaudio's thread: it moves samples and wakes the worker.
func (s *stream) onData(out, in []byte, frames uint32) {
	s.lastCall.Store(time.Now().UnixNano())
	for len(in) >= 2 {
		n := min(len(in)/2, len(s.cbIn))
		for i := 0; i < n; i++ {
			s.cbIn[i] = int16(binary.LittleEndian.Uint16(in[2*i:]))
		}
		s.capt.Write(s.cbIn[:n])
		in = in[2*n:]
	}
	if n := int64(len(out) / 2); n > s.maxChunk.Load() {
		s.maxChunk.Store(n)
	}
	for len(out) >= 2 {
		n := min(len(out)/2, len(s.cbOut))
		got := s.play.Read(s.cbOut[:n])
		clear(s.cbOut[got:n])
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(s.cbOut[i]))
		}
		out = out[2*n:]
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// onStop runs when miniaudio stops the device: on Close, or on its own
// when the device or the sound server goes away.
func (s *stream) onStop() {
	if !s.closing.Load() {
		s.markLost("stopped by miniaudio")
	}
}

func (s *stream) markLost(why string) {
	s.lostOnce.Do(func() {
		s.logger.Warn("audio device lost", "reason", why)
		close(s.lost)
	})
}

func (s *stream) isLost() bool {
	select {
	case <-s.lost:
		return true
	default:
		return false
	}
}

// Lost is closed when the device stops without Close being called.
func (s *stream) Lost() <-chan struct{} { return s.lost }

func (s *stream) closeDevice() {
	s.once.Do(func() {
		s.closing.Store(true)
		// A device whose sound server is gone cannot be uninitialised:
		// ma_device_uninit blocks forever. Such a device is abandoned (its
		// native memory and threads stay) rather than hang the mixer.
		if s.dev != nil && !s.isLost() {
			s.dev.Uninit()
		}
		close(s.done)
		s.wg.Wait()
	})
}

// Close stops the device, then the worker.
func (s *stream) Close() error {
	s.closeDevice()
	return nil
}
