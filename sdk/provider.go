package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

// Provider is a plugin as the host sees it. NewProvider runs a Plugin
// in-process; the gRPC client the registry gets from go-plugin implements the
// same interface, so the host drives both with one code path.
type Provider interface {
	// Describe returns the plugin's manifest.
	Describe(ctx context.Context) (*Manifest, error)
	// NewFromSDP builds a stream for an incoming m-line, trying the plugin's
	// types whose match rule accepts it, by descending priority.
	NewFromSDP(ctx context.Context, req *NewFromSDPRequest) (*Opened, error)
	// Create builds a stream of a given type for an outgoing offer.
	Create(ctx context.Context, req *CreateRequest) (*Opened, error)
	// Invoke calls a plugin-scope method.
	Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error)
	// Notifications returns the plugin's notification stream. There is one
	// consumer at a time; notifications posted while nobody listens are
	// kept, not lost.
	Notifications(ctx context.Context) (NotificationStream, error)
}

// Opened is a stream that NewFromSDP or Create built; with a Prepare
// request, the embedded Prepared holds what the plugin did besides.
type Opened struct {
	Handle uint64
	Type   string
	Stream Stream
	Prepared
}

// NotificationStream yields notifications in the order they were posted.
type NotificationStream interface {
	// Recv blocks until the next notification, or returns an error when the
	// stream's context ends or the plugin goes away.
	Recv() (*Notification, error)
}

// ProviderOption configures NewProvider.
type ProviderOption func(*LocalProvider)

// WithProviderLogger sets the logger handed to streams through Env.
func WithProviderLogger(l *slog.Logger) ProviderOption {
	return func(p *LocalProvider) { p.log = l }
}

// LocalProvider runs a Plugin in-process: it assigns stream handles,
// serialises the calls to each stream, recovers panics into ErrInternal and
// queues notifications. Serve uses it behind the gRPC boundary.
type LocalProvider struct {
	plugin   *Plugin
	manifest *Manifest
	types    []*StreamType // by descending priority, stable
	log      *slog.Logger

	mu       sync.Mutex
	next     uint64
	streams  map[uint64]*localStream
	initWait map[uint64]chan Notification // Prepare waiting for an initialize outcome
	closed   bool

	queue notificationQueue
}

var _ Provider = (*LocalProvider)(nil)

// NewProvider validates p and returns it as an in-process Provider.
func NewProvider(p *Plugin, opts ...ProviderOption) (*LocalProvider, error) {
	m := p.Manifest()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	for i := range p.Types {
		t := &p.Types[i]
		if t.NewFromSDP == nil && t.Create == nil {
			return nil, Errorf(ErrInvalidArgument, "plugin %s: stream type %q has neither NewFromSDP nor Create", p.Name, t.Type)
		}
	}
	lp := &LocalProvider{
		plugin:   p,
		manifest: m,
		log:      slog.New(slog.DiscardHandler),
		streams:  map[uint64]*localStream{},
		initWait: map[uint64]chan Notification{},
	}
	lp.queue.init()
	for _, o := range opts {
		o(lp)
	}
	for i := range p.Types {
		lp.types = append(lp.types, &p.Types[i])
	}
	sort.SliceStable(lp.types, func(i, j int) bool { return lp.types[i].Priority > lp.types[j].Priority })
	return lp, nil
}

// Describe returns the manifest.
func (lp *LocalProvider) Describe(context.Context) (*Manifest, error) {
	m := *lp.manifest
	return &m, nil
}

