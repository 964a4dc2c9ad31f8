package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk/audio"
)

// Bounds of the load command: like every tool here it is bounded in count
// and time.
const (
	maxLoadCalls    = 20000
	maxLoadRate     = 2000
	maxLoadDuration = 24 * time.Hour
)

// loadSpec is what the load command does: calls audio calls to target at
// rate per second, each held for duration once it started, sending file.
type loadSpec struct {
	callSpec
	calls     int
	rate      float64
	duration  time.Duration
	file      string
	srtp      bool
	codec     string
	portRange string
	shared    int
	interval  time.Duration
}

// cmdLoad places many audio calls against any SIP peer and reports, as it
// runs and at the end, the calls up, the packets, their loss and jitter
// and the CPU the host and its plugins spent per call. Exit 0 when every
// call started and carried media both ways, 1 otherwise.
func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	l := &loadSpec{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	l.register(fs)
	fs.IntVar(&l.calls, "calls", 10, "number of calls to place, each once (at most 20000)")
	fs.Float64Var(&l.rate, "rate", 10, "calls placed per second (at most 2000)")
	fs.DurationVar(&l.duration, "duration", 30*time.Second, "how long each call lasts once it started")
	fs.StringVar(&l.file, "audio", "", "the `WAV` file every call sends, looped (required)")
	fs.BoolVar(&l.srtp, "srtp", false, "require SRTP with SDES keys (rtp.srtp_encryption sdes_mandatory); without it, plain RTP")
	fs.StringVar(&l.codec, "codec", "PCMU", "the audio `codec` offered (rtp.audio_codec_list)")
	fs.StringVar(&l.portRange, "port-range", "", "local RTP ports `START-END` (default: 50000 up, two per call)")
	fs.IntVar(&l.shared, "shared-sockets", -1, "RTP/RTCP socket `pairs` all calls share (rtp.shared_sockets; 0: a pair per call; default: the configuration's)")
	fs.DurationVar(&l.interval, "interval", time.Second, "how often progress is printed")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sipstreams load URI --audio FILE.wav [--calls N] [--rate R] [--duration D] [--srtp] [flags]")
		return 2
	}
	if err := l.check(); err != nil {
		fmt.Fprintf(stderr, "sipstreams: load: %v\n", err)
		return 2
	}
	if err := l.resolve(pos[0]); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 2
	}
	return l.run(ctx, stdout, stderr)
}

// check validates the load flags.
func (l *loadSpec) check() error {
	switch {
	case l.calls < 1 || l.calls > maxLoadCalls:
		return fmt.Errorf("--calls %d: want 1 to %d", l.calls, maxLoadCalls)
	case !(l.rate > 0) || l.rate > maxLoadRate:
		return fmt.Errorf("--rate %g: want more than 0, at most %d", l.rate, maxLoadRate)
	case l.duration <= 0 || l.duration > maxLoadDuration:
		return fmt.Errorf("--duration %v: want more than 0, at most %v", l.duration, maxLoadDuration)
	case l.shared < -1 || l.shared > 64:
		return fmt.Errorf("--shared-sockets %d: want 0 (a pair per call) to 64", l.shared)
	case l.interval < 100*time.Millisecond:
		return fmt.Errorf("--interval %v: want at least 100ms", l.interval)
	case l.file == "":
		return errors.New("--audio FILE.wav is required: the audio every call sends")
	}
	f, err := os.Open(l.file)
	if err != nil {
		return fmt.Errorf("--audio: %w", err)
	}
	f.Close()
	return nil
}

// settings is the configuration the load runs with: the user's
// (--config-dir) with what the load needs on top: the codec, the SRTP
// policy, no sound device, room for every call (ports, streams,
// sessions).
func (l *loadSpec) settings(ctx context.Context) (storage.Storage, error) {
	user, err := storageFor(l.app.configDir)
	if err != nil {
		return nil, err
	}
	doc, err := user.Load(ctx)
	if err != nil {
		return nil, err
	}
	s := &doc.Settings
	s.RTP.AudioCodecList = []string{l.codec}
	s.RTP.SRTPEncryption = config.SRTPDisabled
	if l.srtp {
		s.RTP.SRTPEncryption = config.SRTPSDESMandatory
	}
	s.Audio.InputDevice, s.Audio.OutputDevice, s.Audio.AlertDevice = "none", "none", "none"
	s.Audio.MaxStreams = max(s.Audio.MaxStreams, l.calls)
	s.SIP.MaxSessions = max(s.SIP.MaxSessions, l.calls+16)
	if l.shared >= 0 {
		s.RTP.SharedSockets = l.shared
	}
	if l.portRange != "" {
		pr, err := config.ParsePortRange(l.portRange)
		if err != nil {
			return nil, fmt.Errorf("--port-range: %w", err)
		}
		s.RTP.PortRange = pr
	} else if need := 2*l.calls + 64; s.RTP.PortRange.End-s.RTP.PortRange.Start < need {
		if 50000+need > 65534 {
			return nil, fmt.Errorf("%d calls need %d RTP ports: give --port-range", l.calls, need)
		}
		s.RTP.PortRange = config.PortRange{Start: 50000, End: 50000 + need}
	}
	mem := storage.NewMemory()
	if err := mem.Save(ctx, doc); err != nil {
		return nil, err
	}
	return mem, nil
}

