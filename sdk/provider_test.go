package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// testTimeout bounds every wait; it is a deadline, not a timing assertion.
const testTimeout = 30 * time.Second

var errBoom = errors.New("boom")

const audioOffer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

// fakeStream is a Stream whose behaviour a test sets with funcs; unset ones
// behave as UnimplementedStream, except End, which succeeds.
type fakeStream struct {
	UnimplementedStream
	env    *Env
	start  func() error
	invoke func(req *InvokeRequest) (*InvokeResponse, error)
	end    func() error
}

func (f *fakeStream) Start(context.Context, *StartRequest) error {
	if f.start != nil {
		return f.start()
	}
	return nil
}

func (f *fakeStream) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	if f.invoke != nil {
		return f.invoke(req)
	}
	return f.UnimplementedStream.Invoke(ctx, req)
}

func (f *fakeStream) End(context.Context) error {
	if f.end != nil {
		return f.end()
	}
	return nil
}

// callLog records the order in which factories run.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *callLog) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// fakeType is a stream type for m=media whose factories log their call and
// return err, or a fakeStream built by mk (when set).
func fakeType(name string, priority int, media string, log *callLog, err error, mk func(*Env) *fakeStream) StreamType {
	build := func(env *Env) (Stream, error) {
		log.add(name)
		if err != nil {
			return nil, err
		}
		if mk != nil {
			return mk(env), nil
		}
		return &fakeStream{env: env}, nil
	}
	return StreamType{
		Type: name, Priority: priority, Match: MatchRule{Media: []string{media}},
		NewFromSDP: func(_ context.Context, _ *NewFromSDPRequest, env *Env) (Stream, error) { return build(env) },
		Create:     func(_ context.Context, _ *CreateRequest, env *Env) (Stream, error) { return build(env) },
	}
}

// postMethod is a plugin-scope method posting {"n": count} notifications.
func postMethod(ctx context.Context, args json.RawMessage, env *Env) (any, error) {
	var a struct{ Count int }
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, Errorf(ErrInvalidArgument, "%v", err)
	}
	for i := range a.Count {
		env.Post("Tick", map[string]int{"i": i})
	}
	return map[string]int{"posted": a.Count}, nil
}

// testPlugin serves the types given, plus the plugin-scope methods "post",
// "fail" and "panic".
func testPlugin(types ...StreamType) *Plugin {
	return &Plugin{
		Name: "fake", Version: "1",
		Types: types,
		Methods: map[string]MethodFunc{
			"post": postMethod,
			"fail": func(context.Context, json.RawMessage, *Env) (any, error) {
				return nil, Errorf(ErrIllegalState, "not now")
			},
			"panic": func(context.Context, json.RawMessage, *Env) (any, error) { panic("plugin method exploded") },
		},
	}
}

func newLocal(t *testing.T, p *Plugin) *LocalProvider {
	t.Helper()
	lp, err := NewProvider(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lp.Close(context.Background()) })
	return lp
}

// overGRPC serves lp through go-plugin's in-memory gRPC connection and
// returns the host-side Provider as a registry gets it: described, so that
// its calls travel on the Calls stream (contract 1.2).
func overGRPC(t *testing.T, lp *LocalProvider) Provider {
	t.Helper()
	p := overGRPCUnary(t, lp)
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return p
}

// overGRPCUnary is overGRPC without Describe: the provider makes a unary
// call per method, as it does with a plugin older than contract 1.2.
func overGRPCUnary(t *testing.T, lp *LocalProvider) Provider {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: NewGRPCPlugin(lp)})
	t.Cleanup(func() {
		// Stop the server first: Close asks it to stop too, and go-plugin's
		// Stop is not safe to run twice at once.
		server.Stop()
		_ = client.Close()
	})
	p, err := Dispense(client)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// bothSides runs f against the in-process provider and against the same