// NewFromSDP implements Provider.
func (lp *LocalProvider) NewFromSDP(ctx context.Context, req *NewFromSDPRequest) (*Opened, error) {
	offer, m, err := OfferMediaAt(req)
	if err != nil {
		return nil, err
	}
	if req.Offer == nil {
		// The type gets the parse; the caller's request stays as it is.
		withOffer := *req
		withOffer.Offer = offer
		req = &withOffer
	}
	for _, t := range lp.types {
		if t.NewFromSDP == nil || !t.Match.Matches(m) {
			continue
		}
		if len(req.Types) > 0 && !containsFold(req.Types, t.Type) {
			continue
		}
		o, err := lp.open(ctx, t, func(env *Env) (Stream, error) { return t.NewFromSDP(ctx, req, env) })
		if errors.Is(err, ErrUnknownStream) {
			continue
		}
		if err == nil && req.Prepare != nil && !o.Stream.(*localStream).deferPrepare() {
			err = lp.prepare(ctx, o, req.Prepare, &GetLocalMediaRequest{RemoteSDP: req.RemoteSDP, StreamIndex: req.StreamIndex})
		}
		if err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, Errorf(ErrUnknownStream, "no stream type of %s accepts m=%s %s", lp.plugin.Name,
		m.MediaName.Media, joinProtos(m.MediaName.Protos))
}

// Create implements Provider.
func (lp *LocalProvider) Create(ctx context.Context, req *CreateRequest) (*Opened, error) {
	for _, t := range lp.types {
		if t.Type != req.Type {
			continue
		}
		if t.Create == nil {
			return nil, Errorf(ErrNotImplemented, "stream type %q cannot be created for an offer", t.Type)
		}
		o, err := lp.open(ctx, t, func(env *Env) (Stream, error) { return t.Create(ctx, req, env) })
		if err == nil && req.Prepare != nil {
			err = lp.prepare(ctx, o, req.Prepare, &GetLocalMediaRequest{ForOffer: true})
		}
		if err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, Errorf(ErrUnknownStream, "unknown stream type: %s", req.Type)
}

func (lp *LocalProvider) open(ctx context.Context, t *StreamType, build func(*Env) (Stream, error)) (*Opened, error) {
	lp.mu.Lock()
	if lp.closed {
		lp.mu.Unlock()
		return nil, Errorf(ErrPluginUnavailable, "plugin %s is closing", lp.plugin.Name)
	}
	lp.next++
	h := lp.next
	lp.mu.Unlock()
	env := &Env{Handle: h, Notifier: &notifier{lp: lp, q: &lp.queue, handle: h}, Logger: lp.log.With("stream", h, "type", t.Type)}
	var s Stream
	err := protect("new "+t.Type, func() error {
		var err error
		s, err = build(env)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, Errorf(ErrInternal, "stream type %q returned no stream", t.Type)
	}
	ls := &localStream{lp: lp, handle: h, typ: t.Type, s: s}
	lp.mu.Lock()
	lp.streams[h] = ls
	lp.mu.Unlock()
	return &Opened{Handle: h, Type: t.Type, Stream: ls}, nil
}

// prepare runs Initialize, waits for its outcome notification and gets the
// local media, filling o. A failure to initialize is reported in o, not as
// an error: the stream exists and the session ends it. On an error the
// stream is ended, since the caller never learns its handle.
func (lp *LocalProvider) prepare(ctx context.Context, o *Opened, p *Prepare, media *GetLocalMediaRequest) (err error) {
	defer func() {
		if err != nil {
			ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = o.Stream.End(ectx)
			cancel()
		}
	}()
	outcome := make(chan Notification, 1)
	lp.mu.Lock()
	lp.initWait[o.Handle] = outcome
	lp.mu.Unlock()
	defer func() {
		lp.mu.Lock()
		delete(lp.initWait, o.Handle)
		lp.mu.Unlock()
	}()
	if err := o.Stream.Initialize(ctx, &InitializeRequest{Session: p.Session, Direction: p.Direction}); err != nil {
		return err
	}
	select {
	case n := <-outcome:
		if n.Name == MediaStreamDidNotInitialize {
			var d DidNotInitializeData
			_ = n.Decode(&d)
			o.InitError = d.Reason
			if o.InitError == "" {
				o.InitError = "did not initialize"
			}
			return nil
		}
		o.Initialized = true
	case <-ctx.Done():
		return ctx.Err()
	}
	if !p.LocalMedia {
		return nil
	}
	res, err := o.Stream.GetLocalMedia(ctx, media)
	if err != nil {
		return err
	}
	o.Media = res.Media
	return nil
}

// Invoke calls a plugin-scope method.
func (lp *LocalProvider) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	fn, ok := lp.plugin.Methods[req.Method]
	if !ok {
		return nil, Errorf(ErrUnknownMethod, "plugin %s has no method %q", lp.plugin.Name, req.Method)
	}
	env := &Env{Notifier: &notifier{q: &lp.queue}, Logger: lp.log.With("method", req.Method)}
	var res any
	err := protect(req.Method, func() error {
		var err error
		res, err = fn(ctx, req.Args, env)
		return err
	})
	if err != nil {
		return nil, err
	}
	raw, err := MarshalJSONValue(res)
	if err != nil {
		return nil, err
	}
	return &InvokeResponse{Result: raw}, nil
}

// Notifications implements Provider.
func (lp *LocalProvider) Notifications(ctx context.Context) (NotificationStream, error) {
	return lp.queue.subscribe(ctx)
}

// Stream returns the live stream with handle h.
func (lp *LocalProvider) Stream(h uint64) (Stream, error) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	ls, ok := lp.streams[h]
	if !ok {
		return nil, Errorf(ErrStreamNotFound, "no stream with handle %d", h)
	}
	return ls, nil
}

// Len returns the number of live streams.
func (lp *LocalProvider) Len() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.streams)
}