// loadCall is one call of the load.
type loadCall struct {
	s       *session.Session
	audio   session.Stream // the call's audio stream
	started time.Time      // zero until the session started
	stats   audio.Statistics
}

// loadState is what the load knows; mu guards it.
type loadState struct {
	mu       sync.Mutex
	placed   int
	started  int
	failed   int
	ended    int
	reasons  map[string]int
	calls    map[*session.Session]*loadCall
	finished []*loadCall // ended calls, with their last statistics
}

// fail counts a call that failed, for reason; mu is held.
func (st *loadState) fail(reason string) {
	st.failed++
	st.reasons[reason]++
}

func (l *loadSpec) run(ctx context.Context, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(float64(l.calls)/l.rate*float64(time.Second))+l.duration+2*time.Minute)
	defer cancel()
	st, err := l.settings(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	app := l.newApplication(stderr)
	defer func() { _ = stopApplication(app, stderr) }()
	if err := app.Start(ctx, st); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	warnRefused(app.Registry(), stderr)
	if !slices.ContainsFunc(app.Registry().Types(), func(t registry.TypeInfo) bool { return t.Type == audio.Type }) {
		fmt.Fprintln(stderr, "sipstreams: load: no audio plugin in the plugin directory")
		return 1
	}
	state := &loadState{reasons: map[string]int{}, calls: map[*session.Session]*loadCall{}}
	started := make(chan *loadCall, l.calls)
	defer app.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, ok := n.Sender.(*session.Session)
		if !ok {
			return
		}
		state.mu.Lock()
		defer state.mu.Unlock()
		c := state.calls[s]
		if c == nil {
			return
		}
		switch n.Name {
		case session.SIPSessionDidStart:
			c.started = n.Time
			state.started++
			started <- c
		case session.SIPSessionDidFail:
			reason := "failed"
			if d, ok := n.Data.(session.DidFailData); ok {
				reason = fmt.Sprintf("%d %s", d.Code, d.Reason)
				if d.FailureReason != "" && d.Code == 0 {
					reason = d.FailureReason
				}
			}
			state.fail(reason)
		}
	}), "", nil)()

	cpu := newCPUMeter(app)
	out := &loadPrinter{w: stdout, json: l.app.asJSON}
	out.say("load: %d calls to %s at %g/s, %v each, %s, %s, %s", l.calls, l.target.String(), l.rate, l.duration, l.codec, srtpWord(l.srtp), l.file)

	// The placer and the holder stop when the load is over: run returns
	// with every call accounted for, or ctx ended.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// The placer: one call per 1/rate.
	wg.Go(func() {
		tick := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
		defer tick.Stop()
		for i := 0; i < l.calls; i++ {
			if i > 0 {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
			l.place(ctx, app, state)
		}
	})
	// The holder: each started call ends after duration. One goroutine
	// and one timer for all of them.
	wg.Go(func() { l.hold(ctx, state, started) })

	report := time.NewTicker(l.interval)
	defer report.Stop()
	begin := time.Now()
	for {
		select {
		case <-ctx.Done():
			out.say("load: stopped: %v", context.Cause(ctx))
			return l.summary(state, cpu, begin, out, 1)
		case <-report.C:
		}
		up, rx, tx, lost, jit := l.sample(ctx, state)
		c := cpu.sample()
		state.mu.Lock()
		placed, startedN, failed, ended := state.placed, state.started, state.failed, state.ended
		state.mu.Unlock()
		perCall := 0.0
		if up > 0 {
			perCall = c.seconds * 1000 / (float64(up) * c.wall.Seconds())
		}
		out.progress(map[string]any{
			"t_s": math.Round(time.Since(begin).Seconds()*10) / 10, "placed": placed, "up": up, "started": startedN, "failed": failed, "ended": ended,
			"rx_packets": rx, "tx_packets": tx, "loss_pct": lossPct(lost, rx), "jitter_p99_ms": jit, "cpu_ms_per_call_s": round2(perCall),
		}, "t=%4.0fs placed %d up %d ended %d failed %d  rx %d tx %d pkts  loss %.3f%%  jitter p99 %.1f ms  cpu %.2f ms/call-s",
			time.Since(begin).Seconds(), placed, up, ended, failed, rx, tx, lossPct(lost, rx), jit, perCall)
		if ended+failed >= l.calls {
			return l.summary(state, cpu, begin, out, 0)
		}
	}
}