// provider over gRPC, with the Calls stream and with unary calls.
func bothSides(t *testing.T, mk func(t *testing.T) *LocalProvider, f func(t *testing.T, p Provider, lp *LocalProvider)) {
	t.Run("local", func(t *testing.T) {
		lp := mk(t)
		f(t, lp, lp)
	})
	t.Run("grpc", func(t *testing.T) {
		lp := mk(t)
		f(t, overGRPC(t, lp), lp)
	})
	t.Run("grpc-unary", func(t *testing.T) {
		lp := mk(t)
		f(t, overGRPCUnary(t, lp), lp)
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func wantIs(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
}

func TestNewProviderValidates(t *testing.T) {
	_, err := NewProvider(&Plugin{Name: "empty"})
	wantIs(t, err, ErrInvalidArgument)
	_, err = NewProvider(&Plugin{Name: "nofactory", Types: []StreamType{{Type: "x", Match: MatchRule{Media: []string{"audio"}}}}})
	wantIs(t, err, ErrInvalidArgument)
}

func TestHandles(t *testing.T) {
	lp := newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	ctx := testCtx(t)
	var handles []uint64
	for range 3 {
		o, err := lp.Create(ctx, &CreateRequest{Type: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if o.Type != "a" || o.Stream == nil {
			t.Fatalf("opened %+v", o)
		}
		handles = append(handles, o.Handle)
	}
	if !slices.Equal(handles, []uint64{1, 2, 3}) {
		t.Fatalf("handles %v", handles)
	}
	o, err := lp.NewFromSDP(ctx, &NewFromSDPRequest{RemoteSDP: audioOffer})
	if err != nil || o.Handle != 4 {
		t.Fatalf("NewFromSDP = %+v, %v", o, err)
	}
	if lp.Len() != 4 {
		t.Fatalf("Len %d", lp.Len())
	}
	s, err := lp.Stream(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
	if lp.Len() != 3 {
		t.Fatalf("Len %d after End", lp.Len())
	}
	_, err = lp.Stream(2)
	wantIs(t, err, ErrStreamNotFound)
	_, err = lp.Stream(99)
	wantIs(t, err, ErrStreamNotFound)
	// Handles are never reused.
	o, err = lp.Create(ctx, &CreateRequest{Type: "a"})
	if err != nil || o.Handle != 5 {
		t.Fatalf("Create after End = %+v, %v", o, err)
	}
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name      string
		high, low error // what the factories return
		types     []string
		sdp       string
		index     int
		wantType  string
		wantErr   error // over gRPC; in-process too unless plain is set
		plain     error // the in-process error, when it is not a sentinel
		wantCalls []string
	}{
		{name: "highest priority first", wantType: "high", wantCalls: []string{"high"}},
		{name: "unknown falls through", high: Errorf(ErrUnknownStream, "not mine"), wantType: "low", wantCalls: []string{"high", "low"}},
		{name: "invalid stops", high: Errorf(ErrInvalidStream, "mine, but no"), wantErr: ErrInvalidStream, wantCalls: []string{"high"}},
		{name: "other errors stop", high: errBoom, wantErr: ErrInternal, plain: errBoom, wantCalls: []string{"high"}},
		{name: "nobody", high: ErrUnknownStream, low: ErrUnknownStream, wantErr: ErrUnknownStream, wantCalls: []string{"high", "low"}},
		{name: "types restrict", types: []string{"low"}, wantType: "low", wantCalls: []string{"low"}},
		{name: "types restrict to none", types: []string{"video"}, wantErr: ErrUnknownStream},
		{name: "prefilter", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=message 2855 TCP/MSRP *\r\n", wantType: "msg", wantCalls: []string{"msg"}},
		{name: "no type matches", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n", wantErr: ErrUnknownStream},
		{name: "malformed", sdp: "garbage", wantErr: ErrInvalidStream},
		{name: "index out of range", index: 1, wantErr: ErrInvalidStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log *callLog
			mk := func(t *testing.T) *LocalProvider {
				log = &callLog{}
				// Declared out of priority order on purpose; "msg" has the
				// highest priority but only matches m=message.
				return newLocal(t, testPlugin(
					fakeType("low", 1, "audio", log, tt.low, nil),
					fakeType("msg", 50, "message", log, nil, nil),
					fakeType("high", 10, "audio", log, tt.high, nil),
				))
			}
			bothSides(t, mk, func(t *testing.T, p Provider, lp *LocalProvider) {
				sdp := tt.sdp
				if sdp == "" {
					sdp = audioOffer
				}
				o, err := p.NewFromSDP(testCtx(t), &NewFromSDPRequest{Types: tt.types, RemoteSDP: sdp, StreamIndex: tt.index})
				switch {
				case tt.plain != nil && p == Provider(lp):
					// A vendor's own error reaches an in-process host as is,
					// and a remote host as ErrInternal.
					wantIs(t, err, tt.plain)
				case tt.wantErr != nil:
					wantIs(t, err, tt.wantErr)
				default:
					if err != nil || o.Type != tt.wantType {
						t.Fatalf("NewFromSDP = %+v, %v; want type %s", o, err, tt.wantType)
					}
				}
				if got := log.get(); !slices.Equal(got, tt.wantCalls) {
					t.Fatalf("factories called %v, want %v", got, tt.wantCalls)
				}
			})
		})
	}
}

func TestCreate(t *testing.T) {
	noCreate := fakeType("incoming-only", 1, "audio", &callLog{}, nil, nil)
	noCreate.Create = nil
	mk := func(t *testing.T) *LocalProvider {
		return newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil), noCreate))
	}
	bothSides(t, mk, func(t *testing.T, p Provider, _ *LocalProvider) {
		ctx := testCtx(t)
		o, err := p.Create(ctx, &CreateRequest{Type: "a", Params: json.RawMessage(`{}`)})
		if err != nil || o.Type != "a" || o.Handle == 0 {
			t.Fatalf("Create = %+v, %v", o, err)
		}
		_, err = p.Create(ctx, &CreateRequest{Type: "nope"})
		wantIs(t, err, ErrUnknownStream)
		_, err = p.Create(ctx, &CreateRequest{Type: "incoming-only"})
		wantIs(t, err, ErrNotImplemented)
	})
}

func TestPanicsBecomeErrInternal(t *testing.T) {
	mk := func(t *testing.T) *LocalProvider {
		boom := fakeType("boom", 1, "audio", &callLog{}, nil, nil)
		boom.Create = func(context.Context, *CreateRequest, *Env) (Stream, error) { panic("factory exploded") }
		nilStream := fakeType("nil", 1, "audio", &callLog{}, nil, nil)
		nilStream.Create = func(context.Context, *CreateRequest, *Env) (Stream, error) { return nil, nil }
		ok := fakeType("ok", 1, "audio", &callLog{}, nil, func(env *Env) *fakeStream {
			return &fakeStream{env: env, invoke: func(req *InvokeRequest) (*InvokeResponse, error) {
				if req.Method == "panic" {
					panic("method exploded")
				}
				return &InvokeResponse{Result: json.RawMessage(`"fine"`)}, nil
			}}
		})
		return newLocal(t, testPlugin(boom, nilStream, ok))
	}
	bothSides(t, mk, func(t *testing.T, p Provider, _ *LocalProvider) {
		ctx := testCtx(t)
		_, err := p.Create(ctx, &CreateRequest{Type: "boom"})
		wantIs(t, err, ErrInternal)
		_, err = p.Create(ctx, &CreateRequest{Type: "nil"})
		wantIs(t, err, ErrInternal)
		o, err := p.Create(ctx, &CreateRequest{Type: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Stream.Invoke(ctx, &InvokeRequest{Method: "panic"})
		wantIs(t, err, ErrInternal)
		res, err := o.Stream.Invoke(ctx, &InvokeRequest{Method: "calm"})
		if err != nil || string(res.Result) != `"fine"` {
			t.Fatalf("Invoke after a panic = %v, %v", res, err)
		}
		_, err = p.Invoke(ctx, &InvokeRequest{Method: "panic"})
		wantIs(t, err, ErrInternal)
		if _, err := p.Describe(ctx); err != nil {
			t.Fatalf("provider broken after panics: %v", err)
		}
	})
}

func TestStreamCalls(t *testing.T) {
	mk := func(t *testing.T) *LocalProvider {
		return newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, func(env *Env) *fakeStream {
			return &fakeStream{env: env, start: func() error { return Errorf(ErrIllegalState, "no SDP yet") }}
		})))
	}
	bothSides(t, mk, func(t *testing.T, p Provider, _ *LocalProvider) {
		ctx := testCtx(t)
		o, err := p.Create(ctx, &CreateRequest{Type: "a"})
		if err != nil {
			t.Fatal(err)
		}
		s := o.Stream
		err = s.Start(ctx, &StartRequest{})
		wantIs(t, err, ErrIllegalState)
		if ReasonOf(err) != "no SDP yet" {
			t.Errorf("reason %q", ReasonOf(err))
		}
		// UnimplementedStream's defaults.
		wantIs(t, s.Initialize(ctx, &InitializeRequest{}), ErrNotImplemented)
		_, err = s.GetLocalMedia(ctx, &GetLocalMediaRequest{ForOffer: true})
		wantIs(t, err, ErrNotImplemented)
		if res, err := s.ValidateUpdate(ctx, &ValidateUpdateRequest{}); err != nil || !res.OK {
			t.Errorf("ValidateUpdate = %v, %v", res, err)
		}
		for name, call := range map[string]func() error{
			"Update":     func() error { return s.Update(ctx, &UpdateRequest{}) },
			"Hold":       func() error { return s.Hold(ctx) },
			"Unhold":     func() error { return s.Unhold(ctx) },
			"Reset":      func() error { return s.Reset(ctx, &ResetRequest{StreamIndex: 1}) },
			"Deactivate": func() error { return s.Deactivate(ctx) },
		} {
			if err := call(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if a, err := s.Attributes(ctx); err != nil || a.HoldSupported || a.OnHold() {
			t.Errorf("Attributes = %+v, %v", a, err)
		}
		_, err = s.Invoke(ctx, &InvokeRequest{Method: "nope"})
		wantIs(t, err, ErrUnknownMethod)

		// After End the handle is gone.
		if err := s.End(ctx); err != nil {
			t.Fatal(err)
		}
		for name, call := range map[string]func() error{
			"End":        func() error { return s.End(ctx) },
			"Start":      func() error { return s.Start(ctx, &StartRequest{}) },
			"Hold":       func() error { return s.Hold(ctx) },
			"Attributes": func() error { _, err := s.Attributes(ctx); return err },
			"Invoke":     func() error { _, err := s.Invoke(ctx, &InvokeRequest{Method: "x"}); return err },
		} {
			if err := call(); !errors.Is(err, ErrStreamNotFound) {
				t.Errorf("%s after End: %v, want ErrStreamNotFound", name, err)
			}
		}
	})
}

func TestPluginMethods(t *testing.T) {
	mk := func(t *testing.T) *LocalProvider {
		return newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	}
	bothSides(t, mk, func(t *testing.T, p Provider, _ *LocalProvider) {
		ctx := testCtx(t)
		res, err := Call[map[string]int](ctx, p, "post", map[string]int{"count": 2})
		if err != nil || res["posted"] != 2 {
			t.Fatalf("post = %v, %v", res, err)
		}
		_, err = Call[any](ctx, p, "nope", nil)
		wantIs(t, err, ErrUnknownMethod)
		_, err = Call[any](ctx, p, "fail", nil)
		wantIs(t, err, ErrIllegalState)
		_, err = Call[any](ctx, p, "post", json.RawMessage(`not json`))
		if err == nil {
			t.Fatal("bad arguments accepted")
		}
		// A result that does not decode into R.
		_, err = Call[string](ctx, p, "post", map[string]int{"count": 0})
		wantIs(t, err, ErrInvalidArgument)
		m, err := p.Describe(ctx)
		if err != nil || m.Name != "fake" || !slices.Equal(m.Methods, []string{"fail", "panic", "post"}) {
			t.Fatalf("Describe = %+v, %v", m, err)
		}
	})
}

// recvN reads n notifications.
func recvN(t *testing.T, ns NotificationStream, n int) []*Notification {
	t.Helper()
	out := make([]*Notification, 0, n)
	for range n {
		x, err := ns.Recv()
		if err != nil {
			t.Fatalf("after %d notifications: %v", len(out), err)
		}
		out = append(out, x)
	}
	return out
}

func TestNotifications(t *testing.T) {
	const early, late = 5000, 100
	mk := func(t *testing.T) *LocalProvider {
		return newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	}
	bothSides(t, mk, func(t *testing.T, p Provider, lp *LocalProvider) {
		ctx := testCtx(t)
		// Posted while nobody reads: kept, not lost.
		if _, err := Call[any](ctx, p, "post", map[string]int{"count": early}); err != nil {
			t.Fatal(err)
		}
		o, err := p.Create(ctx, &CreateRequest{Type: "a"})
		if err != nil {
			t.Fatal(err)
		}
		stream, err := lp.Stream(o.Handle)
		if err != nil {
			t.Fatal(err)
		}
		env := stream.(*localStream).s.(*fakeStream).env
		env.Post(MediaStreamDidInitialize, nil)

		subCtx, cancel := context.WithCancel(ctx)
		ns, err := p.Notifications(subCtx)
		if err != nil {
			t.Fatal(err)
		}
		got := recvN(t, ns, early+1)

		// A second consumer is refused while the first is there.
		ns2, err := p.Notifications(ctx)
		if err == nil {
			_, err = ns2.Recv() // over gRPC the refusal comes with the stream
		}
		wantIs(t, err, ErrIllegalState)

		if _, err := Call[any](ctx, p, "post", map[string]int{"count": late}); err != nil {
			t.Fatal(err)
		}
		got = append(got, recvN(t, ns, late)...)
		for i, n := range got {
			if n.Seq != uint64(i+1) {
				t.Fatalf("notification %d has Seq %d", i, n.Seq)
			}
			if n.Time.IsZero() {
				t.Fatalf("notification %d has no time", i)
			}
			var want string
			var handle uint64
			switch {
			case i < early:
				want = `{"i":` + strconv.Itoa(i) + `}`
			case i == early:
				handle = o.Handle
			default:
				want = `{"i":` + strconv.Itoa(i-early-1) + `}`
			}
			if n.Handle != handle || string(n.Data) != want {
				t.Fatalf("notification %d: handle %d data %s, want %d %s", i, n.Handle, n.Data, handle, want)
			}
		}

		// The consumer leaves when its context ends; a new one gets what
		// was posted in between.
		cancel()
		if _, err := ns.Recv(); err == nil {
			t.Fatal("Recv after cancel succeeded")
		}
		// Over gRPC the plugin notices the cancellation asynchronously.
		waitNoConsumer(t, lp)
		if _, err := Call[any](ctx, p, "post", map[string]int{"count": 1}); err != nil {
			t.Fatal(err)
		}
		ns3, err := p.Notifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := recvN(t, ns3, 1)[0]; n.Seq != uint64(early+late+2) {
			t.Fatalf("after resubscribing got Seq %d", n.Seq)
		}
	})
}

// waitNoConsumer polls until lp's notifications have no consumer.
func waitNoConsumer(t *testing.T, lp *LocalProvider) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		lp.queue.mu.Lock()
		gone := lp.queue.reader == nil
		lp.queue.mu.Unlock()
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the canceled consumer never left")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConsumerLeavesWithoutRecv: a consumer whose context ends is gone even
// if it never calls Recv again (a gRPC handler whose Send failed).
func TestConsumerLeavesWithoutRecv(t *testing.T) {
	lp := newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	ctx, cancel := context.WithCancel(testCtx(t))
	if _, err := lp.Notifications(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := lp.Notifications(testCtx(t))
	wantIs(t, err, ErrIllegalState)
	cancel()
	waitNoConsumer(t, lp)
	if _, err := lp.Notifications(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestCallsSerialised: the SDK serialises calls to one stream, so a stream
// needs no lock for state only its methods touch (-race checks it).
func TestCallsSerialised(t *testing.T) {
	lp := newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, func(env *Env) *fakeStream {
		inside, calls := false, 0
		return &fakeStream{env: env, invoke: func(*InvokeRequest) (*InvokeResponse, error) {
			if inside {
				return nil, errors.New("two calls at once")
			}
			inside = true
			calls++
			inside = false
			return &InvokeResponse{Result: json.RawMessage(strconv.Itoa(calls))}, nil
		}}
	})))
	ctx := testCtx(t)
	o, err := lp.Create(ctx, &CreateRequest{Type: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, err := o.Stream.Invoke(ctx, &InvokeRequest{Method: "x"}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseEndsLiveStreams(t *testing.T) {
	log := &callLog{}
	p := testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, func(env *Env) *fakeStream {
		return &fakeStream{env: env, end: func() error {
			log.add(fmt.Sprint(env.Handle))
			env.Post(MediaStreamDidEnd, nil)
			return nil
		}}
	}))
	p.Close = func(context.Context) error { log.add("plugin closed"); return nil }
	lp := newLocal(t, p) // its cleanup closes it again: Plugin.Close runs once
	ctx := testCtx(t)
	for range 3 {
		if _, err := lp.Create(ctx, &CreateRequest{Type: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := lp.Stream(2)
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); !slices.Equal(got, []string{"2", "1", "3", "plugin closed"}) {
		t.Fatalf("ended %v", got)
	}
	if lp.Len() != 0 {
		t.Fatalf("Len %d after Close", lp.Len())
	}
	_, err := lp.Create(ctx, &CreateRequest{Type: "a"})
	wantIs(t, err, ErrPluginUnavailable)
	// The final notifications stay readable.
	ns, err := lp.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range recvN(t, ns, 3) {
		if n.Name != MediaStreamDidEnd || n.Handle != []uint64{2, 1, 3}[i] {
			t.Fatalf("notification %d: %+v", i, n)
		}
	}
}

// A Plugin.Close that fails or panics makes Close return the error.
func TestPluginCloseError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(context.Context) error
		kind  error
	}{
		{"error", func(context.Context) error { return Errorf(ErrIllegalState, "device stuck") }, ErrIllegalState},
		{"panic", func(context.Context) error { panic("close exploded") }, ErrInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil))
			p.Close = tc.close
			lp, err := NewProvider(p)
			if err != nil {
				t.Fatal(err)
			}
			err = lp.Close(testCtx(t))
			wantIs(t, err, tc.kind)
			if err := lp.Close(testCtx(t)); err != nil {
				t.Fatalf("second Close: %v (Plugin.Close must run once)", err)
			}
		})
	}
}

func TestNotifierMarshalError(t *testing.T) {
	lp := newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	(&notifier{q: &lp.queue, handle: 9}).Post("Bad", func() {})
	ns, err := lp.Notifications(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	n := recvN(t, ns, 1)[0]
	var data struct {
		MarshalError string `json:"marshal_error"`
	}
	if err := n.Decode(&data); err != nil || data.MarshalError == "" || n.Handle != 9 {
		t.Fatalf("notification %+v data %s: %v", n, n.Data, err)
	}
}

// TestNewFromSDPOffer: the offer is parsed once on each side of the
// plugin boundary. A provider matches on the caller's parse
// (NewFromSDPRequest.Offer) instead of parsing RemoteSDP, and hands the
// type's NewFromSDP its parse; the parse never crosses the boundary.
func TestNewFromSDPOffer(t *testing.T) {
	var mu sync.Mutex
	var seen []*NewFromSDPRequest
	typ := fakeType("a", 1, "audio", &callLog{}, nil, nil)
	typ.NewFromSDP = func(_ context.Context, req *NewFromSDPRequest, env *Env) (Stream, error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, req)
		return &fakeStream{env: env}, nil
	}
	lp := newLocal(t, testPlugin(typ))
	parsed, err := ParseSDP(audioOffer)
	if err != nil {
		t.Fatal(err)
	}
	last := func() *NewFromSDPRequest {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}

	// In process, with the caller's parse: RemoteSDP is not parsed again
	// (it would not parse), and the type gets the same parse.
	o, err := lp.NewFromSDP(testCtx(t), &NewFromSDPRequest{RemoteSDP: "not SDP", Offer: parsed})
	if err != nil {
		t.Fatalf("with the caller's parse: %v", err)
	}
	_ = o.Stream.End(testCtx(t))
	if got := last().Offer; got != parsed {
		t.Errorf("the type got Offer %p, want the caller's %p", got, parsed)
	}

	// Without one: the provider's parse, for the type; the caller's
	// request is left without (it may be reused with another offer).
	req := &NewFromSDPRequest{RemoteSDP: audioOffer}
	o, err = lp.NewFromSDP(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Stream.End(testCtx(t))
	if got := last().Offer; got == nil || len(got.MediaDescriptions) != 1 || got.MediaDescriptions[0].MediaName.Media != "audio" {
		t.Errorf("the type got Offer %+v, want the provider's parse of the offer", got)
	}
	if req.Offer != nil {
		t.Error("the provider set the caller's request's Offer")
	}
	if _, err := lp.NewFromSDP(testCtx(t), &NewFromSDPRequest{RemoteSDP: "not SDP"}); !errors.Is(err, ErrInvalidStream) {
		t.Errorf("malformed offer without a parse: %v, want ErrInvalidStream", err)
	}

	// Over gRPC the host's parse stays on the host: the plugin parses
	// RemoteSDP itself.
	p := overGRPC(t, lp)
	o, err = p.NewFromSDP(testCtx(t), &NewFromSDPRequest{RemoteSDP: audioOffer, Offer: parsed})
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Stream.End(testCtx(t))
	if got := last().Offer; got == nil || got == parsed {
		t.Errorf("over gRPC the type got Offer %p (the host's is %p), want the plugin's own parse", got, parsed)
	}
}
