package registry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/sipstreams/sipstreams/sdk"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// PluginState is where a plugin is in its life.
type PluginState int

// Plugin states.
const (
	StateLoading    PluginState = iota // being started for the first time
	StateReady                         // serving streams
	StateRestarting                    // crashed; a restart is scheduled
	StateRefused                       // never loaded; Err says why
	StateStopped                       // shut down by Close
)

func (s PluginState) String() string {
	switch s {
	case StateLoading:
		return "loading"
	case StateReady:
		return "ready"
	case StateRestarting:
		return "restarting"
	case StateRefused:
		return "refused"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("PluginState(%d)", int(s))
}

// PluginInfo is a snapshot of one plugin binary found in the directory.
type PluginInfo struct {
	Path     string
	File     string
	SHA256   string
	Manifest *sdk.Manifest // nil when refused before describing
	State    PluginState
	// Err says why the plugin was refused, or the last crash while restarting.
	Err      error
	PID      int
	Restarts int
	// ReadyIn is how long the last start took, from exec to a served Describe.
	ReadyIn time.Duration
}

// Plugin is one plugin binary and its current process. It is the sender of
// the plugin's plugin-scope notifications.
type Plugin struct {
	r    *Registry
	path string
	file string
	log  *slog.Logger

	mu       sync.Mutex
	sha      string
	pinned   bool // by a checksum or the lock file: a restart re-checks the binary
	manifest *sdk.Manifest
	state    PluginState
	err      error
	inst     *instance
	restarts int
	readyIn  time.Duration
	ready    chan struct{} // closed while state is Ready, Refused or Stopped
}

// instance is one running process of a plugin.
type instance struct {
	p      *Plugin
	client *plugin.Client
	proc   *procRunner
	prov   sdk.Provider
	cp     plugin.ClientProtocol

	mu      sync.Mutex
	streams map[uint64]*Stream
	orphans map[uint64][]*sdk.Notification // notifications that beat their stream's registration
	dead    bool
	reason  string
}

func newPlugin(r *Registry, path string) *Plugin {
	file := filepath.Base(path)
	return &Plugin{r: r, path: path, file: file, log: r.cfg.logger.With("plugin", file), ready: make(chan struct{})}
}

// Name returns the plugin's manifest name, or its file name before it is known.
func (p *Plugin) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.manifest != nil {
		return p.manifest.Name
	}
	return p.file
}

// Info returns a snapshot of the plugin.
func (p *Plugin) Info() PluginInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	info := PluginInfo{Path: p.path, File: p.file, SHA256: p.sha, Manifest: p.manifest, State: p.state, Err: p.err, Restarts: p.restarts, ReadyIn: p.readyIn}
	if p.inst != nil && p.inst.proc != nil {
		info.PID = p.inst.proc.pid
	}
	return info
}

