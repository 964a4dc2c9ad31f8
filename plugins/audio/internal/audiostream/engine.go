package audiostream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpmux"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// engine is what the streams of one plugin share: the voice mixer (the
// microphone and speaker, the clock of every stream), the alert mixer and
// the RTP port allocators. The mixers run only while used: the first user
// starts one, the last one to release it closes it, so no goroutine outlives
// the streams and methods that need it — except that with a sound-device
// backend the voice mixer stays open for linger after its last stream, as a
// softphone keeps its sound device a moment after a call (PJSUA's
// snd_auto_close_time, 1 s): back-to-back calls do not open the device again
// each time, which on a machine whose sound library finds no card means
// parsing its configuration and logging the failure once per call.
type engine struct {
	backend device.Backend // nil: the null clock only
	logger  *slog.Logger
	linger  time.Duration // how long an unused voice mixer stays open (with a backend)

	mu         sync.Mutex
	devices    sdkaudio.Devices // selected devices ("" = from the account)
	voice      *mixer.Mixer
	voiceRefs  int
	voiceIdle  *time.Timer // closes the unused voice mixer; nil while used
	closed     bool        // the plugin closed: no lingering
	alert      *mixer.Mixer
	alertRefs  int
	allocators map[ports.Range]*ports.Allocator
	// pools keep the pairs of ended streams bound for the next ones, per
	// range (a stream of its own: rtp.shared_sockets = 0).
	pools       map[ports.Range]*ports.Pool
	poolOptions []ports.PoolOption

	// files shares the decoded input files among the streams that play
	// them (a thousand calls playing one prompt decode it once).
	files *mixer.FileCache

	// shared are the socket pairs shared by streams (rtp.shared_sockets),
	// per local address, port range and count, open while a stream
	// uses them.
	shared map[sharedKey]*sharedPairs
}

type sharedKey struct {
	ip    netip.Addr
	r     ports.Range
	pairs int
}

type sharedPairs struct {
	mux  *rtpmux.Mux
	refs int
}

// defaultLinger is how long an unused voice mixer keeps its sound device.
const defaultLinger = time.Second

func newEngine(backend device.Backend, logger *slog.Logger, linger time.Duration) *engine {
	return &engine{backend: backend, logger: logger, linger: linger, allocators: map[ports.Range]*ports.Allocator{}, pools: map[ports.Range]*ports.Pool{}, files: mixer.NewFileCache(0), shared: map[sharedKey]*sharedPairs{}}
}

// allocate returns a stream's RTP/RTCP pair from r on ip: one an ended
// stream released, or one bound anew, walking r with one rolling allocator
// per range as the reference does.
func (e *engine) allocate(ctx context.Context, r ports.Range, ip net.IP) (rtp, rtcp *ports.Endpoint, err error) {
	e.mu.Lock()
	p, ok := e.pools[r]
	if !ok {
		p = ports.NewPool(e.allocatorLocked(r), e.poolOptions...)
		e.pools[r] = p
	}
	e.mu.Unlock()
	return p.Get(ctx, ip)
}

// allocatorLocked returns r's allocator, made on first use. e.mu is held.
func (e *engine) allocatorLocked(r ports.Range) *ports.Allocator {
	a, ok := e.allocators[r]
	if !ok {
		a = ports.New(r)
		e.allocators[r] = a
	}
	return a
}

// acquireShared returns the shared socket pairs for ip, r and n, binding
// n pairs from r the first time. Each acquire is released once.
func (e *engine) acquireShared(ctx context.Context, r ports.Range, ip netip.Addr, n int) (*rtpmux.Mux, error) {
	key := sharedKey{ip, r, n}
	e.mu.Lock()
	defer e.mu.Unlock()
	if sp, ok := e.shared[key]; ok {
		sp.refs++
		return sp.mux, nil
	}
	a := e.allocatorLocked(r)
	var pairs []rtpmux.Pair
	for range n {
		p, err := a.Allocate(ctx, ip.AsSlice())
		if err != nil {
			for _, q := range pairs {
				_ = q.RTP.Close()
				_ = q.RTCP.Close()
			}
			return nil, fmt.Errorf("shared RTP ports: %w", err)
		}
		pairs = append(pairs, rtpmux.Pair{RTP: p.RTP, RTCP: p.RTCP})
	}
	m, err := rtpmux.New(pairs, rtpmux.WithLogger(e.logger))
	if err != nil {
		return nil, err
	}
	e.shared[key] = &sharedPairs{mux: m, refs: 1}
	return m, nil
}

// releaseShared drops one use of m and closes it after the last.
func (e *engine) releaseShared(m *rtpmux.Mux) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, sp := range e.shared {
		if sp.mux != m {
			continue
		}
		if sp.refs--; sp.refs == 0 {
			delete(e.shared, key)
			if err := m.Close(); err != nil {
				e.logger.Debug("closing shared RTP ports", "error", err)
			}
		}
		return
	}
}

func (e *engine) mixerOptions(rate int, input, output string) []mixer.Option {
	if e.backend == nil {
		input, output = device.None, device.None // the null clock, quietly
	}
	opts := []mixer.Option{mixer.WithSampleRate(rate), mixer.WithDevices(input, output), mixer.WithLogger(e.logger)}
	if e.backend != nil {
		opts = append(opts, mixer.WithBackend(e.backend))
	}
	return opts
}

