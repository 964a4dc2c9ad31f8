package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/grpc"
)

// countingConn is a plugin connection that counts the RPCs the host side
// makes on it, by method; describeMinor, when set, rewrites the contract
// minor version the plugin's manifest says, and callsMethod, when set,
// replaces the Calls method's name (a plugin that does not serve it).
type countingConn struct {
	cc            grpc.ClientConnInterface
	describeMinor uint32
	callsMethod   string

	mu    sync.Mutex
	calls map[string]int
}

func (c *countingConn) count(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[method[strings.LastIndexByte(method, '/')+1:]]++
}

func (c *countingConn) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func (c *countingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	c.count(method)
	err := c.cc.Invoke(ctx, method, args, reply, opts...)
	if m, ok := reply.(*pb.Manifest); ok && err == nil && c.describeMinor != 0 {
		m.ContractMinor = c.describeMinor
	}
	return err
}

func (c *countingConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.count(method)
	if strings.HasSuffix(method, "/Calls") && c.callsMethod != "" {
		method = strings.TrimSuffix(method, "Calls") + c.callsMethod
	}
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// waiter is a plugin-scope method that blocks until its context ends and
// reports how it ended.
type waiter struct {
	started chan struct{}
	ended   chan error
}

func newWaiter() *waiter { return &waiter{started: make(chan struct{}, 8), ended: make(chan error, 8)} }

func (w *waiter) method(ctx context.Context, _ json.RawMessage, _ *Env) (any, error) {
	w.started <- struct{}{}
	<-ctx.Done()
	w.ended <- ctx.Err()
	return nil, ctx.Err()
}

// callsPair serves a plugin with the stream type "a" and the methods of
// testPlugin plus "wait" over go-plugin's in-memory connection, and returns
// a host-side provider on a countingConn, not yet described, and a func
// that stops the plugin's server.
func callsPair(t *testing.T, conn *countingConn, w *waiter) (*grpcProvider, func()) {
	t.Helper()
	p := testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil))
	p.Methods["wait"] = w.method
	lp := newLocal(t, p)
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: NewGRPCPlugin(lp)})
	var once sync.Once
	stop := func() { once.Do(server.Stop) }
	t.Cleanup(func() {
		stop()
		_ = client.Close()
	})
	conn.cc = client.Conn
	return newGRPCProvider(conn), stop
}

