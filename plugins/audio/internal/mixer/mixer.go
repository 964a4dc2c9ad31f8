package mixer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
)

// DefaultSampleRate is the reference's default audio.sample_rate.
const DefaultSampleRate = 32000

// Mixer mixes its ports' audio on a 20 ms clock. Its methods are safe for
// concurrent use.
type Mixer struct {
	rate   int
	spf    int
	cfg    device.Config
	driver *device.Driver
	logger *slog.Logger
	dev    *devicePort

	mu      sync.Mutex
	slots   []*slot // in the order added; ticks visit them in this order
	byPort  map[Port]*slot
	volume  int
	closed  bool
	scratch [][][]int16 // per worker of a tick: the frames a sink mixes
	active  []*slot     // the sources read this tick
	sinks   []*slot     // the sinks written this tick
}

// perWorker is how many ports one goroutine of a tick serves at least: a
// mixer of a few calls runs its tick on the clock's goroutine alone, one
// of hundreds spreads it over the processors, so that the last call's
// packet of a tick does not wait for every other call's to be encoded,
// encrypted and sent (issue 14).
const perWorker = 64

// slot is a port's place in the Mixer.
type slot struct {
	port  Port
	src   Source    // nil if the port is not a Source
	sink  Sink      // nil if the port is not a Sink
	rated RatedPort // nil if the port works at the Mixer's rate
	muted bool
	// in holds the connections from each source into this sink (a few:
	// a slice, iterated every tick).
	in     []inLink
	fanout int // connections out of this source
	// frame is what the source produced this tick, at rate; silent tells
	// that it is silence not worth mixing (muted, or the device without
	// capture).
	frame  []int16
	rate   int // this tick's
	silent bool
	level  int
	ticks  uint32  // frames read
	mixed  []int16 // the sink's mix of its sources
}

// levelEvery is how often, in frames, a source's level is measured.
const levelEvery = 5

// inLink is a sink's connection from one source.
type inLink struct {
	from *slot
	l    *link
}

// linkFrom returns the connection from from into s, nil when none.
func (s *slot) linkFrom(from *slot) *link {
	for _, e := range s.in {
		if e.from == from {
			return e.l
		}
	}
	return nil
}

// dropLink removes the connection from from into s.
func (s *slot) dropLink(from *slot) {
	s.in = slices.DeleteFunc(s.in, func(e inLink) bool { return e.from == from })
}

// link is one source's connection into one sink: n counts the Connects;
// rs converts the source's rate to the sink's when they differ.
type link struct {
	n    int
	rs   *pcm.Resampler
	fifo []int16
	out  []int16
}

// convert returns frame (20 ms at from Hz) as n samples at to Hz.
func (l *link) convert(frame []int16, from, to, n int) []int16 {
	if l.rs == nil || l.rs.From() != from || l.rs.To() != to {
		rs, err := pcm.NewResampler(from, to)
		if err != nil { // rates are checked before: not reached
			return nil
		}
		l.rs, l.fifo = rs, l.fifo[:0]
	}
	l.fifo = l.rs.Resample(l.fifo, frame)
	if cap(l.out) < n {
		l.out = make([]int16, n)
	}
	out := l.out[:n]
	c := copy(out, l.fifo)
	clear(out[c:])
	l.fifo = append(l.fifo[:0], l.fifo[c:]...)
	return out
}

// Option configures a Mixer.
type Option func(*config)

type config struct {
	rate       int
	backend    device.Backend
	null       device.Backend
	input      string
	output     string
	logger     *slog.Logger
	outputOnly bool
}

// WithSampleRate sets the mixer's rate (16000, 32000 or 48000 in the
// reference's settings; any of pcm.SupportedRates works).
func WithSampleRate(rate int) Option { return func(c *config) { c.rate = rate } }

// WithBackend sets the device backend (none: the mixer runs on the null clock).
func WithBackend(b device.Backend) Option { return func(c *config) { c.backend = b } }

// WithDevices selects the input and output devices by name or ID
// (device.SystemDefault by default; device.None for no device).
func WithDevices(input, output string) Option {
	return func(c *config) { c.input, c.output = input, output }
}

// WithNullClock replaces the real-time null clock (tests step it).
func WithNullClock(b device.Backend) Option { return func(c *config) { c.null = b } }

