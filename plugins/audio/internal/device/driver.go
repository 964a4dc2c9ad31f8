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

	mu     sync.Mutex
	stream Stream
	cfg    Config
	onNull bool
	closed bool
}

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
	if d.stream != nil {
		if err := d.stream.Close(); err != nil {
			d.logger.Warn("closing audio device", "error", err)
		}
		d.stream = nil
	}
	d.cfg = cfg
	var openErr error
	if !cfg.IsNull() && d.backend != nil {
		s, err := d.backend.Open(ctx, cfg, d.proc)
		if err == nil {
			d.stream, d.onNull = s, false
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
	if d.stream == nil {
		return nil
	}
	err := d.stream.Close()
	d.stream = nil
	return err
}
