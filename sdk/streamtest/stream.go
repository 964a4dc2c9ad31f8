package streamtest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sipstreams/sipstreams/sdk"
)

// typeSuite runs the cases of one stream type.
type typeSuite struct {
	*suite
	info sdk.StreamTypeInfo

	mu      sync.Mutex
	tracked []*stream // every stream the cases made, for quiet-after-end
}

// stream is a stream under test. Its methods bound every call by the
// configured timeout and fail the case, with the stream's notification log,
// when the call fails.
type stream struct {
	ts    *typeSuite
	label string
	h     uint64
	st    sdk.Stream
	ended bool
}

// track wraps an opened stream and ends it when the case ends, unless the
// case ended it.
func (ts *typeSuite) track(t tb, name string, o *sdk.Opened) *stream {
	t.Helper()
	x := &stream{ts: ts, label: fmt.Sprintf("%s (handle %d, type %s)", name, o.Handle, o.Type), h: o.Handle, st: o.Stream}
	ts.notes.label(o.Handle, x.label)
	ts.mu.Lock()
	ts.tracked = append(ts.tracked, x)
	ts.mu.Unlock()
	t.Cleanup(func() {
		if !x.ended {
			_, _ = call(ts.cfg.timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.st.Deactivate(ctx) })
			_, _ = call(ts.cfg.timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, x.st.End(ctx) })
		}
	})
	return x
}

// createRaw calls Create for the type with the configured parameters.
func (ts *typeSuite) createRaw(t tb) (*sdk.Opened, error) {
	t.Helper()
	params, err := sdk.MarshalJSONValue(ts.cfg.params[ts.info.Type])
	if err != nil {
		t.Fatalf("WithCreateParams(%q): %v", ts.info.Type, err)
	}
	return bounded(t, ts.cfg.timeout, "Create", func(ctx context.Context) (*sdk.Opened, error) {
		return ts.prov.Create(ctx, &sdk.CreateRequest{Type: ts.info.Type, Account: ts.cfg.account, Params: params})
	})
}

// create makes an outgoing stream of the type.
func (ts *typeSuite) create(t tb, name string) *stream {
	t.Helper()
	o, err := ts.createRaw(t)
	if err != nil {
		t.Fatalf("Create(type %s) for %s: %v", ts.info.Type, name, err)
	}
	x := ts.track(t, name, o)
	if o.Type != ts.info.Type {
		t.Fatalf("Create(type %s) made a stream of type %q", ts.info.Type, o.Type)
	}
	return x
}

// newFromSDP makes an incoming stream for m-line index of remote, which
// must be claimed by the type under test.
func (ts *typeSuite) newFromSDP(t tb, name, remote string, index int) *stream {
	t.Helper()
	o, err := bounded(t, ts.cfg.timeout, "NewFromSDP", func(ctx context.Context) (*sdk.Opened, error) {
		return ts.prov.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: ts.cfg.account, RemoteSDP: remote, StreamIndex: index})
	})
	if err != nil {
		t.Fatalf("NewFromSDP(index %d) for %s refused the type's own offer: %v\nSDP:\n%s", index, name, err, remote)
	}
	x := ts.track(t, name, o)
	if o.Type != ts.info.Type {
		t.Fatalf("NewFromSDP(index %d): an offer of type %s was claimed by type %s (check priorities and match rules)\nSDP:\n%s",
			index, ts.info.Type, o.Type, remote)
	}
	return x
}

// sessionInfo describes the session a stream joins.
func (ts *typeSuite) sessionInfo(direction string) *sdk.SessionInfo {
	n := ts.seq.Add(1)
	ip := ts.cfg.localIP
	local, remote := "sip:alice@"+ip, "sip:bob@"+ip
	if direction == sdk.DirectionIncoming {
		local, remote = remote, local
	}
	return &sdk.SessionInfo{
		ID:             fmt.Sprintf("streamtest-%d", n),
		Direction:      direction,
		LocalIdentity:  local,
		RemoteIdentity: remote,
		LocalIP:        ip,
	}
}

// newSide returns an SDP builder for one end of a call.
func (ts *typeSuite) newSide() *side { return newSide(ts.cfg.localIP, 1000+ts.seq.Add(1)) }

