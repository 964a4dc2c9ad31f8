package registry

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Stream is the host-side proxy of a stream living in a plugin process. It
// satisfies sdk.Stream, so the session layer drives it exactly like an
// in-process stream. Its notifications go to the registry's Notifier with
// the *Stream as sender, and to its owner (see Observe).
type Stream struct {
	inst   *instance
	handle uint64
	typ    string
	prio   int
	hold   bool
	inner  sdk.Stream

	prepared sdk.Prepared

	mu        sync.Mutex
	dead      string // reason, once the plugin process died
	ended     bool   // End was called after death and notifications synthesised
	lastError string

	// emitMu orders the stream's notifications (the plugin's pump, the
	// supervisor's crash report, End after death) for both receivers.
	emitMu sync.Mutex
	owner  func(sdk.StreamEvent)
	early  []sdk.StreamEvent // lifecycle events before the first Observe
}

var _ sdk.Stream = (*Stream)(nil)

// maxEarly bounds the lifecycle events kept for an owner that has not
// observed the stream yet (a stream posts each generic name at most once).
const maxEarly = 16

// Prepared returns the outcome of sdk.Prepare; the zero value when the
// stream was not built with it.
func (s *Stream) Prepared() sdk.Prepared { return s.prepared }

// Observe makes fn the owner of the stream's events: each of its
// notifications is passed to fn, in order, right after it went to the
// registry's Notifier. The generic MediaStream* events posted before the
// first Observe are replayed to fn first, so an owner that takes the
// stream over late misses no failure. fn must not block; a later Observe
// replaces it, nil stops the delivery.
func (s *Stream) Observe(fn func(sdk.StreamEvent)) {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	early := s.early
	s.early = nil
	s.owner = fn
	if fn == nil {
		return
	}
	for _, e := range early {
		fn(e)
	}
}

// Type returns the stream type ("audio", "chat", …).
func (s *Stream) Type() string { return s.typ }

// Priority returns the stream type's priority.
func (s *Stream) Priority() int { return s.prio }

// HoldSupported tells whether the type supports hold (from the manifest).
func (s *Stream) HoldSupported() bool { return s.hold }

// Plugin returns the plugin serving the stream.
func (s *Stream) Plugin() *Plugin { return s.inst.p }

// Handle returns the plugin's handle of the stream.
func (s *Stream) Handle() uint64 { return s.handle }

func (s *Stream) deadReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// call runs fn unless the plugin died under the stream.
func (s *Stream) call(fn func() error) error {
	if r := s.deadReason(); r != "" {
		return sdk.Errorf(sdk.ErrPluginUnavailable, "%s", r)
	}
	return fn()
}

// emit posts one event of the stream to the Notifier, then to its owner.
func (s *Stream) emit(e sdk.StreamEvent) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	s.inst.p.r.notify(Notification{Name: e.Name, Sender: s, Time: e.Time, Data: e.Data})
	switch {
	case s.owner != nil:
		s.owner(e)
	case strings.HasPrefix(e.Name, "MediaStream") && len(s.early) < maxEarly:
		s.early = append(s.early, e)
	}
}

func (s *Stream) post(name string, data any) {
	s.emit(sdk.StreamEvent{Name: name, Data: data})
}

// deliver re-posts a plugin notification with s as sender.
func (s *Stream) deliver(n *sdk.Notification) {
	data := decodeData(n)
	if d, ok := data.(sdk.DidFailData); ok {
		s.mu.Lock()
		s.lastError = d.Reason
		s.mu.Unlock()
	}
	s.emit(sdk.StreamEvent{Name: n.Name, Time: n.Time, Data: data})
}

// fail is called when the plugin process died under the stream.
func (s *Stream) fail(reason string) {
	s.mu.Lock()
	if s.dead != "" {
		s.mu.Unlock()
		return
	}
	s.dead = reason
	s.lastError = reason
	s.mu.Unlock()
	s.post(sdk.MediaStreamDidFail, sdk.DidFailData{Context: "plugin", Reason: reason})
}