// acquireVoice returns the running voice mixer, starting it at rate with
// the selected devices (else input and output) if nobody uses it yet. A
// device that cannot be opened leaves the mixer on the null clock, which is
// logged, not returned: a headless machine still carries calls.
func (e *engine) acquireVoice(ctx context.Context, rate int, input, output string) (*mixer.Mixer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.voice != nil {
		if e.voiceIdle != nil { // lingering: used again
			e.voiceIdle.Stop()
			e.voiceIdle = nil
		}
		e.voiceRefs++
		return e.voice, nil
	}
	if e.devices.Input != "" {
		input = e.devices.Input
	}
	if e.devices.Output != "" {
		output = e.devices.Output
	}
	m, err := mixer.NewVoice(e.mixerOptions(rate, input, output)...)
	if err != nil {
		return nil, fmt.Errorf("voice mixer: %w", err)
	}
	if err := m.Start(ctx); err != nil {
		var open *device.OpenError
		if !errors.As(err, &open) {
			_ = m.Close()
			return nil, fmt.Errorf("voice mixer: %w", err)
		}
		e.logger.Warn("sound device unavailable, using the null clock", "error", err)
	}
	e.voice, e.voiceRefs = m, 1
	return m, nil
}

// releaseVoice drops one use of the voice mixer and closes it after the
// last, at once on the null clock, after e.linger with a device backend.
func (e *engine) releaseVoice() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.voiceRefs--
	if e.voiceRefs != 0 || e.voice == nil {
		return
	}
	if e.backend == nil || e.linger <= 0 || e.closed {
		e.closeVoiceLocked()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(e.linger, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.voiceIdle == t { // not used again since, nor replaced
			e.closeVoiceLocked()
		}
	})
	e.voiceIdle = t
}

// close closes a lingering voice mixer; the plugin is closing (its streams
// have ended), so a voice mixer released later closes at once.
func (e *engine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for r, p := range e.pools {
		_ = p.Close() // pairs still in use close when released
		delete(e.pools, r)
	}
	if e.voiceIdle != nil {
		e.voiceIdle.Stop()
		e.closeVoiceLocked()
	}
}

// closeVoiceLocked closes the voice mixer; e.mu is held.
func (e *engine) closeVoiceLocked() {
	if err := e.voice.Close(); err != nil {
		e.logger.Warn("closing the voice mixer", "error", err)
	}
	e.voice, e.voiceIdle = nil, nil
}

// acquireAlert returns the running alert mixer, starting it if needed.
func (e *engine) acquireAlert(ctx context.Context, output string) (*mixer.Mixer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.alert != nil {
		e.alertRefs++
		return e.alert, nil
	}
	if e.devices.Alert != "" {
		output = e.devices.Alert
	}
	m, err := mixer.NewAlert(e.mixerOptions(mixer.DefaultSampleRate, device.None, output)...)
	if err != nil {
		return nil, fmt.Errorf("alert mixer: %w", err)
	}
	if err := m.Start(ctx); err != nil {
		var open *device.OpenError
		if !errors.As(err, &open) {
			_ = m.Close()
			return nil, fmt.Errorf("alert mixer: %w", err)
		}
		e.logger.Warn("alert device unavailable, using the null clock", "error", err)
	}
	e.alert, e.alertRefs = m, 1
	return m, nil
}

func (e *engine) releaseAlert() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alertRefs--
	if e.alertRefs == 0 && e.alert != nil {
		if err := e.alert.Close(); err != nil {
			e.logger.Warn("closing the alert mixer", "error", err)
		}
		e.alert = nil
	}
}

// listDevices lists the backend's devices and the ones in use.
func (e *engine) listDevices(ctx context.Context) (sdkaudio.DeviceList, error) {
	var b device.Backend = &device.Null{}
	if e.backend != nil {
		b = e.backend
	}
	infos, err := device.List(ctx, b)
	out := sdkaudio.DeviceList{Current: e.current()}
	for _, d := range infos {
		out.Devices = append(out.Devices, sdkaudio.Device{ID: d.ID, Name: d.Name, Input: d.Input, Output: d.Output, Default: d.Default})
	}
	if err != nil {
		// The built-in entries are still listed; say why the rest is not.
		e.logger.Warn("listing sound devices", "error", err)
	}
	return out, nil
}

// current reports the devices in use, or selected for the next start.
func (e *engine) current() sdkaudio.Devices {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.currentLocked()
}

func (e *engine) currentLocked() sdkaudio.Devices {
	cur := e.devices
	if e.voice != nil {
		cfg := e.voice.Devices()
		cur.Input, cur.Output = cfg.Input, cfg.Output
		cur.OnNull = e.voice.OnNullDevice()
	}
	if e.alert != nil {
		cur.Alert = e.alert.Devices().Output
		cur.OnNull = cur.OnNull || e.alert.OnNullDevice()
	}
	return cur
}

// selectDevices switches devices; empty names keep the current ones. A
// device that fails to open leaves its mixer on the null clock. The lock is
// held throughout so that a mixer cannot close meanwhile.
func (e *engine) selectDevices(ctx context.Context, args sdkaudio.SelectDevicesArgs) sdkaudio.Devices {
	e.mu.Lock()
	defer e.mu.Unlock()
	if args.Input != "" {
		e.devices.Input = args.Input
	}
	if args.Output != "" {
		e.devices.Output = args.Output
	}
	if args.Alert != "" {
		e.devices.Alert = args.Alert
	}
	if e.voice != nil && (args.Input != "" || args.Output != "") {
		cur := e.voice.Devices()
		in, out := cur.Input, cur.Output
		if args.Input != "" {
			in = args.Input
		}
		if args.Output != "" {
			out = args.Output
		}
		if err := e.voice.SetDevices(ctx, in, out); err != nil {
			e.logger.Warn("switching the voice devices", "input", in, "output", out, "error", err)
		}
	}
	if e.alert != nil && args.Alert != "" {
		if err := e.alert.SetDevices(ctx, device.None, args.Alert); err != nil {
			e.logger.Warn("switching the alert device", "output", args.Alert, "error", err)
		}
	}
	return e.currentLocked()
}
