package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// FilePrefix is the file name prefix of plugin binaries.
const FilePrefix = "sipstreams-plugin-"

// TypeInfo is one stream type the registry dispatches to, with the plugin
// serving it.
type TypeInfo struct {
	sdk.StreamTypeInfo
	Plugin *Plugin
}

// Registry is the MediaStreamRegistry: the loaded stream plugins and their
// stream types ordered by priority.
type Registry struct {
	cfg config

	mu      sync.Mutex
	plugins []*Plugin
	types   []TypeInfo
	launch  *launcher
	sockDir string
	ctx     context.Context // the supervisors' lifetime; cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

// New returns a registry; Discover loads the plugins.
func New(opts ...Option) *Registry {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.lockFileSet {
		cfg.lockFile = DefaultLockFile(cfg.dir)
	}
	return &Registry{cfg: cfg}
}

// notify posts n to the registry's Notifier.
func (r *Registry) notify(n Notification) { r.cfg.notifier.Notify(n) }

// Dir returns the plugin directory.
func (r *Registry) Dir() string { return r.cfg.dir }

// LockFile returns the lock file the plugins are pinned to while it exists
// (WithLockFile; by default DefaultLockFile of the plugin directory), or ""
// when pinning by lock file is off.
func (r *Registry) LockFile() string { return r.cfg.lockFile }

// Discover scans the plugin directory and loads every plugin binary in it,
// concurrently, each within the start timeout. Binaries that cannot be
// loaded are reported by Plugins and skipped. It returns an error only when
// the directory cannot be read or the registry is closed; calling it again
// loads binaries added since.
func (r *Registry) Discover(ctx context.Context) error {
	entries, err := os.ReadDir(r.cfg.dir)
	if err != nil {
		return fmt.Errorf("registry: read plugin dir: %w", err)
	}
	ps, err := r.loadPins()
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.launch == nil {
		// Short: unix socket paths are limited to ~100 bytes.
		dir, err := os.MkdirTemp("", "sps")
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("registry: socket dir: %w", err)
		}
		r.sockDir = dir
		r.launch = newLauncher()
		r.ctx, r.cancel = context.WithCancel(context.Background())
	}
	known := map[string]bool{}
	for _, p := range r.plugins {
		known[p.path] = true
	}
	var fresh []*Plugin
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), FilePrefix) || e.IsDir() {
			continue
		}
		path := filepath.Join(r.cfg.dir, e.Name())
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if known[path] {
			continue
		}
		p := newPlugin(r, path)
		fresh = append(fresh, p)
		r.plugins = append(r.plugins, p)
	}
	sort.Slice(r.plugins, func(i, j int) bool { return r.plugins[i].file < r.plugins[j].file })
	superCtx := r.ctx
	r.mu.Unlock()

	var wg sync.WaitGroup
	for _, p := range fresh {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !p.prepare(ctx, ps) {
				return
			}
			loaded := make(chan struct{}, 1)
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				p.supervise(superCtx, loaded)
			}()
			select {
			case <-loaded:
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	r.rebuildTypes()
	return ctx.Err()
}

// rebuildTypes orders the loaded plugins' stream types by priority and
// settles conflicts.
func (r *Registry) rebuildTypes() {
	r.mu.Lock()
	defer r.mu.Unlock()
	byType := map[string]TypeInfo{}
	var order []string
	for _, p := range r.plugins {
		info := p.Info()
		if info.Manifest == nil || info.State == StateRefused {
			continue
		}
		for _, t := range info.Manifest.StreamTypes {
			cand := TypeInfo{StreamTypeInfo: t, Plugin: p}
			prev, ok := byType[t.Type]
			if !ok {
				byType[t.Type] = cand
				order = append(order, t.Type)
				continue
			}
			winner := prev
			if want, ok := r.cfg.preferred[t.Type]; ok {
				if info.Manifest.Name == want || p.file == want {
					winner = cand
				}
			} else if t.Priority > prev.Priority {
				winner = cand
			}
			r.cfg.logger.Warn("two plugins declare one stream type", "type", t.Type,
				"plugins", []string{prev.Plugin.file, p.file}, "chosen", winner.Plugin.file)
			byType[t.Type] = winner
		}
	}
	r.types = r.types[:0]
	for _, name := range order {
		r.types = append(r.types, byType[name])
	}
	sort.SliceStable(r.types, func(i, j int) bool { return r.types[i].Priority > r.types[j].Priority })
}

// Plugins returns a snapshot of every plugin binary found, loaded or not, by
// file name.
func (r *Registry) Plugins() []PluginInfo {
	r.mu.Lock()
	ps := append([]*Plugin(nil), r.plugins...)
	r.mu.Unlock()
	out := make([]PluginInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Info())
	}
	return out
}

// Plugin returns the plugin with the given manifest name or file name.
func (r *Registry) Plugin(name string) (*Plugin, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.plugins {
		if p.file == name || p.Name() == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoPlugin, name)
}

// Types returns the dispatchable stream types, highest priority first.
func (r *Registry) Types() []TypeInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TypeInfo(nil), r.types...)
}