func srtpWord(on bool) string {
	if on {
		return "SRTP (SDES)"
	}
	return "RTP"
}

// place makes one call with an audio stream.
func (l *loadSpec) place(ctx context.Context, app *application.Application, state *loadState) {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	call, err := app.NewCall(cctx, l.target, l.callOptions()...)
	fail := func(err error) {
		state.mu.Lock()
		state.placed++
		state.fail(err.Error())
		state.mu.Unlock()
	}
	if err != nil {
		fail(err)
		return
	}
	st, err := call.AddStream(cctx, audio.Type)
	if err == nil {
		// Before the start: the stream sends the file from its first
		// packet.
		err = audio.SetInput(cctx, st, l.file, 0)
	}
	if err != nil {
		call.Close()
		fail(err)
		return
	}
	state.mu.Lock()
	state.placed++
	state.calls[call.Session()] = &loadCall{s: call.Session(), audio: st}
	state.mu.Unlock()
	if err := call.Connect(ctx); err != nil {
		state.mu.Lock()
		delete(state.calls, call.Session())
		state.fail(err.Error())
		state.mu.Unlock()
	}
}

// hold ends each started call after l.duration; it returns once every
// call is accounted for or ctx ends (then it ends the calls still up).
func (l *loadSpec) hold(ctx context.Context, state *loadState, started <-chan *loadCall) {
	type due struct {
		at time.Time
		c  *loadCall
	}
	var queue []due // in start order: every call lasts the same
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if len(queue) > 0 {
			timer.Reset(time.Until(queue[0].at))
		}
		select {
		case <-ctx.Done():
			for _, d := range queue {
				d.c.s.End()
			}
			return
		case c := <-started:
			queue = append(queue, due{c.started.Add(l.duration), c})
		case <-timer.C:
			for len(queue) > 0 && !time.Now().Before(queue[0].at) {
				c := queue[0].c
				queue = queue[1:]
				l.finish(ctx, state, c)
			}
		}
		state.mu.Lock()
		done := state.ended+state.failed >= l.calls
		state.mu.Unlock()
		if done && len(queue) == 0 {
			return
		}
	}
}

// finish takes a call's last statistics and ends it.
func (l *loadSpec) finish(ctx context.Context, state *loadState, c *loadCall) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if st, err := audio.GetStatistics(sctx, c.audio); err == nil {
		c.stats = st
	}
	cancel()
	c.s.End()
	state.mu.Lock()
	delete(state.calls, c.s)
	state.ended++
	state.finished = append(state.finished, c)
	state.mu.Unlock()
}

// sample reads the statistics of the calls up: how many, packets
// received and sent, lost, and the 99th percentile of their jitter.
func (l *loadSpec) sample(ctx context.Context, state *loadState) (up int, rx, tx uint64, lost int64, jitterP99 float64) {
	state.mu.Lock()
	var live []*loadCall
	for _, c := range state.calls {
		if !c.started.IsZero() {
			live = append(live, c)
		}
	}
	for _, c := range state.finished {
		rx += c.stats.RX.Packets
		tx += c.stats.TX.Packets
		lost += max(c.stats.RX.PacketsLost, 0)
	}
	state.mu.Unlock()
	var jitters []float64
	for _, c := range live {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := audio.GetStatistics(sctx, c.audio)
		cancel()
		if err != nil {
			continue
		}
		up++
		rx += st.RX.Packets
		tx += st.TX.Packets
		lost += max(st.RX.PacketsLost, 0)
		jitters = append(jitters, st.RX.JitterMillis)
	}
	return up, rx, tx, lost, p99(jitters)
}

