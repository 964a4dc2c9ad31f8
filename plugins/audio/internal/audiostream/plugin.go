package audiostream

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/codecdir"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/tone"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// maxTones bounds a play_tones list.
const maxTones = 1000

// Option configures Plugin.
type Option func(*plugin)

// WithBackend sets the sound-device backend (default: none, the mixers run
// on the null clock). The plugin binary passes device/system's.
func WithBackend(b device.Backend) Option { return func(p *plugin) { p.backend = b } }

// WithLogger sets the logger of the shared mixers (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *plugin) { p.logger = l } }

// WithCodecs replaces the built-in codecs (default builtin.Codecs()).
func WithCodecs(codecs ...codec.Codec) Option { return func(p *plugin) { p.builtins = codecs } }

// WithCodecDirectory sets the default codec directory, for accounts
// without audio.codec_directory (default: "codecs" beside the plugin's
// executable).
func WithCodecDirectory(dir string) Option { return func(p *plugin) { p.codecDir = dir } }

// WithModuleOptions passes options to every codec module load (memory
// limit, loop budget).
func WithModuleOptions(opts ...module.Option) Option {
	return func(p *plugin) { p.moduleOpts = append(p.moduleOpts, opts...) }
}

// WithDeviceLinger sets how long the voice mixer keeps the sound device
// open after the last stream using it ended (default 1 s; 0 closes it at
// once). A call starting meanwhile uses the open device. Without a backend
// the null clock stops at once.
func WithDeviceLinger(d time.Duration) Option { return func(p *plugin) { p.linger = d } }

// WithPortPool sets how many released RTP/RTCP pairs the plugin keeps
// bound for the next streams (ports.DefaultPoolSize; 0: none, every pair
// is closed when its stream ends) and how long an unused one stays bound
// (ports.DefaultPoolLinger).
func WithPortPool(size int, linger time.Duration) Option {
	return func(p *plugin) { p.pool = []ports.PoolOption{ports.WithPoolSize(size), ports.WithPoolLinger(linger)} }
}

// WithICETimeout bounds ICE gathering and connectivity checks (default
// 15 s).
func WithICETimeout(d time.Duration) Option { return func(p *plugin) { p.iceTimeout = d } }

// plugin is the state the streams of one Plugin share.
type plugin struct {
	backend    device.Backend
	logger     *slog.Logger
	builtins   []codec.Codec
	codecDir   string
	moduleOpts []module.Option
	iceTimeout time.Duration
	linger     time.Duration
	pool       []ports.PoolOption
	engine     *engine

	mu       sync.Mutex
	live     int                          // streams created and not ended (audio.max_streams)
	catalogs map[string]*codecdir.Catalog // by codec directory
}

// catalog returns the catalog of dir ("" for the default directory).
func (p *plugin) catalog(dir string) *codecdir.Catalog {
	if dir == "" {
		dir = p.codecDir
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.catalogs[dir]
	if c == nil {
		c = codecdir.New(dir, p.builtins, codecdir.WithLogger(p.logger), codecdir.WithModuleOptions(p.moduleOpts...))
		p.catalogs[dir] = c
	}
	return c
}

// defaultCodecDir is "codecs" beside the executable.
func defaultCodecDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "codecs"
	}
	return filepath.Join(filepath.Dir(exe), "codecs")
}

// admit counts a new stream, or refuses it when max are alive.
func (p *plugin) admit(max int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live >= max {
		return sdk.Errorf(sdk.ErrBusy, "too many audio streams: %d alive, %s is %d", p.live, sdkaudio.SettingMaxStreams, max)
	}
	p.live++
	return nil
}

// leave uncounts an ended stream.
func (p *plugin) leave() {
	p.mu.Lock()
	p.live--
	p.mu.Unlock()
}

// Plugin returns the audio plugin: the "audio" stream type and the
// plugin-scope device methods. version is reported in the manifest.
func Plugin(version string, opts ...Option) *sdk.Plugin {
	p := &plugin{logger: slog.Default(), iceTimeout: iceTimeout, linger: defaultLinger, catalogs: map[string]*codecdir.Catalog{}}
	for _, o := range opts {
		o(p)
	}
	if p.builtins == nil {
		p.builtins = builtin.Codecs()
	}
	if p.codecDir == "" {
		p.codecDir = defaultCodecDir()
	}
	p.engine = newEngine(p.backend, p.logger.With("component", "audio-engine"), p.linger)
	p.engine.poolOptions = p.pool
	var names []string
	for _, c := range p.catalog("").Registry(context.Background()).Codecs() {
		names = append(names, c.Info().Name)
	}
	return &sdk.Plugin{
		Name:    "audio",
		Version: version,
		Types: []sdk.StreamType{{
			Type:          sdkaudio.Type,
			Priority:      sdkaudio.Priority,
			HoldSupported: true,
			Match:         sdk.MatchRule{Media: []string{sdkaudio.Type}},
			Codecs:        names,
			NewFromSDP:    p.newFromSDP,
			Create:        p.create,
		}},
		Methods: map[string]sdk.MethodFunc{
			sdkaudio.MethodListDevices:   sdk.Method(p.listDevices),
			sdkaudio.MethodSelectDevices: sdk.Method(p.selectDevices),
			sdkaudio.MethodPlayWAV:       sdk.Method(p.playWAV),
			sdkaudio.MethodPlayTones:     sdk.Method(p.playTones),
			sdkaudio.MethodListCodecs:    sdk.Method(p.listCodecs),
		},
		Close: func(context.Context) error {
			p.engine.close()
			return nil
		},
	}
}