func (p *Plugin) refuse(reason string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		err = ErrRefused
	}
	p.state = StateRefused
	p.err = &PluginError{Path: p.path, Reason: reason, Err: err}
	p.log.Warn("plugin refused", "reason", reason)
	closeOnce(p.ready)
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// prepare checks the binary (mode, SHA-256 against the pins) and reads its
// manifest without a handshake.
func (p *Plugin) prepare(ctx context.Context, ps pins) bool {
	st, err := os.Stat(p.path)
	switch {
	case err != nil:
		p.refuse(err.Error(), ErrRefused)
		return false
	case !st.Mode().IsRegular():
		p.refuse("not a regular file", ErrRefused)
		return false
	case st.Mode().Perm()&0o111 == 0:
		p.refuse("not executable", ErrRefused)
		return false
	}
	sum, err := fileSHA256(p.path)
	if err != nil {
		p.refuse(err.Error(), ErrRefused)
		return false
	}
	p.mu.Lock()
	p.sha = sum
	p.mu.Unlock()
	want, pinned := p.r.cfg.checksums[p.file]
	if pinned {
		if !strings.EqualFold(want, sum) {
			p.refuse(fmt.Sprintf("SHA-256 %s differs from the pinned %s", sum, want), ErrChecksum)
			return false
		}
	} else if p.r.cfg.requirePinned && ps.lock == nil {
		p.refuse("no SHA-256 pin for this binary and pinning is required", ErrChecksum)
		return false
	}
	why, locked, err := ps.check(p.file, st.Mode(), sum, p.r.cfg.allowWritable)
	if why != "" {
		p.refuse(why, err)
		return false
	}
	p.mu.Lock()
	p.pinned = pinned || locked
	p.mu.Unlock()
	m, err := p.describe(ctx)
	if err != nil {
		p.refuse(err.Error(), errors.Join(ErrRefused, err))
		return false
	}
	p.mu.Lock()
	p.manifest = m
	p.mu.Unlock()
	return true
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// describe runs `PLUGIN describe` and validates the manifest.
func (p *Plugin) describe(ctx context.Context) (*sdk.Manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, p.r.cfg.describeTime)
	defer cancel()
	cmd := exec.Command(p.path, "describe")
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = 1<<20, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its group is killed when it exits; a process that left the group
	// cannot keep the output open past WaitDelay.
	cmd.WaitDelay = waitDelay
	setProcAttr(cmd)
	g := &procGroup{cmd: cmd}
	if err := g.start(p.r.launch); err != nil {
		return nil, fmt.Errorf("not a sipstreams plugin: `describe` did not start: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- g.wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = g.kill()
		err = <-waited
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("`describe` did not finish within %s", p.r.cfg.describeTime)
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // it exited with status 0; something it started held stdout
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no output on stderr"
		}
		return nil, fmt.Errorf("not a sipstreams plugin: `describe` failed (%v): %s", err, firstLine(msg))
	}
	var m sdk.Manifest
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a sipstreams plugin: `describe` did not print a manifest (%v): %q", err, firstLine(stdout.String()))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

// launch starts one process, hands it the contract and checks its manifest,
// all within the start timeout counted from the exec: go-plugin bounds only
// the handshake (and then waits for the plugin's stdio stream as long as the
// process lives), so a watchdog kills the process group when the start
// timeout is over.
func (p *Plugin) launch(ctx context.Context) (*instance, error) {
	cfg := &p.r.cfg
	inst := &instance{p: p, streams: map[uint64]*Stream{}, orphans: map[uint64][]*sdk.Notification{}}
	began := time.Now()
	// sctx ends with ctx, or with errStartTimeout once the start timeout
	// has passed since the exec; then the watchdog kills the group.
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var timer *time.Timer
	var proc atomic.Pointer[procRunner] // for the watchdog
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.VersionedPlugins(),
		RunnerFunc: runnerFunc(p.path, cfg.env, p.r.launch, func(r *procRunner) {
			inst.proc = r
			proc.Store(r)
			r.onStart = func() { timer = time.AfterFunc(cfg.startTimeout, func() { cancel(errStartTimeout) }) }
		}),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     cfg.startTimeout,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: p.r.sockDir},
		Logger:           newHCLogger(p.log),
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	inst.client = client
	stopWatchdog := context.AfterFunc(sctx, func() {
		if r := proc.Load(); r != nil {
			_ = r.Kill(context.Background())
		}
	})
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	timedOut := func() bool { return errors.Is(context.Cause(sctx), errStartTimeout) }
	notServing := func() error {
		return fmt.Errorf("handshake received, but the plugin did not serve within the start timeout (%s)", cfg.startTimeout)
	}
	fail := func(err error) (*instance, error) {
		stopWatchdog()
		// Kill the group first: go-plugin's Kill asks a plugin that has
		// handshaken to shut down, and a hung one never answers.
		if inst.proc != nil {
			_ = inst.proc.Kill(context.Background())
		}
		client.Kill() // reaps and releases go-plugin's goroutines
		return nil, err
	}
	cp, err := client.Client()
	if err != nil {
		if timedOut() && client.ReattachConfig() != nil {
			return fail(notServing())
		}
		return fail(inst.startError(err, timedOut()))
	}
	inst.cp = cp
	prov, err := sdk.Dispense(cp)
	if err != nil {
		return fail(err)
	}
	inst.prov = prov
	m, err := prov.Describe(sctx)
	if err != nil {
		if timedOut() {
			return fail(notServing())
		}
		return fail(fmt.Errorf("Describe: %w", err))
	}
	if err := m.Validate(); err != nil {
		return fail(err)
	}
	p.mu.Lock()
	described := p.manifest
	p.mu.Unlock()
	if described != nil && (m.Name != described.Name || len(m.StreamTypes) != len(described.StreamTypes)) {
		return fail(fmt.Errorf("manifest served over gRPC (%s, %d types) differs from `describe` (%s, %d types)",
			m.Name, len(m.StreamTypes), described.Name, len(described.StreamTypes)))
	}
	if !stopWatchdog() { // killed just now
		if timedOut() {
			return fail(notServing())
		}
		return fail(context.Cause(sctx))
	}
	p.mu.Lock()
	p.readyIn = time.Since(began)
	p.mu.Unlock()
	return inst, nil
}