// summary prints the totals and returns the exit code: code, or 1 when a
// call failed or did not carry media both ways.
func (l *loadSpec) summary(state *loadState, cpu *cpuMeter, begin time.Time, out *loadPrinter, code int) int {
	state.mu.Lock()
	defer state.mu.Unlock()
	var rx, tx, bad uint64
	var lost int64
	var jitters []float64
	oneWay := 0
	for _, c := range state.finished {
		bad += c.stats.RX.SRTPFailures + c.stats.RX.Dropped
		rx += c.stats.RX.Packets
		tx += c.stats.TX.Packets
		lost += max(c.stats.RX.PacketsLost, 0)
		jitters = append(jitters, c.stats.RX.JitterMillis)
		if c.stats.RX.Packets == 0 || c.stats.TX.Packets == 0 {
			oneWay++
		}
	}
	total := cpu.total()
	perPacket := 0.0
	if rx+tx > 0 {
		perPacket = total.plugins * 1e6 / float64(rx+tx)
	}
	// Packets received per call-second of media, against the 50 a 20 ms
	// packet time sends: a sender that cannot keep up sends fewer, which
	// loss does not show.
	rate := 0.0
	if n := len(state.finished); n > 0 {
		rate = round2(float64(rx) / (float64(n) * l.duration.Seconds()))
	}
	var reasons []string
	for r, n := range state.reasons {
		reasons = append(reasons, fmt.Sprintf("%d× %s", n, r))
	}
	slices.Sort(reasons)
	out.summary(map[string]any{
		"calls": l.calls, "placed": state.placed, "started": state.started, "failed": state.failed, "ended": state.ended,
		"without_media_both_ways": oneWay, "rx_packets": rx, "rx_rejected": bad, "tx_packets": tx, "loss_pct": lossPct(lost, rx),
		"jitter_p99_ms": p99(jitters), "rx_packets_per_call_s": rate, "host_cpu_s": round2(total.host), "plugins_cpu_s": round2(total.plugins),
		"plugin_cpu_us_per_packet": round2(perPacket), "elapsed_s": round2(time.Since(begin).Seconds()), "failures": reasons,
	}, "load: %d calls, %d started, %d failed, %d without media both ways; %d packets received (%.1f per call-second; %d more rejected: bad SRTP or not RTP), %d sent, loss %.3f%%, jitter p99 %.1f ms; CPU host %.1f s, plugins %.1f s (%.2f µs per packet sent or received)",
		l.calls, state.started, state.failed, oneWay, rx, rate, bad, tx, lossPct(lost, rx), p99(jitters), total.host, total.plugins, perPacket)
	for _, r := range reasons {
		out.say("load: failed: %s", r)
	}
	if state.failed > 0 || oneWay > 0 || state.started < l.calls {
		return 1
	}
	return code
}

func lossPct(lost int64, rx uint64) float64 {
	if lost <= 0 {
		return 0
	}
	return round2(float64(lost) * 100 / float64(uint64(lost)+rx))
}

func p99(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return round2(v[(len(v)-1)*99/100])
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// loadPrinter prints the load's lines, or JSON objects with --json.
type loadPrinter struct {
	w    io.Writer
	json bool
	mu   sync.Mutex
}

func (p *loadPrinter) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(map[string]any{"event": "message", "text": fmt.Sprintf(format, args...)})
		fmt.Fprintln(p.w, string(b))
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *loadPrinter) progress(data map[string]any, format string, args ...any) {
	p.record("progress", data, format, args...)
}

func (p *loadPrinter) summary(data map[string]any, format string, args ...any) {
	p.record("summary", data, format, args...)
}

func (p *loadPrinter) record(event string, data map[string]any, format string, args ...any) {
	if !p.json {
		p.say(format, args...)
		return
	}
	data["event"] = event
	b, _ := json.Marshal(data)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, string(b))
}

// cpuMeter reads the CPU time of the host and of its plugin processes.
type cpuMeter struct {
	app    *application.Application
	start  cpuTimes
	last   cpuTimes
	lastAt time.Time
}

type cpuTimes struct{ host, plugins float64 }

type cpuSample struct {
	seconds float64
	wall    time.Duration
}

func newCPUMeter(app *application.Application) *cpuMeter {
	m := &cpuMeter{app: app}
	m.start = m.read()
	m.last, m.lastAt = m.start, time.Now()
	return m
}

// read returns the CPU seconds so far of the host and of its plugin
// processes running now.
func (m *cpuMeter) read() cpuTimes {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t := cpuTimes{host: float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9}
	for _, p := range m.app.Registry().Plugins() {
		if p.PID == 0 {
			continue
		}
		if s, err := processCPU(p.PID); err == nil {
			t.plugins += s
		}
	}
	return t
}

// sample returns the CPU seconds (host and plugins) since the last sample.
func (m *cpuMeter) sample() cpuSample {
	now, t := time.Now(), m.read()
	s := cpuSample{seconds: t.host + t.plugins - m.last.host - m.last.plugins, wall: now.Sub(m.lastAt)}
	m.last, m.lastAt = t, now
	return s
}

// total returns the CPU seconds since the meter started.
func (m *cpuMeter) total() cpuTimes {
	t := m.read()
	return cpuTimes{host: t.host - m.start.host, plugins: t.plugins - m.start.plugins}
}

// processCPU is a process's user and system CPU seconds (/proc/PID/stat).
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields count from
	// the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux for
// every architecture Go supports.
const clockTicks = 100