// WithLogger sets the logger (slog.Default() if not given).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// NewVoice returns the voice mixer: microphone and speaker
// (device.SystemDefault unless WithDevices says otherwise).
func NewVoice(opts ...Option) (*Mixer, error) { return newMixer(false, opts) }

// NewAlert returns the alert mixer: an output device only, for ringing.
func NewAlert(opts ...Option) (*Mixer, error) { return newMixer(true, opts) }

func newMixer(outputOnly bool, opts []Option) (*Mixer, error) {
	c := config{rate: DefaultSampleRate, input: device.SystemDefault, output: device.SystemDefault, logger: slog.Default(), outputOnly: outputOnly}
	for _, o := range opts {
		o(&c)
	}
	if outputOnly {
		c.input = device.None
	}
	if err := pcm.CheckRate(c.rate); err != nil {
		return nil, fmt.Errorf("mixer: %w", err)
	}
	m := &Mixer{
		rate:   c.rate,
		spf:    pcm.SamplesPerFrame(c.rate),
		cfg:    device.Config{Input: c.input, Output: c.output, SampleRate: c.rate},
		logger: c.logger.With("component", "audio-mixer"),
		byPort: map[Port]*slot{},
		volume: 100,
	}
	m.dev = &devicePort{alert: outputOnly}
	dopts := []device.DriverOption{device.WithLogger(c.logger)}
	if c.null != nil {
		dopts = append(dopts, device.WithNull(c.null))
	}
	m.driver = device.NewDriver(c.backend, m, dopts...)
	if err := m.add(m.dev); err != nil {
		return nil, err
	}
	return m, nil
}

// SampleRate returns the mixer's rate in Hz.
func (m *Mixer) SampleRate() int { return m.rate }

// SamplesPerFrame returns the length of the frames the ports exchange.
func (m *Mixer) SamplesPerFrame() int { return m.spf }

// Device returns the port of the sound device: a Source of the captured
// microphone audio and a Sink playing to the speaker. Muting it mutes the
// microphone (the reference's mixer.muted).
func (m *Mixer) Device() Port { return m.dev }

// Start opens the configured devices and starts the clock. If a device
// cannot be opened, the clock runs on the null device and Start returns the
// *device.OpenError; the Mixer is usable either way.
func (m *Mixer) Start(ctx context.Context) error {
	m.mu.Lock()
	cfg := m.cfg
	m.mu.Unlock()
	return m.driver.Use(ctx, cfg)
}

// SetDevices switches devices while the Mixer runs (the input is ignored by
// an alert mixer), with the same fallback as Start.
func (m *Mixer) SetDevices(ctx context.Context, input, output string) error {
	if m.dev.alert {
		input = device.None
	}
	cfg := device.Config{Input: input, Output: output, SampleRate: m.rate}
	err := m.driver.Use(ctx, cfg)
	m.mu.Lock()
	m.cfg = cfg
	m.mu.Unlock()
	return err
}

// Devices returns the devices in use.
func (m *Mixer) Devices() device.Config { return m.driver.Config() }

// OnNullDevice reports whether the Mixer is clocked by the null device.
func (m *Mixer) OnNullDevice() bool { return m.driver.OnNull() }

// DeviceLost returns an error wrapping device.ErrDeviceLost if the device
// stopped on its own since the last Start or SetDevices; the Mixer then runs
// on the null clock.
func (m *Mixer) DeviceLost() error { return m.driver.Lost() }

// Close stops the clock. Ports are not closed: they belong to the caller.
func (m *Mixer) Close() error {
	err := m.driver.Close()
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return err
}

// Add adds a port, which must be a Source, a Sink or both.
func (m *Mixer) Add(p Port) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return m.add(p)
}

func (m *Mixer) add(p Port) error {
	if _, ok := m.byPort[p]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicatePort, p.Name())
	}
	for _, s := range m.slots {
		if s.port.Name() == p.Name() {
			return fmt.Errorf("%w: name %s", ErrDuplicatePort, p.Name())
		}
	}
	s := &slot{port: p, rate: m.rate} // frame: sized by the first read, at the port's rate
	s.src, _ = p.(Source)
	s.sink, _ = p.(Sink)
	s.rated, _ = p.(RatedPort)
	if s.src == nil && s.sink == nil {
		return fmt.Errorf("%w: %s is neither a Source nor a Sink", ErrNotSink, p.Name())
	}
	m.slots = append(m.slots, s)
	m.byPort[p] = s
	return nil
}