// try runs one call on the stream and returns its error; a call that does
// not return fails the case.
func (x *stream) try(t tb, what string, fn func(ctx context.Context) error) error {
	t.Helper()
	_, err := bounded(t, x.ts.cfg.timeout, x.label+"."+what, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// do runs one call on the stream and fails the case if it fails.
func (x *stream) do(t tb, what string, fn func(ctx context.Context) error) {
	t.Helper()
	if err := x.try(t, what, fn); err != nil {
		t.Fatalf("%s.%s: %v\n%s", x.label, what, err, x.ts.notes.dump(x.h))
	}
}

// initialize calls Initialize and waits for MediaStreamDidInitialize.
func (x *stream) initialize(t tb, session *sdk.SessionInfo) {
	t.Helper()
	x.startInitialize(t, session)
	n := x.ts.notes.waitAny(t, x.h, sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize)
	if n.Name == sdk.MediaStreamDidNotInitialize {
		var d sdk.DidNotInitializeData
		_ = n.Decode(&d)
		t.Fatalf("%s did not initialize: %q\n%s", x.label, d.Reason, x.ts.notes.dump(x.h))
	}
}

// startInitialize calls Initialize without waiting for its outcome.
func (x *stream) startInitialize(t tb, session *sdk.SessionInfo) {
	t.Helper()
	x.do(t, "Initialize", func(ctx context.Context) error {
		return x.st.Initialize(ctx, &sdk.InitializeRequest{Session: session, Direction: session.Direction})
	})
}

// localMedia calls GetLocalMedia and checks that the media section parses
// and that the type's own match rule admits it.
func (x *stream) localMedia(t tb, req *sdk.GetLocalMediaRequest) string {
	t.Helper()
	what := "GetLocalMedia(offer)"
	if !req.ForOffer {
		what = fmt.Sprintf("GetLocalMedia(answer to index %d)", req.StreamIndex)
	}
	var res *sdk.GetLocalMediaResponse
	x.do(t, what, func(ctx context.Context) error {
		var err error
		res, err = x.st.GetLocalMedia(ctx, req)
		return err
	})
	m, err := sdk.ParseMedia(crlf(res.Media))
	if err != nil {
		t.Fatalf("%s.%s returned media that does not parse: %v\n%s", x.label, what, err, res.Media)
	}
	if m.MediaName.Port.Value != 0 && !x.ts.info.Match.Matches(m) {
		t.Errorf("%s.%s returned an m-line that the type's own match rule %+v does not admit: a host would never route it back\n%s",
			x.label, what, x.ts.info.Match, res.Media)
	}
	return res.Media
}

// offer returns the stream's media for an offer.
func (x *stream) offer(t tb) string {
	t.Helper()
	return x.localMedia(t, &sdk.GetLocalMediaRequest{ForOffer: true})
}

// answer returns the stream's media answering m-line index of remote.
func (x *stream) answer(t tb, remote string, index int) string {
	t.Helper()
	return x.localMedia(t, &sdk.GetLocalMediaRequest{RemoteSDP: remote, StreamIndex: index})
}

// start calls Start without waiting for its outcome.
func (x *stream) start(t tb, local, remote string, index int) {
	t.Helper()
	x.do(t, "Start", func(ctx context.Context) error {
		return x.st.Start(ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: index})
	})
}

// waitStarted waits for MediaStreamDidStart and fails on MediaStreamDidFail.
func (x *stream) waitStarted(t tb) {
	t.Helper()
	n := x.ts.notes.waitAny(t, x.h, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail)
	if n.Name == sdk.MediaStreamDidFail {
		var d sdk.DidFailData
		_ = n.Decode(&d)
		t.Fatalf("%s failed to start: %s: %s\n%s", x.label, d.Context, d.Reason, x.ts.notes.dump(x.h))
	}
}

// validateUpdate calls ValidateUpdate.
func (x *stream) validateUpdate(t tb, remote string, index int) bool {
	t.Helper()
	var res *sdk.ValidateUpdateResponse
	x.do(t, "ValidateUpdate", func(ctx context.Context) error {
		var err error
		res, err = x.st.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{RemoteSDP: remote, StreamIndex: index})
		return err
	})
	return res.OK
}

// mustValidate fails the case unless ValidateUpdate accepts remote.
func (x *stream) mustValidate(t tb, remote string, index int) {
	t.Helper()
	if !x.validateUpdate(t, remote, index) {
		t.Fatalf("%s.ValidateUpdate(index %d) refused a valid re-offer (a host answers 488)\nSDP:\n%s\n%s",
			x.label, index, remote, x.ts.notes.dump(x.h))
	}
}

// update calls Update.
func (x *stream) update(t tb, local, remote string, index int) {
	t.Helper()
	x.do(t, "Update", func(ctx context.Context) error {
		return x.st.Update(ctx, &sdk.UpdateRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: index})
	})
}