// opened counts the streams opened so far.
func (lp *LocalProvider) opened() uint64 {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.next
}

// Close ends every live stream (bounded by ctx), then refuses new ones and,
// the first time, calls the Plugin's Close. The
// notification queue stays readable so the host receives the final
// MediaStreamDidEnd notifications.
func (lp *LocalProvider) Close(ctx context.Context) error {
	lp.mu.Lock()
	first := !lp.closed
	lp.closed = true
	live := make([]*localStream, 0, len(lp.streams))
	for _, s := range lp.streams {
		live = append(live, s)
	}
	lp.mu.Unlock()
	sort.Slice(live, func(i, j int) bool { return live[i].handle < live[j].handle })
	var errs []error
	for _, s := range live {
		if err := s.End(ctx); err != nil && !errors.Is(err, ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	if first && lp.plugin.Close != nil {
		if err := protect("Close", func() error { return lp.plugin.Close(ctx) }); err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: close: %w", lp.plugin.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (lp *LocalProvider) remove(h uint64) {
	lp.mu.Lock()
	delete(lp.streams, h)
	lp.mu.Unlock()
}

// protect runs fn, turning a panic into ErrInternal.
func protect(what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Errorf(ErrInternal, "panic in %s: %v\n%s", what, r, debug.Stack())
		}
	}()
	return normalize(fn())
}

func joinProtos(p []string) string {
	out := ""
	for i, s := range p {
		if i > 0 {
			out += "/"
		}
		out += s
	}
	return out
}

// localStream serialises calls to one vendor stream and forgets it once
// ended.
type localStream struct {
	lp     *LocalProvider
	handle uint64
	typ    string

	mu    sync.Mutex
	s     Stream
	ended bool
}

var _ Stream = (*localStream)(nil)

func (ls *localStream) do(what string, fn func(Stream) error) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ended {
		return Errorf(ErrStreamNotFound, "stream %d has ended", ls.handle)
	}
	return protect(ls.typ+"."+what, func() error { return fn(ls.s) })
}

func (ls *localStream) Initialize(ctx context.Context, req *InitializeRequest) error {
	return ls.do("Initialize", func(s Stream) error { return s.Initialize(ctx, req) })
}