// newFromSDP accepts an incoming audio m-line as the reference's
// RTPStream.new_from_sdp (§3.2): another media is not ours
// (sdk.ErrUnknownStream); another transport than RTP/AVP or RTP/SAVP, no
// common codec or an offer the SRTP policy refuses is sdk.ErrInvalidStream.
func (p *plugin) newFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	var memo sdpMemo
	remote, err := memo.parseOffer(req)
	if err != nil {
		return nil, err
	}
	if remote.Port == 0 {
		return nil, invalidStream("m-line %d is removed (port 0)", req.StreamIndex)
	}
	st, err := p.parseSettings(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	if err := checkOffer(&st, remote); err != nil {
		return nil, err
	}
	if err := p.admit(st.maxStreams); err != nil {
		return nil, err
	}
	s := newStream(env, p, st, req.StreamIndex)
	s.remoteSDP = memo
	_, s.remoteHasICE = remoteICE(remote.ICE)
	return s, nil
}

// create builds a stream for an outgoing offer; it takes no parameters.
func (p *plugin) create(ctx context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	st, err := p.parseSettings(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	if err := p.admit(st.maxStreams); err != nil {
		return nil, err
	}
	return newStream(env, p, st, 0), nil
}

// listCodecs lists the built-in codecs and the codec directory's modules.
func (p *plugin) listCodecs(ctx context.Context, args sdkaudio.ListCodecsArgs, _ *sdk.Env) (sdkaudio.CodecList, error) {
	return p.catalog(args.Directory).List(ctx), nil
}

func (p *plugin) listDevices(ctx context.Context, _ struct{}, _ *sdk.Env) (sdkaudio.DeviceList, error) {
	return p.engine.listDevices(ctx)
}

func (p *plugin) selectDevices(ctx context.Context, args sdkaudio.SelectDevicesArgs, _ *sdk.Env) (sdkaudio.Devices, error) {
	return p.engine.selectDevices(ctx, args), nil
}

// playWAV plays a file on the alert mixer and returns once it has played.
func (p *plugin) playWAV(ctx context.Context, args sdkaudio.PlayWAVArgs, _ *sdk.Env) (any, error) {
	if args.File == "" || args.Loops < 0 || args.Volume < 0 {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_wav: need a file, loops >= 0 and volume >= 0")
	}
	volume := args.Volume
	if volume == 0 {
		volume = 100
	}
	m, err := p.engine.acquireAlert(ctx, device.SystemDefault)
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrInternal, "play_wav: %v", err)
	}
	defer p.engine.releaseAlert()
	player, err := mixer.NewWAVPlayer(args.File, m.SampleRate(), mixer.WithLoopCount(args.Loops), mixer.WithVolume(volume))
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_wav: %v", err)
	}
	defer player.Close()
	port := &filePort{WAVPlayer: player, name: "alert-wav:" + time.Now().Format(time.RFC3339Nano)}
	if err := play(ctx, m, port, player.Done()); err != nil {
		return nil, err
	}
	if err := player.Err(); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_wav: %v", err)
	}
	return nil, nil
}

// playTones plays a tone list on the alert mixer and returns once played.
func (p *plugin) playTones(ctx context.Context, args sdkaudio.PlayTonesArgs, _ *sdk.Env) (any, error) {
	if len(args.Tones) == 0 || len(args.Tones) > maxTones {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_tones: 1 to %d tones, got %d", maxTones, len(args.Tones))
	}
	list := make([][3]float64, 0, len(args.Tones))
	for _, t := range args.Tones {
		if t.Millis <= 0 || t.Millis > 60_000 || t.F1 < 0 || t.F2 < 0 || t.F1 > 20_000 || t.F2 > 20_000 {
			return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_tones: tone %+v out of range", t)
		}
		list = append(list, [3]float64{t.F1, t.F2, float64(t.Millis)})
	}
	m, err := p.engine.acquireAlert(ctx, device.SystemDefault)
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrInternal, "play_tones: %v", err)
	}
	defer p.engine.releaseAlert()
	var topts []tone.Option
	if args.Volume > 0 {
		topts = append(topts, tone.WithVolume(args.Volume))
	}
	gen, err := mixer.NewToneGenerator("alert-tones:"+time.Now().Format(time.RFC3339Nano), m.SampleRate(), topts...)
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "play_tones: %v", err)
	}
	done := gen.PlayTones(tone.FromMillis(list...)...)
	defer gen.Stop()
	return nil, play(ctx, m, gen, done)
}

// play connects src to the alert device until done is closed or ctx ends.
func play(ctx context.Context, m *mixer.Mixer, src mixer.Port, done <-chan struct{}) error {
	if err := m.Add(src); err != nil {
		return sdk.Errorf(sdk.ErrInternal, "alert: %v", err)
	}
	defer func() { _ = m.Remove(src) }()
	if err := m.Connect(src, m.Device()); err != nil {
		return sdk.Errorf(sdk.ErrInternal, "alert: %v", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