func (x *stream) hold(t tb) {
	t.Helper()
	x.do(t, "Hold", x.st.Hold)
}

func (x *stream) unhold(t tb) {
	t.Helper()
	x.do(t, "Unhold", x.st.Unhold)
}

func (x *stream) deactivate(t tb) {
	t.Helper()
	x.do(t, "Deactivate", x.st.Deactivate)
}

func (x *stream) reset(t tb, index int) {
	t.Helper()
	x.do(t, "Reset", func(ctx context.Context) error { return x.st.Reset(ctx, &sdk.ResetRequest{StreamIndex: index}) })
}

// end calls End without waiting for its notifications.
func (x *stream) end(t tb) {
	t.Helper()
	x.ended = true
	x.do(t, "End", x.st.End)
}

// attributes calls Attributes and checks HoldSupported against the manifest.
func (x *stream) attributes(t tb) *sdk.Attributes {
	t.Helper()
	var a *sdk.Attributes
	x.do(t, "Attributes", func(ctx context.Context) error {
		var err error
		a, err = x.st.Attributes(ctx)
		return err
	})
	if a.HoldSupported != x.ts.info.HoldSupported {
		t.Errorf("%s: Attributes().HoldSupported = %v, the manifest says %v", x.label, a.HoldSupported, x.ts.info.HoldSupported)
	}
	return a
}

// invoke calls Invoke and returns its error.
func (x *stream) invoke(t tb, method string) error {
	t.Helper()
	return x.try(t, "Invoke", func(ctx context.Context) error {
		_, err := x.st.Invoke(ctx, &sdk.InvokeRequest{Method: method})
		return err
	})
}

// assertGone checks that an ended stream is forgotten: every call gives
// ErrStreamNotFound.
func (x *stream) assertGone(t tb) {
	t.Helper()
	calls := []struct {
		what string
		fn   func(ctx context.Context) error
	}{
		{"Attributes", func(ctx context.Context) error { _, err := x.st.Attributes(ctx); return err }},
		{"GetLocalMedia", func(ctx context.Context) error {
			_, err := x.st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
			return err
		}},
		{"Hold", x.st.Hold},
		{"Invoke", func(ctx context.Context) error {
			_, err := x.st.Invoke(ctx, &sdk.InvokeRequest{Method: "x-no-such-method"})
			return err
		}},
		{"End", x.st.End},
	}
	for _, c := range calls {
		if err := x.try(t, c.what, c.fn); !errors.Is(err, sdk.ErrStreamNotFound) {
			t.Errorf("%s.%s after End = %v, want an error wrapping %v", x.label, c.what, err, sdk.ErrStreamNotFound)
		}
	}
}

// assertNoFail checks that none of streams posted MediaStreamDidFail.
func (ts *typeSuite) assertNoFail(t tb, streams ...*stream) {
	t.Helper()
	for _, x := range streams {
		ts.notes.assertNo(t, x.h, sdk.MediaStreamDidFail)
	}
}

// assertAlive checks that streams still answer Attributes and have not
// failed.
func (ts *typeSuite) assertAlive(t tb, streams ...*stream) {
	t.Helper()
	for _, x := range streams {
		x.attributes(t)
	}
	ts.assertNoFail(t, streams...)
}

// full is the generic notification sequence of a stream that was
// initialized, started and ended without trouble.
var full = []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}

// endAll tears streams down as a session does (Deactivate every stream,
// then End every stream), waits for each MediaStreamDidEnd and checks each
// stream's generic sequence against want and that the stream is forgotten.
func (ts *typeSuite) endAll(t tb, want []string, streams ...*stream) {
	t.Helper()
	for _, x := range streams {
		x.deactivate(t)
	}
	for _, x := range streams {
		x.end(t)
	}
	for _, x := range streams {
		ts.notes.waitFor(t, x.h, sdk.MediaStreamDidEnd)
	}
	for _, x := range streams {
		ts.notes.assertSequence(t, x.h, want)
		x.assertGone(t)
	}
}

// fence makes and ends a throwaway stream and waits for its last
// notification. Notifications travel in one ordered stream, so whatever the
// plugin posted before the fence has been read once it returns.
func (ts *typeSuite) fence(t tb) {
	t.Helper()
	f := ts.create(t, "fence")
	f.end(t)
	ts.notes.waitAny(t, f.h, sdk.MediaStreamDidEnd, sdk.MediaStreamDidNotInitialize)
}
