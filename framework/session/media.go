package session

import (
	"context"
	"fmt"
	"sync"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

// outcomes collects, per stream, the first of a set of notifications (for
// example MediaStreamDidStart or MediaStreamDidFail) posted after it was
// created.
type outcomes struct {
	mu     sync.Mutex
	want   map[any]bool
	names  map[string]bool
	got    map[any]notify.Notification
	signal chan struct{}
	unsub  func()
}

// watchOutcomes subscribes before the calls whose outcome it waits for, so
// nothing is missed.
func watchOutcomes(c *notify.Center, streams []Stream, names ...string) *outcomes {
	o := &outcomes{want: map[any]bool{}, names: map[string]bool{}, got: map[any]notify.Notification{}, signal: make(chan struct{}, 1)}
	for _, s := range streams {
		o.want[s] = true
	}
	for _, n := range names {
		o.names[n] = true
	}
	o.unsub = c.Subscribe(notify.ObserverFunc(o.handle), "", nil)
	return o
}

// only narrows the watched streams to those whose call succeeded.
func (o *outcomes) only(streams []Stream) {
	o.mu.Lock()
	o.want = setOf(streams)
	o.mu.Unlock()
}

func (o *outcomes) handle(n notify.Notification) {
	if !o.names[n.Name] {
		return
	}
	o.mu.Lock()
	if o.want[n.Sender] {
		if _, seen := o.got[n.Sender]; !seen {
			o.got[n.Sender] = n
		}
	}
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// wait blocks until every watched stream has an outcome or ctx ends, and
// returns what came; streams without an outcome are missing from the map.
func (o *outcomes) wait(ctx context.Context) map[any]notify.Notification {
	defer o.unsub()
	for {
		o.mu.Lock()
		done := len(o.got) == len(o.want)
		o.mu.Unlock()
		if done {
			break
		}
		select {
		case <-o.signal:
		case <-ctx.Done():
			o.mu.Lock()
			defer o.mu.Unlock()
			return o.copyLocked()
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.copyLocked()
}

func (o *outcomes) copyLocked() map[any]notify.Notification {
	out := make(map[any]notify.Notification, len(o.got))
	for k, v := range o.got {
		out[k] = v
	}
	return out
}

// streamFailure is why one stream did not initialize or start.
type streamFailure struct {
	Stream Stream
	Reason string
}

func (f streamFailure) String() string { return fmt.Sprintf("%s: %s", f.Stream.Type(), f.Reason) }

// initialize calls Initialize on every stream and waits for each
// MediaStreamDidInitialize or MediaStreamDidNotInitialize. Streams prepared
// by a fused Create/NewFromSDP (already initialized) are not called again.
// It returns the streams that initialized and the failures.
func initialize(ctx context.Context, c *notify.Center, streams []Stream, info *sdk.SessionInfo, dir Direction) ([]Stream, []streamFailure) {
	var todo, ok []Stream
	var failed []streamFailure
	for _, s := range streams {
		if pi, done := preparedOutcome(s); done {
			if pi.Initialized {
				ok = append(ok, s)
			} else {
				failed = append(failed, streamFailure{s, pi.InitError})
			}
			continue
		}
		todo = append(todo, s)
	}
	if len(todo) == 0 {
		return ok, failed
	}
	got, called, callFailed := callAndWait(ctx, c, todo,
		[]string{sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize},
		func(s Stream) error {
			return s.Initialize(ctx, &sdk.InitializeRequest{Session: info, Direction: string(dir)})
		})
	failed = append(failed, callFailed...)
	for _, s := range called {
		n, seen := got[s]
		switch {
		case !seen:
			failed = append(failed, streamFailure{s, "timed out"})
		case n.Name == sdk.MediaStreamDidInitialize:
			ok = append(ok, s)
		default:
			failed = append(failed, streamFailure{s, dataReason(n.Data)})
		}
	}
	return ok, failed
}

// callAndWait makes call on every stream, then waits (bounded by ctx) for
// each successfully called stream's first notification among names. Watching
// starts before the calls, so no outcome is missed.
func callAndWait(ctx context.Context, c *notify.Center, streams []Stream, names []string, call func(Stream) error) (map[any]notify.Notification, []Stream, []streamFailure) {
	w := watchOutcomes(c, streams, names...)
	var called []Stream
	var failed []streamFailure
	for _, s := range streams {
		if err := call(s); err != nil {
			failed = append(failed, streamFailure{s, sdk.ReasonOf(err)})
			continue
		}
		called = append(called, s)
	}
	w.only(called)
	return w.wait(ctx), called, failed
}

func setOf(streams []Stream) map[any]bool {
	m := make(map[any]bool, len(streams))
	for _, s := range streams {
		m[s] = true
	}
	return m
}

// preparedInfo mirrors registry.Prepared without importing the registry.
type preparedInfo struct {
	Initialized bool
	InitError   string
	Media       string
}

// preparedOutcome reports the fused-initialization outcome of s, if it was
// built with sdk.Prepare.
func preparedOutcome(s Stream) (preparedInfo, bool) {
	type prepared interface {
		PreparedOutcome() (initialized bool, initError, media string)
	}
	p, ok := s.(prepared)
	if !ok {
		return preparedInfo{}, false
	}
	ini, ierr, media := p.PreparedOutcome()
	if !ini && ierr == "" {
		return preparedInfo{}, false
	}
	return preparedInfo{Initialized: ini, InitError: ierr, Media: media}, true
}

// start starts every stream (index gives its m-line) and waits, up to
// MediaStreamTimeout, for each MediaStreamDidStart or MediaStreamDidFail.
func start(ctx context.Context, c *notify.Center, streams []Stream, index func(Stream) int, local, remote string) []streamFailure {
	if len(streams) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, MediaStreamTimeout)
	defer cancel()
	got, called, failed := callAndWait(ctx, c, streams,
		[]string{sdk.MediaStreamDidStart, sdk.MediaStreamDidFail},
		func(s Stream) error {
			return s.Start(ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: index(s)})
		})
	for _, s := range called {
		n, seen := got[s]
		switch {
		case !seen:
			failed = append(failed, streamFailure{s, "media stream timed-out while starting"})
		case n.Name == sdk.MediaStreamDidFail:
			failed = append(failed, streamFailure{s, dataReason(n.Data)})
		}
	}
	return failed
}

// end deactivates then ends every stream; it does not wait for their
// MediaStreamDidEnd (the streams post it when they are done).
func end(ctx context.Context, streams []Stream) {
	for _, s := range streams {
		_ = s.Deactivate(ctx)
	}
	for _, s := range streams {
		_ = s.End(ctx)
	}
}

// dataReason extracts the reason of a stream notification's data.
func dataReason(data any) string {
	switch d := data.(type) {
	case sdk.DidFailData:
		return d.Reason
	case sdk.DidNotInitializeData:
		return d.Reason
	}
	return "unknown reason"
}
