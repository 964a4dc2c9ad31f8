package msrp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrp/msrptest"
)

func relayContext(t *testing.T) context.Context {
	t.Helper()
	// Only keeps a broken test from hanging; nothing is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect gathers the bodies of completed messages.
func collect() (msrp.HandlerFuncs, <-chan string) {
	ch := make(chan string, 10)
	var buf []byte
	return msrp.HandlerFuncs{
		Chunk: func(_ context.Context, c *msrp.Chunk) int {
			b, _ := io.ReadAll(c)
			buf = append(buf, b...)
			return msrp.StatusOK
		},
		Complete: func(context.Context, *msrp.Completion) int {
			ch <- string(buf)
			buf = nil
			return msrp.StatusOK
		},
	}, ch
}

// TestRelayBothBehindRelay: two clients of the msrptest relay, one binding
// (active) and one waiting (passive), exchange messages through it. The
// binding SEND carries To-Path = our Use-Path + the remote path.
func TestRelayBothBehindRelay(t *testing.T) {
	ctx := relayContext(t)
	relay, err := msrptest.StartRelay(msrptest.RelayConfig{Username: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	cfg := msrp.Config{KeepAliveInterval: -1}
	rc := msrp.RelayConfig{URI: relay.URI(), Username: "alice", Password: "secret"}
	a, err := msrp.ConnectRelay(ctx, rc, cfg)
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	defer a.Close()
	rc.SessionID = "bobsess"
	b, err := msrp.ConnectRelay(ctx, rc, cfg)
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	defer b.Close()
	if b.LocalURI().SessionID != "bobsess" {
		t.Fatalf("local URI %v", b.LocalURI())
	}
	if a.LocalURI().Port != a.Conn().LocalAddr().(*net.TCPAddr).Port {
		t.Fatalf("local URI %v does not carry the relay connection's port", a.LocalURI())
	}
	if len(a.UsePath()) != 1 || a.Expires() != msrptest.Expires*time.Second {
		t.Fatalf("Use-Path %v, Expires %v", a.UsePath(), a.Expires())
	}
	aPath := append(a.UsePath(), a.LocalURI())
	bPath := append(b.UsePath(), b.LocalURI())

	bh, bGot := collect()
	pending, err := b.Expect(aPath, bh)
	if err != nil {
		t.Fatal(err)
	}
	ah, aGot := collect()
	as, err := a.Bind(ctx, bPath, ah)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	defer as.Close()
	if lp := as.LocalPath(); len(lp) != 2 || !lp[0].Equal(a.UsePath()[0]) || !lp[1].Equal(a.LocalURI()) {
		t.Fatalf("LocalPath %v", lp)
	}
	bs, err := pending.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Expect(aPath, bh); !errors.Is(err, msrp.ErrBindFailed) {
		t.Fatalf("second Expect for the same session-id: %v", err)
	}
	for _, tc := range []struct {
		from *msrp.Session
		got  <-chan string
		body string
	}{{as, bGot, "hello bob"}, {bs, aGot, "hello alice"}} {
		if res, err := tc.from.SendMessage(ctx, "text/plain", []byte(tc.body)); err != nil || res.Code != msrp.StatusOK {
			t.Fatalf("SEND %q: %v %v", tc.body, res, err)
		}
		if s := <-tc.got; s != tc.body {
			t.Fatalf("got %q, want %q", s, tc.body)
		}
	}
	var bind *msrptest.Record
	for _, r := range relay.Records() {
		if r.Method == msrp.MethodSEND && r.Forwarded {
			bind = &r
			break
		}
	}
	if bind == nil || bind.ToPath != msrp.FormatPath(append(a.UsePath(), bPath...)) || bind.FromPath != a.LocalURI().String() {
		t.Fatalf("binding SEND seen by the relay: %+v", bind)
	}
}

func TestRelayAuthRefused(t *testing.T) {
	ctx := relayContext(t)
	relay, err := msrptest.StartRelay(msrptest.RelayConfig{Username: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	_, err = msrp.ConnectRelay(ctx, msrp.RelayConfig{URI: relay.URI(), Username: "alice", Password: "wrong"}, msrp.Config{})
	var se *msrp.StatusError
	if !errors.Is(err, msrp.ErrRelayAuth) || !errors.As(err, &se) || se.Code != msrp.StatusForbidden {
		t.Fatalf("err = %v, want ErrRelayAuth with 403", err)
	}
}