// Remove removes a port and all its connections.
func (m *Mixer) Remove(p Port) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.slot(p)
	if err != nil {
		return err
	}
	if p == m.dev {
		return fmt.Errorf("%w: remove", ErrDevicePort)
	}
	for _, o := range m.slots {
		if l := o.linkFrom(s); l != nil {
			s.fanout -= l.n
			o.dropLink(s)
		}
	}
	for _, e := range s.in {
		e.from.fanout -= e.l.n
	}
	m.slots = slices.DeleteFunc(m.slots, func(o *slot) bool { return o == s })
	delete(m.byPort, p)
	return nil
}

func (m *Mixer) slot(p Port) (*slot, error) {
	s, ok := m.byPort[p]
	if !ok {
		name := "<nil>"
		if p != nil {
			name = p.Name()
		}
		return nil, fmt.Errorf("%w: %s", ErrUnknownPort, name)
	}
	return s, nil
}

// Connect sends the audio of src to dst. Connections are counted: each
// Connect needs its own Disconnect.
func (m *Mixer) Connect(src, dst Port) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to, err := m.pair(src, dst)
	if err != nil {
		return err
	}
	l := to.linkFrom(from)
	if l == nil {
		l = &link{}
		to.in = append(to.in, inLink{from, l})
	}
	l.n++
	from.fanout++
	return nil
}

// Disconnect undoes one Connect of src to dst.
func (m *Mixer) Disconnect(src, dst Port) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to, err := m.pair(src, dst)
	if err != nil {
		return err
	}
	l := to.linkFrom(from)
	if l == nil {
		return fmt.Errorf("%w: %s -> %s", ErrNotConnected, src.Name(), dst.Name())
	}
	if l.n--; l.n == 0 {
		to.dropLink(from)
	}
	from.fanout--
	return nil
}

func (m *Mixer) pair(src, dst Port) (from, to *slot, err error) {
	if from, err = m.slot(src); err != nil {
		return nil, nil, err
	}
	if to, err = m.slot(dst); err != nil {
		return nil, nil, err
	}
	switch {
	case from == to:
		return nil, nil, fmt.Errorf("%w: %s", ErrSelfConnection, src.Name())
	case from.src == nil:
		return nil, nil, fmt.Errorf("%w: %s", ErrNotSource, src.Name())
	case to.sink == nil:
		return nil, nil, fmt.Errorf("%w: %s", ErrNotSink, dst.Name())
	}
	return from, to, nil
}

// Connected reports whether src is connected to dst.
func (m *Mixer) Connected(src, dst Port) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to := m.byPort[src], m.byPort[dst]
	return from != nil && to != nil && to.linkFrom(from) != nil
}

// SetMuted mutes or unmutes what a port produces.
func (m *Mixer) SetMuted(p Port, muted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.slot(p)
	if err != nil {
		return err
	}
	s.muted = muted
	return nil
}

// Muted reports whether a port is muted (false for unknown ports).
func (m *Mixer) Muted(p Port) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byPort[p]
	return s != nil && s.muted
}

// SetOutputVolume sets the speaker volume in percent (100 unchanged; the
// reference's alert mixer uses 0 when audio.silent is set).
func (m *Mixer) SetOutputVolume(percent int) {
	m.mu.Lock()
	m.volume = max(percent, 0)
	m.mu.Unlock()
}

// Level returns the peak level (0..255) of the last frame a Source produced.
func (m *Mixer) Level(p Port) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.slot(p)
	if err != nil {
		return 0, err
	}
	return s.level, nil
}

