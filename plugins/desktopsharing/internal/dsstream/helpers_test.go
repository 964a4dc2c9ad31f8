package dsstream

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// waitLimit bounds every wait; it only turns a hang into a failure.
const waitLimit = 30 * time.Second

const sessionHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

var loopback = &sdk.SessionInfo{LocalIP: "127.0.0.1"}

// end is one side of a test session: its stream and what it posted.
type end struct {
	s   *stream
	rec *streamtest.Recorder
	env *sdk.Env
}

// tee posts to a Recorder and shows every notification to fn.
type tee struct {
	rec *streamtest.Recorder
	fn  func(name string, data any)
}

func (t tee) Post(name string, data any) {
	if t.fn != nil {
		t.fn(name, data)
	}
	t.rec.Post(name, data)
}

func newEnd(observe func(name string, data any)) *end {
	rec := streamtest.NewRecorder(streamtest.WithTimeout(waitLimit))
	return &end{rec: rec, env: &sdk.Env{Notifier: tee{rec: rec, fn: observe}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

// setup describes a test session: the offerer's parameters, the answerer's
// account settings, and the MSRP transport of both.
type setup struct {
	transport string
	offer     ds.Params
	offerAcc  map[string]string // the offerer's account settings
	answer    map[string]string
	// observe sees the notifications of each side (offerer, answerer).
	observeOffer, observeAnswer func(name string, data any)
}

func settings(transport string, extra map[string]string) map[string]string {
	m := map[string]string{"msrp.transport": transport}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// negotiate makes both streams, runs offer/answer and starts both; it
// returns once both posted MediaStreamDidStart.
func negotiate(t testing.TB, su setup) (offerer, answerer *end) {
	t.Helper()
	ctx := context.Background()
	if su.transport == "" {
		su.transport = "tcp"
	}
	offerer, answerer = newEnd(su.observeOffer), newEnd(su.observeAnswer)
	params, _ := json.Marshal(su.offer)
	acc := &sdk.Account{ID: "alice", URI: "sip:alice@127.0.0.1", Settings: settings(su.transport, su.offerAcc)}
	st, err := create(ctx, &sdk.CreateRequest{Type: ds.Type, Account: acc, Params: params}, offerer.env)
	if err != nil {
		t.Fatalf("Create(%s): %v", params, err)
	}
	offerer.s = st.(*stream)
	t.Cleanup(func() { _ = offerer.s.End(ctx) })
	if err := offerer.s.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	offer := localMedia(t, offerer.s, &sdk.GetLocalMediaRequest{ForOffer: true})

	bacc := &sdk.Account{ID: "bob", URI: "sip:bob@127.0.0.1", Settings: settings(su.transport, su.answer)}
	bs, err := newFromSDP(ctx, &sdk.NewFromSDPRequest{Account: bacc, RemoteSDP: offer}, answerer.env)
	if err != nil {
		t.Fatalf("NewFromSDP(%q): %v", offer, err)
	}
	answerer.s = bs.(*stream)
	t.Cleanup(func() { _ = answerer.s.End(ctx) })
	if err := answerer.s.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatal(err)
	}
	answerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	answer := localMedia(t, answerer.s, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err := answerer.s.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	if err := offerer.s.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	offerer.rec.WaitFor(t, 0, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail)
	answerer.rec.WaitFor(t, 0, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail)
	return offerer, answerer
}

func localMedia(t testing.TB, s *stream, req *sdk.GetLocalMediaRequest) string {
	t.Helper()
	resp, err := s.GetLocalMedia(context.Background(), req)
	if err != nil {
		t.Fatalf("GetLocalMedia: %v", err)
	}
	return sessionHead + resp.Media
}

// decode decodes a notification's data into a T.
func decode[T any](t testing.TB, n *sdk.Notification) T {
	t.Helper()
	var v T
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// viewerAddress returns where the viewer side listens, as it announced it.
func viewerAddress(t testing.TB, e *end) string {
	t.Helper()
	addr := decode[ds.AddressData](t, e.rec.WaitFor(t, 0, ds.HandlerDidStartListening)).Address
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("viewer address %q, want a port on 127.0.0.1", addr)
	}
	_, a, err := ds.ReadAttributes(context.Background(), e.s)
	if err != nil || a.ViewerAddress != addr {
		t.Fatalf("attributes %+v, %v: viewer address differs from %s", a, err, addr)
	}
	return addr
}

// noFailure fails the test when e posted MediaStreamDidFail.
func noFailure(t *testing.T, e *end) {
	t.Helper()
	for _, n := range e.rec.Names(0) {
		if n == sdk.MediaStreamDidFail || n == ds.HandlerDidFail {
			t.Fatalf("unexpected failure: %s", e.rec.Dump(0))
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