// Initialize implements sdk.Stream.
func (s *Stream) Initialize(ctx context.Context, req *sdk.InitializeRequest) error {
	return s.call(func() error { return s.inner.Initialize(ctx, req) })
}

// GetLocalMedia implements sdk.Stream.
func (s *Stream) GetLocalMedia(ctx context.Context, req *sdk.GetLocalMediaRequest) (res *sdk.GetLocalMediaResponse, err error) {
	err = s.call(func() error { res, err = s.inner.GetLocalMedia(ctx, req); return err })
	return res, err
}

// Start implements sdk.Stream.
func (s *Stream) Start(ctx context.Context, req *sdk.StartRequest) error {
	return s.call(func() error { return s.inner.Start(ctx, req) })
}

// ValidateUpdate implements sdk.Stream.
func (s *Stream) ValidateUpdate(ctx context.Context, req *sdk.ValidateUpdateRequest) (res *sdk.ValidateUpdateResponse, err error) {
	err = s.call(func() error { res, err = s.inner.ValidateUpdate(ctx, req); return err })
	return res, err
}

// Update implements sdk.Stream.
func (s *Stream) Update(ctx context.Context, req *sdk.UpdateRequest) error {
	return s.call(func() error { return s.inner.Update(ctx, req) })
}

// Hold implements sdk.Stream.
func (s *Stream) Hold(ctx context.Context) error {
	return s.call(func() error { return s.inner.Hold(ctx) })
}

// Unhold implements sdk.Stream.
func (s *Stream) Unhold(ctx context.Context) error {
	return s.call(func() error { return s.inner.Unhold(ctx) })
}

// Deactivate implements sdk.Stream. After the plugin died it is a no-op.
func (s *Stream) Deactivate(ctx context.Context) error {
	if s.deadReason() != "" {
		return nil
	}
	return s.inner.Deactivate(ctx)
}

// End implements sdk.Stream. When the plugin died under the stream, End
// still posts MediaStreamWillEnd and MediaStreamDidEnd (with the crash as
// error), as the session expects of every stream it ends.
func (s *Stream) End(ctx context.Context) error {
	if s.endDead() {
		return nil
	}
	return s.inner.End(ctx)
}

// DeactivateAndEnd implements sdk.DeactivateEnder: Deactivate then End, in
// one call to a plugin of contract 1.3 or later. When the plugin died
// under the stream, it ends as End does.
func (s *Stream) DeactivateAndEnd(ctx context.Context) error {
	if s.endDead() {
		return nil
	}
	return sdk.DeactivateAndEnd(ctx, s.inner)
}

// endDead ends the stream of a plugin that died under it: it posts
// MediaStreamWillEnd and MediaStreamDidEnd (with the crash as error) once,
// as the session expects of every stream it ends. It reports false while
// the plugin is alive.
func (s *Stream) endDead() bool {
	s.mu.Lock()
	if s.dead == "" {
		s.mu.Unlock()
		return false
	}
	already := s.ended
	s.ended = true
	reason := s.dead
	s.mu.Unlock()
	if !already {
		s.post(sdk.MediaStreamWillEnd, nil)
		s.post(sdk.MediaStreamDidEnd, sdk.DidEndData{Error: reason})
	}
	return true
}

// Reset implements sdk.Stream.
func (s *Stream) Reset(ctx context.Context, req *sdk.ResetRequest) error {
	return s.call(func() error { return s.inner.Reset(ctx, req) })
}

// Attributes implements sdk.Stream.
func (s *Stream) Attributes(ctx context.Context) (res *sdk.Attributes, err error) {
	err = s.call(func() error { res, err = s.inner.Attributes(ctx); return err })
	return res, err
}

// Invoke implements sdk.Stream.
func (s *Stream) Invoke(ctx context.Context, req *sdk.InvokeRequest) (res *sdk.InvokeResponse, err error) {
	err = s.call(func() error { res, err = s.inner.Invoke(ctx, req); return err })
	return res, err
}