// errStartTimeout ends a start that took longer than the start timeout.
var errStartTimeout = errors.New("start timeout")

// startError explains a failed start: when the process died before the
// handshake, how it ended and what it last said on stderr beat go-plugin's
// "Unrecognized remote plugin message".
func (inst *instance) startError(err error, timedOut bool) error {
	r := inst.proc
	if r == nil {
		return fmt.Errorf("start: %s", firstLine(err.Error()))
	}
	if !r.hasExited() {
		// go-plugin reaps the process in the background: give it a moment.
		select {
		case <-r.exited:
		case <-time.After(200 * time.Millisecond):
		}
	}
	// go-plugin kills the process itself when the handshake fails: only an
	// exit of the plugin's own is explained by its status.
	if r.hasExited() && !timedOut && !strings.Contains(err.Error(), "timeout") && r.exitReason() != "signal: killed" {
		msg := "exited before the handshake (" + r.exitReason() + ")"
		if last := r.tail.lastLine(); last != "" {
			msg += ": " + firstLine(last)
		}
		return errors.New(msg)
	}
	if timedOut || strings.Contains(err.Error(), "timeout while waiting for plugin to start") {
		return fmt.Errorf("no go-plugin handshake within the start timeout (%s)", inst.p.r.cfg.startTimeout)
	}
	return fmt.Errorf("start: %s", firstLine(err.Error()))
}

// supervise runs the plugin until ctx ends: start, watch, restart.
func (p *Plugin) supervise(ctx context.Context, loaded chan<- struct{}) {
	first := true
	backoff := p.r.cfg.backoffMin
	for {
		inst, err := p.start(ctx, first)
		if err != nil {
			if first {
				p.refuse(err.Error(), errors.Join(ErrRefused, err))
				loaded <- struct{}{}
				return
			}
			p.mu.Lock()
			p.err = &PluginError{Path: p.path, Reason: "restart failed: " + err.Error(), Err: err}
			p.mu.Unlock()
			p.log.Error("plugin restart failed", "error", err, "retry_in", backoff)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, p.r.cfg.backoffMax)
			continue
		}
		p.mu.Lock()
		p.inst = inst
		p.state = StateReady
		p.err = nil
		closeOnce(p.ready)
		p.mu.Unlock()
		p.log.Info("plugin ready", "pid", inst.proc.pid, "ready_in", p.Info().ReadyIn)
		if first {
			first = false
			loaded <- struct{}{}
		}
		began := time.Now()
		reason := inst.watch(ctx)
		if ctx.Err() != nil || p.r.isClosed() {
			return // Close shuts the instance down
		}
		p.crashed(inst, reason)
		if time.Since(began) > 30*time.Second {
			backoff = p.r.cfg.backoffMin
		}
		if !sleepCtx(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, p.r.cfg.backoffMax)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// crashed fails every live stream of inst and marks the plugin restarting.
func (p *Plugin) crashed(inst *instance, reason string) {
	msg := fmt.Sprintf("plugin %s crashed: %s", p.file, reason)
	p.log.Error("plugin crashed", "reason", reason)
	p.mu.Lock()
	p.state = StateRestarting
	p.err = &PluginError{Path: p.path, Reason: "crashed: " + reason, Err: sdk.ErrPluginUnavailable}
	p.restarts++
	p.ready = make(chan struct{})
	p.mu.Unlock()
	// A hung process is still there: kill it outright (go-plugin's Kill
	// would first ask it to shut down, and wait for an answer).
	_ = inst.proc.Kill(context.Background())
	for _, s := range inst.kill(msg) {
		s.fail(msg)
	}
	inst.client.Kill() // reaps and releases go-plugin's goroutines
}

// watch pumps the instance's notifications and returns why it stopped: the
// process exited, the notification stream broke, or a health ping failed.
func (inst *instance) watch(ctx context.Context) string {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pumpErr := make(chan error, 1)
	ns, err := inst.prov.Notifications(ctx)
	if err != nil {
		return "notification stream: " + err.Error()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pumpErr <- inst.pump(ns)
	}()
	defer func() {
		cancel() // unblocks the pump's Recv even when the plugin hangs
		wg.Wait()
	}()
	tick := time.NewTicker(inst.p.r.cfg.healthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "host stopping"
		case <-inst.proc.exited:
			return "process " + inst.proc.exitReason()
		case err := <-pumpErr:
			// The stream usually breaks because the process died: prefer the
			// exit status when it follows promptly.
			select {
			case <-inst.proc.exited:
				return "process " + inst.proc.exitReason()
			case <-time.After(500 * time.Millisecond):
				return "notification stream broke: " + err.Error()
			}
		case <-tick.C:
			if err := inst.ping(ctx); err != nil {
				select {
				case <-inst.proc.exited:
					return "process " + inst.proc.exitReason()
				default:
				}
				return "health check failed: " + err.Error()
			}
		}
	}
}