// lifecycle makes the calls of a stream's life and checks their outcomes,
// an error with its kind included.
func lifecycle(t *testing.T, p Provider) {
	t.Helper()
	ctx := testCtx(t)
	o, err := p.Create(ctx, &CreateRequest{Type: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Stream.Start(ctx, &StartRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = o.Stream.Invoke(ctx, &InvokeRequest{Method: "nope"})
	wantIs(t, err, ErrUnknownMethod)
	if err := o.Stream.End(ctx); err != nil {
		t.Fatal(err)
	}
	wantIs(t, o.Stream.End(ctx), ErrStreamNotFound)
	if _, err := p.Invoke(ctx, &InvokeRequest{Method: "fail"}); !errors.Is(err, ErrIllegalState) || ReasonOf(err) != "not now" {
		t.Fatalf("fail: %v (reason %q)", err, ReasonOf(err))
	}
}

// TestCallsStream: with a plugin of contract 1.2 the host's calls after
// Describe travel on one Calls stream, with the same outcomes as unary
// calls; with an older plugin, and before Describe, each is a unary call.
func TestCallsStream(t *testing.T) {
	cases := []struct {
		name     string
		minor    uint32 // what the plugin's manifest says; 0: as it is
		describe bool
		want     map[string]int
	}{
		{"contract 1.2", 0, true, map[string]int{"Describe": 1, "Calls": 1}},
		{"contract 1.1", 1, true, map[string]int{"Describe": 1, "Create": 1, "Start": 1, "Invoke": 2, "End": 2}},
		{"not described", 0, false, map[string]int{"Create": 1, "Start": 1, "Invoke": 2, "End": 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := &countingConn{describeMinor: c.minor}
			p, _ := callsPair(t, conn, newWaiter())
			if c.describe {
				m, err := p.Describe(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if c.minor == 0 && m.ContractMinor != ContractMinor {
					t.Fatalf("manifest says contract minor %d", m.ContractMinor)
				}
			}
			lifecycle(t, p)
			if got := conn.get(); !equalCounts(got, c.want) {
				t.Fatalf("RPCs %v, want %v", got, c.want)
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCallsDeadlineAndCancel: a call on the stream gets the caller's
// deadline in the plugin, and a caller that gives up cancels it there.
func TestCallsDeadlineAndCancel(t *testing.T) {
	w := newWaiter()
	p, _ := callsPair(t, &countingConn{}, w)
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	// A deadline: both sides end with it.
	ctx, cancel := context.WithTimeout(testCtx(t), 100*1e6) // 100 ms
	defer cancel()
	_, err := p.Invoke(ctx, &InvokeRequest{Method: "wait"})
	wantIs(t, err, context.DeadlineExceeded)
	if err := <-w.ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the plugin's call ended with %v", err)
	}

	// Cancelled by the caller once the plugin runs it.
	ctx, cancel = context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(ctx, &InvokeRequest{Method: "wait"})
		done <- err
	}()
	<-w.started
	<-w.started // the first call's
	cancel()
	wantIs(t, <-done, context.Canceled)
	if err := <-w.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the plugin's call ended with %v", err)
	}
	// The stream still serves.
	lifecycle(t, p)
}

// TestCallsStreamLost: calls in flight when the plugin's connection goes
// fail with ErrPluginUnavailable, not a hang; the stream's goroutines end
// (TestMain's goleak check).
func TestCallsStreamLost(t *testing.T) {
	w := newWaiter()
	p, stop := callsPair(t, &countingConn{}, w)
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Invoke(testCtx(t), &InvokeRequest{Method: "wait"})
		done <- err
	}()
	<-w.started
	stop()
	wantIs(t, <-done, ErrPluginUnavailable)
	_, err := p.Invoke(testCtx(t), &InvokeRequest{Method: "post", Args: json.RawMessage(`{"count":0}`)})
	wantIs(t, err, ErrPluginUnavailable)
}

// TestCallsNotServed: a plugin that says contract 1.2 but does not serve
// Calls (its stream ends Unimplemented) still gets every call, as unary
// calls.
func TestCallsNotServed(t *testing.T) {
	conn := &countingConn{callsMethod: "NoSuchMethod"}
	p, _ := callsPair(t, conn, newWaiter())
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	lifecycle(t, p)
	got := conn.get()
	if got["Calls"] != 1 || got["Create"] != 1 || got["End"] < 1 {
		t.Fatalf("RPCs %v: want the stream tried once and the calls made unary", got)
	}
}

// TestCallsUnknownMethod: the plugin answers a call of a method it does not
// have with Unimplemented, as gRPC does for a unary call.
func TestCallsUnknownMethod(t *testing.T) {
	p, _ := callsPair(t, &countingConn{}, newWaiter())
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := p.calls.Invoke(testCtx(t), "/sipstreams.stream.v1.MediaStream/Bogus", &pb.Empty{}, &pb.Empty{})
	wantIs(t, fromStatus(err), ErrNotImplemented)
}

// TestCallsConcurrent: many callers at once, each gets its own result.
func TestCallsConcurrent(t *testing.T) {
	p, _ := callsPair(t, &countingConn{}, newWaiter())
	if _, err := p.Describe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			ctx := testCtx(t)
			o, err := p.Create(ctx, &CreateRequest{Type: "a"})
			if err != nil {
				errs <- err
				return
			}
			res, err := p.Invoke(ctx, &InvokeRequest{Method: "post", Args: json.RawMessage(`{"count":` + string(rune('0'+i%10)) + `}`)})
			if err != nil {
				errs <- err
				return
			}
			if want := `{"posted":` + string(rune('0'+i%10)) + `}`; string(res.Result) != want {
				errs <- errors.New("result " + string(res.Result) + ", want " + want)
			}
			if err := o.Stream.End(ctx); err != nil {
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