// ProcessFrame runs one tick of the clock: in is the microphone's frame and
// out receives the speaker's. The device.Driver calls it; it implements
// device.Processor. A nil in is silence (no capture) and a nil out is
// played nowhere: the device is then left out of the mix altogether, so
// that calls on a machine without a sound device pay nothing for it.
//
// Every Source that feeds a Sink is read once, at its own rate; every Sink
// gets the mix of its Sources at its rate, each converted on its link when
// the rates differ. A Sink with a single Source of its rate gets that
// Source's frame as it is. With many ports the reads, then the writes, are
// spread over the processors: a port's own calls never overlap, and every
// read of a tick happens before any write.
func (m *Mixer) ProcessFrame(in, out []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dev.in, m.dev.out, m.dev.volume = in, out, m.volume
	defer func() { m.dev.in, m.dev.out = nil, nil }()
	clear(out)
	m.active, m.sinks = m.active[:0], m.sinks[:0]
	for _, s := range m.slots {
		read := s.src != nil && s.fanout > 0
		write := s.sink != nil && (s.port != m.dev || out != nil)
		if read || write {
			// Once a tick: a duplex port reads and writes at one rate.
			s.rate = m.rateOf(s)
		}
		if read {
			m.active = append(m.active, s)
		}
		if write {
			m.sinks = append(m.sinks, s)
		}
	}
	m.parallel(m.active, func(s *slot, _ int) { m.read(s, in == nil) })
	m.parallel(m.sinks, m.write)
}

// parallel runs f on every slot, spread over the processors when there
// are many; f gets the index of its worker. It returns when all are done.
func (m *Mixer) parallel(slots []*slot, f func(s *slot, worker int)) {
	workers := min(runtime.GOMAXPROCS(0), len(slots)/perWorker)
	for len(m.scratch) < max(workers, 1) {
		m.scratch = append(m.scratch, nil)
	}
	if workers <= 1 {
		for _, s := range slots {
			f(s, 0)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(slots) + workers - 1) / workers
	for w := range workers {
		part := slots[min(w*per, len(slots)):min((w+1)*per, len(slots))]
		wg.Go(func() {
			for _, s := range part {
				f(s, w)
			}
		})
	}
	wg.Wait()
}

// read takes a source's frame of the tick, at its rate; noCapture tells
// that the device captured nothing.
func (m *Mixer) read(s *slot, noCapture bool) {
	if n := pcm.SamplesPerFrame(s.rate); len(s.frame) != n {
		s.frame = slices.Grow(s.frame[:0], n)[:n]
	}
	if s.muted || (s.port == m.dev && noCapture) {
		s.silent, s.level = true, 0
		return
	}
	s.src.ReadFrame(s.frame)
	s.silent = false
	// A level meter needs no 20 ms resolution: every levelEvery ticks,
	// and at once after silence.
	if s.ticks++; s.ticks%levelEvery == 1 || s.level == 0 {
		s.level = pcm.Level(s.frame)
	}
}

// write gives a sink the mix of its sources at its rate.
func (m *Mixer) write(s *slot, worker int) {
	rate := s.rate
	n := pcm.SamplesPerFrame(rate)
	srcs := m.scratch[worker][:0]
	for _, e := range s.in {
		from, l := e.from, e.l
		switch {
		case from == s || from.silent:
		case from.rate == rate:
			srcs = append(srcs, from.frame)
		default:
			if f := l.convert(from.frame, from.rate, rate, n); f != nil {
				srcs = append(srcs, f)
			}
		}
	}
	m.scratch[worker] = srcs
	if len(srcs) == 1 {
		s.sink.WriteFrame(srcs[0])
		return
	}
	if cap(s.mixed) < n {
		s.mixed = make([]int16, n)
	}
	mixed := s.mixed[:n]
	pcm.Mix(mixed, srcs...)
	s.sink.WriteFrame(mixed)
}

// rateOf is the rate s works at this tick.
func (m *Mixer) rateOf(s *slot) int {
	if s.rated != nil {
		if r := s.rated.SampleRate(); r != m.rate && pcm.CheckRate(r) == nil {
			return r
		}
	}
	return m.rate
}

var (
	_ device.Processor = (*Mixer)(nil)
	_ Source           = (*devicePort)(nil)
	_ Sink             = (*devicePort)(nil)
)

// devicePort is the sound card as a port.
type devicePort struct {
	in, out []int16
	volume  int
	alert   bool
}

func (d *devicePort) Name() string { return "device" }

func (d *devicePort) ReadFrame(frame []int16) {
	n := copy(frame, d.in)
	clear(frame[n:])
}

func (d *devicePort) WriteFrame(frame []int16) {
	n := copy(d.out, frame)
	pcm.Volume(d.out[:n], d.volume)
}