func (ls *localStream) GetLocalMedia(ctx context.Context, req *GetLocalMediaRequest) (*GetLocalMediaResponse, error) {
	var res *GetLocalMediaResponse
	err := ls.do("GetLocalMedia", func(s Stream) error {
		var err error
		res, err = s.GetLocalMedia(ctx, req)
		if err == nil && res == nil {
			err = Errorf(ErrInternal, "GetLocalMedia returned nothing")
		}
		return err
	})
	return res, err
}

func (ls *localStream) Start(ctx context.Context, req *StartRequest) error {
	return ls.do("Start", func(s Stream) error { return s.Start(ctx, req) })
}

func (ls *localStream) ValidateUpdate(ctx context.Context, req *ValidateUpdateRequest) (*ValidateUpdateResponse, error) {
	var res *ValidateUpdateResponse
	err := ls.do("ValidateUpdate", func(s Stream) error {
		var err error
		res, err = s.ValidateUpdate(ctx, req)
		if err == nil && res == nil {
			res = &ValidateUpdateResponse{}
		}
		return err
	})
	return res, err
}

func (ls *localStream) Update(ctx context.Context, req *UpdateRequest) error {
	return ls.do("Update", func(s Stream) error { return s.Update(ctx, req) })
}

func (ls *localStream) Hold(ctx context.Context) error {
	return ls.do("Hold", func(s Stream) error { return s.Hold(ctx) })
}

func (ls *localStream) Unhold(ctx context.Context) error {
	return ls.do("Unhold", func(s Stream) error { return s.Unhold(ctx) })
}

func (ls *localStream) Deactivate(ctx context.Context) error {
	return ls.do("Deactivate", func(s Stream) error { return s.Deactivate(ctx) })
}

func (ls *localStream) End(ctx context.Context) error {
	err := ls.do("End", func(s Stream) error {
		err := s.End(ctx)
		ls.ended = true
		return err
	})
	if ls.isEnded() {
		ls.lp.remove(ls.handle)
	}
	return err
}

// deferPrepare asks the vendor's stream whether it wants to be prepared
// only when accepted (PrepareDeferrer).
func (ls *localStream) deferPrepare() bool {
	d, ok := ls.s.(PrepareDeferrer)
	return ok && d.DeferPrepare()
}

func (ls *localStream) isEnded() bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.ended
}

func (ls *localStream) Reset(ctx context.Context, req *ResetRequest) error {
	return ls.do("Reset", func(s Stream) error { return s.Reset(ctx, req) })
}

func (ls *localStream) Attributes(ctx context.Context) (*Attributes, error) {
	var res *Attributes
	err := ls.do("Attributes", func(s Stream) error {
		var err error
		res, err = s.Attributes(ctx)
		if err == nil && res == nil {
			res = &Attributes{}
		}
		return err
	})
	return res, err
}

func (ls *localStream) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	var res *InvokeResponse
	err := ls.do("Invoke", func(s Stream) error {
		var err error
		res, err = s.Invoke(ctx, req)
		if err == nil && res == nil {
			res = &InvokeResponse{}
		}
		return err
	})
	return res, err
}

// notifier posts into the provider's queue for one handle.
type notifier struct {
	lp     *LocalProvider // nil for plugin-scope notifications
	q      *notificationQueue
	handle uint64
}

func (n *notifier) Post(name string, data any) {
	raw, err := MarshalJSONValue(data)
	if err != nil {
		raw = []byte(fmt.Sprintf(`{"marshal_error":%q}`, err.Error()))
	}
	nt := Notification{Handle: n.handle, Name: name, Time: time.Now(), Data: raw}
	n.q.push(nt)
	if n.lp != nil && (name == MediaStreamDidInitialize || name == MediaStreamDidNotInitialize) {
		n.lp.mu.Lock()
		w := n.lp.initWait[n.handle]
		n.lp.mu.Unlock()
		if w != nil {
			select {
			case w <- nt:
			default:
			}
		}
	}
}