// ping asks the plugin's gRPC health service, bounded by the health
// interval: a plugin that hangs (not just one that dies) is caught too.
func (inst *instance) ping(ctx context.Context) error {
	gc, ok := inst.cp.(*plugin.GRPCClient)
	if !ok {
		return inst.cp.Ping()
	}
	ctx, cancel := context.WithTimeout(ctx, max(inst.p.r.cfg.healthInterval, 500*time.Millisecond))
	defer cancel()
	_, err := grpc_health_v1.NewHealthClient(gc.Conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	return err
}

// pump reads notifications until the stream ends, re-posting each.
func (inst *instance) pump(ns sdk.NotificationStream) error {
	for {
		n, err := ns.Recv()
		if err != nil {
			return err
		}
		inst.dispatch(n)
	}
}

func (inst *instance) dispatch(n *sdk.Notification) {
	if n.Handle == 0 {
		inst.p.r.notify(Notification{Name: n.Name, Sender: inst.p, Time: n.Time, Data: decodeData(n)})
		return
	}
	inst.mu.Lock()
	s, ok := inst.streams[n.Handle]
	if !ok {
		inst.orphans[n.Handle] = append(inst.orphans[n.Handle], n)
		inst.mu.Unlock()
		return
	}
	if n.Name == sdk.MediaStreamDidEnd || n.Name == sdk.MediaStreamDidNotInitialize {
		delete(inst.streams, n.Handle)
	}
	inst.mu.Unlock()
	s.deliver(n)
}

// register makes s reachable by its handle and delivers what came early.
func (inst *instance) register(s *Stream) error {
	inst.mu.Lock()
	if inst.dead {
		reason := inst.reason
		inst.mu.Unlock()
		return sdk.Errorf(sdk.ErrPluginUnavailable, "%s", reason)
	}
	inst.streams[s.handle] = s
	early := inst.orphans[s.handle]
	delete(inst.orphans, s.handle)
	inst.mu.Unlock()
	for _, n := range early {
		inst.mu.Lock()
		if n.Name == sdk.MediaStreamDidEnd || n.Name == sdk.MediaStreamDidNotInitialize {
			delete(inst.streams, n.Handle)
		}
		inst.mu.Unlock()
		s.deliver(n)
	}
	return nil
}

// kill marks the instance dead and returns its live streams.
func (inst *instance) kill(reason string) []*Stream {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.dead = true
	inst.reason = reason
	live := make([]*Stream, 0, len(inst.streams))
	for _, s := range inst.streams {
		live = append(live, s)
	}
	inst.streams = map[uint64]*Stream{}
	inst.orphans = map[uint64][]*sdk.Notification{}
	return live
}

func (inst *instance) live() []*Stream {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	out := make([]*Stream, 0, len(inst.streams))
	for _, s := range inst.streams {
		out = append(out, s)
	}
	return out
}

// current waits (bounded by ctx) until the plugin is ready and returns its
// running instance.
func (p *Plugin) current(ctx context.Context) (*instance, error) {
	waited := false
	var end func() // the wait hook's
	defer func() {
		if end != nil {
			end()
		}
	}()
	for {
		p.mu.Lock()
		state, inst, ready, perr := p.state, p.inst, p.ready, p.err
		p.mu.Unlock()
		switch state {
		case StateReady:
			return inst, nil
		case StateRefused:
			return nil, perr
		case StateStopped:
			return nil, ErrClosed
		}
		if !waited {
			waited, end = true, waitHook(ctx)()
		}
		select {
		case <-ready:
		case <-ctx.Done():
			if perr != nil { // why it is not ready: a crash, a failed restart
				return nil, sdk.Errorf(sdk.ErrPluginUnavailable, "plugin %s is %s (%v): %v", p.file, state, perr, ctx.Err())
			}
			return nil, sdk.Errorf(sdk.ErrPluginUnavailable, "plugin %s is %s: %v", p.file, state, ctx.Err())
		}
	}
}

// drain ends the live streams (bounded by ctx) and waits for their last
// notifications to come through.
func (p *Plugin) drain(ctx context.Context) {
	p.mu.Lock()
	inst, state := p.inst, p.state
	p.mu.Unlock()
	if inst == nil || state != StateReady {
		return
	}
	for _, s := range inst.live() {
		if err := s.End(ctx); err != nil {
			p.log.Warn("ending stream on close", "handle", s.handle, "error", err)
		}
	}
	for len(inst.live()) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-inst.proc.exited:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// shutdownGrace bounds a plugin's graceful shutdown at Close: go-plugin
// asks the plugin over gRPC and would wait for ever for a hung one's answer.
// It is longer than go-plugin's own wait for the exit that follows.
const shutdownGrace = 3 * time.Second

// shutdown stops the process, gracefully within shutdownGrace (or ctx),
// then by killing its group; the supervisor must have stopped.
func (p *Plugin) shutdown(ctx context.Context) {
	p.mu.Lock()
	inst := p.inst
	if p.state != StateRefused {
		p.state = StateStopped
	}
	closeOnce(p.ready)
	p.mu.Unlock()
	if inst == nil {
		return
	}
	for _, s := range inst.kill("plugin stopped") {
		s.fail("plugin stopped")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		inst.client.Kill() // graceful shutdown over gRPC, then kill
	}()
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	case <-ctx.Done():
	}
	p.log.Warn("plugin did not shut down: killing its process group", "pid", inst.proc.pid)
	_ = inst.proc.Kill(context.Background())
	<-done // the process is gone: go-plugin's Shutdown call and Kill return
}

// hclogAdapter folds go-plugin's hclog output (including the plugin's own
// JSON log lines) into slog.
func newHCLogger(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Info,
		Output:     &slogWriter{l: l},
		JSONFormat: true,
	})
}

// slogWriter receives hclog JSON lines and logs them through slog.
type slogWriter struct {
	l *slog.Logger
}

func (w *slogWriter) Write(b []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var entry map[string]any
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			w.l.Info(sc.Text())
			continue
		}
		msg, _ := entry["@message"].(string)
		lvl, _ := entry["@level"].(string)
		attrs := make([]any, 0, 2*len(entry))
		for k, v := range entry {
			if strings.HasPrefix(k, "@") {
				continue
			}
			attrs = append(attrs, k, v)
		}
		level := slog.LevelInfo
		switch lvl {
		case "trace", "debug":
			level = slog.LevelDebug
		case "warn":
			level = slog.LevelWarn
		case "error":
			level = slog.LevelError
		}
		w.l.Log(context.Background(), level, msg, attrs...)
	}
	return len(b), nil
}