func (r *Registry) typeInfo(name string) (TypeInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.types {
		if t.Type == name {
			return t, true
		}
	}
	return TypeInfo{}, false
}

// NewFromSDP returns a stream for m-line req.StreamIndex of an incoming
// offer: the types whose match rule accepts the m-line are asked, highest
// priority first, one RPC per plugin. The error wraps sdk.ErrUnknownStream
// when no type claims the line, sdk.ErrInvalidStream when the SDP is
// malformed or the claiming type refused it.
func (r *Registry) NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (*Stream, error) {
	if r.isClosed() {
		return nil, ErrClosed
	}
	_, m, err := sdk.OfferMediaAt(req)
	if err != nil {
		return nil, err
	}
	var cands []TypeInfo
	for _, t := range r.Types() {
		if len(req.Types) > 0 && !contains(req.Types, t.Type) {
			continue
		}
		if t.Match.Matches(m) {
			cands = append(cands, t)
		}
	}
	for i := 0; i < len(cands); {
		// Consecutive candidates of one plugin go in one call.
		j := i + 1
		for j < len(cands) && cands[j].Plugin == cands[i].Plugin {
			j++
		}
		p := cands[i].Plugin
		names := make([]string, 0, j-i)
		for _, c := range cands[i:j] {
			names = append(names, c.Type)
		}
		i = j
		inst, err := p.current(ctx)
		if err != nil {
			return nil, err
		}
		sub := *req
		sub.Types = names
		o, err := inst.prov.NewFromSDP(ctx, &sub)
		if errors.Is(err, sdk.ErrUnknownStream) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return r.wrap(ctx, inst, o)
	}
	return nil, sdk.Errorf(sdk.ErrUnknownStream, "no stream type accepts m=%s %s", m.MediaName.Media, strings.Join(m.MediaName.Protos, "/"))
}

// Create returns a new stream of type req.Type for an outgoing offer.
func (r *Registry) Create(ctx context.Context, req *sdk.CreateRequest) (*Stream, error) {
	if r.isClosed() {
		return nil, ErrClosed
	}
	t, ok := r.typeInfo(req.Type)
	if !ok {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "unknown stream type: %s", req.Type)
	}
	inst, err := t.Plugin.current(ctx)
	if err != nil {
		return nil, err
	}
	o, err := inst.prov.Create(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.wrap(ctx, inst, o)
}

func (r *Registry) wrap(ctx context.Context, inst *instance, o *sdk.Opened) (*Stream, error) {
	s := &Stream{inst: inst, handle: o.Handle, typ: o.Type, inner: o.Stream,
		prepared: o.Prepared}
	if t, ok := r.typeInfo(o.Type); ok {
		s.prio, s.hold = t.Priority, t.HoldSupported
	}
	if err := inst.register(s); err != nil {
		_ = o.Stream.End(ctx)
		return nil, err
	}
	return s, nil
}

// Invoke calls a plugin-scope method of the named plugin (list devices,
// play a tone, …).
func (r *Registry) Invoke(ctx context.Context, plugin string, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	p, err := r.Plugin(plugin)
	if err != nil {
		return nil, err
	}
	inst, err := p.current(ctx)
	if err != nil {
		return nil, err
	}
	return inst.prov.Invoke(ctx, req)
}

// Close ends every live stream (bounded by ctx), shuts every plugin down and
// waits until no plugin process is left.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	plugins := append([]*Plugin(nil), r.plugins...)
	cancel, launch, sockDir := r.cancel, r.launch, r.sockDir
	r.mu.Unlock()
	// End the streams while the notification pumps still run, so their
	// last notifications reach the center.
	dctx, dcancel := context.WithTimeout(ctx, drainTimeout)
	var wg sync.WaitGroup
	for _, p := range plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.drain(dctx)
		}()
	}
	wg.Wait()
	dcancel()
	if cancel != nil {
		cancel() // stop the supervisors: no restarts from here on
	}
	r.wg.Wait()
	for _, p := range plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.shutdown(ctx)
		}()
	}
	wg.Wait()
	if launch != nil {
		launch.close()
	}
	if sockDir != "" {
		_ = os.RemoveAll(sockDir)
	}
	return nil
}

// drainTimeout bounds how long Close waits for streams to end.
const drainTimeout = 5 * time.Second

func (r *Registry) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type waitHookKey struct{}

// WithWaitHook returns a context whose requests call wait when they have
// to wait for a plugin to become ready (a crashed plugin restarting, one
// still starting), and the function wait returns (if not nil) when the
// wait ends. A
// host's overload control uses it to tell such a wait from queueing in
// the host (session.SetupWait).
func WithWaitHook(ctx context.Context, wait func() (end func())) context.Context {
	return context.WithValue(ctx, waitHookKey{}, wait)
}

// waitHook is ctx's hook, or one that does nothing.
func waitHook(ctx context.Context) func() (end func()) {
	if h, ok := ctx.Value(waitHookKey{}).(func() (end func())); ok && h != nil {
		return h
	}
	return func() func() { return func() {} }
}
