package device

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// Driver keeps one Processor clocked by a device, switching devices at run
// time and falling back to the Null clock when a device fails to open.
type Driver struct {
	backend Backend
	null    Backend
	proc    Processor
	logger  *slog.Logger

	mu      sync.Mutex
	stream  Stream
	cfg     Config
	onNull  bool
	closed  bool
	unwatch chan struct{} // closed to stop the watcher of the current stream
	lostErr error         // why the last device stream was lost

	watchers sync.WaitGroup
}

// ErrDeviceLost means an open device stopped on its own; the Driver fell
// back to the Null clock.
var ErrDeviceLost = errors.New("device: lost")

// DriverOption configures a Driver.
type DriverOption func(*Driver)

// WithLogger sets the logger (slog.Default() if not given).
func WithLogger(l *slog.Logger) DriverOption { return func(d *Driver) { d.logger = l } }

// WithNull replaces the fallback clock (a real-time &Null{} by default).
func WithNull(b Backend) DriverOption { return func(d *Driver) { d.null = b } }

// NewDriver returns a Driver clocking p; backend may be nil, in which case
// every Config runs on the Null clock. Nothing runs until Use.
func NewDriver(backend Backend, p Processor, opts ...DriverOption) *Driver {
	d := &Driver{backend: backend, proc: p, null: &Null{}, logger: slog.Default()}
	for _, o := range opts {
		o(d)
	}
	d.logger = d.logger.With("component", "audio-device")
	return d
}

// Use closes the current Stream, if any, and opens cfg. If cfg uses no
// device, or the backend fails to open it, the Null clock runs instead; in
// the latter case Use returns an *OpenError wrapping the backend's error.
// The Processor is never called by two Streams at once.
func (d *Driver) Use(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.stopStream()
	d.cfg = cfg
	d.lostErr = nil
	var openErr error
	if !cfg.IsNull() && d.backend != nil {
		s, err := d.backend.Open(ctx, cfg, d.proc)
		if err == nil {
			d.stream, d.onNull = s, false
			d.watch(s)
			d.logger.Info("audio device opened", "backend", d.backend.Name(), "input", cfg.Input, "output", cfg.Output, "rate", cfg.SampleRate)
			return nil
		}
		openErr = &OpenError{Config: cfg, Err: err}
		d.logger.Warn("audio device unavailable, using the null device", "error", err)
	} else if !cfg.IsNull() {
		openErr = &OpenError{Config: cfg, Err: errors.New("no device backend")}
	}
	s, err := d.null.Open(ctx, cfg, d.proc)
	if err != nil {
		return errors.Join(openErr, err)
	}
	d.stream, d.onNull = s, true
	return openErr
}

// stopStream closes the current stream; d.mu is held.
func (d *Driver) stopStream() {
	if d.unwatch != nil {
		close(d.unwatch)
		d.unwatch = nil
	}
	if d.stream != nil {
		if err := d.stream.Close(); err != nil {
			d.logger.Warn("closing audio device", "error", err)
		}
		d.stream = nil
	}
}

// watch starts a goroutine that moves to the Null clock if s is lost; d.mu
// is held. The goroutine ends when s is lost or replaced, or on Close.
func (d *Driver) watch(s Stream) {
	ls, ok := s.(LostStream)
	if !ok {
		return
	}
	unwatch := make(chan struct{})
	d.unwatch = unwatch
	d.watchers.Add(1)
	go func() {
		defer d.watchers.Done()
		select {
		case <-unwatch:
			return
		case <-ls.Lost():
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.stream != s || d.closed {
			return
		}
		d.logger.Warn("audio device lost, using the null device", "input", d.cfg.Input, "output", d.cfg.Output)
		d.stopStream()
		d.lostErr = &OpenError{Config: d.cfg, Err: ErrDeviceLost}
		ns, err := d.null.Open(context.Background(), d.cfg, d.proc)
		if err != nil {
			d.logger.Error("null device", "error", err)
			return
		}
		d.stream, d.onNull = ns, true
	}()
}

// Lost returns an error wrapping ErrDeviceLost if the device of the last
// Use stopped on its own (the Driver then runs on the Null clock), else nil.
func (d *Driver) Lost() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lostErr
}

// Config returns the configuration last passed to Use.
func (d *Driver) Config() Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// OnNull reports whether the Null clock is running (no device, or the
// device failed to open).
func (d *Driver) OnNull() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.onNull
}

// Close stops the current Stream. The Driver cannot be used afterwards.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.unwatch != nil {
		close(d.unwatch)
		d.unwatch = nil
	}
	var err error
	if d.stream != nil {
		err = d.stream.Close()
		d.stream = nil
	}
	d.mu.Unlock()
	d.watchers.Wait()
	d.mu.Lock()
	return err
}
