package msrptest_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrp/msrptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testContext(t *testing.T) context.Context {
	t.Helper()
	// Only keeps a broken test from hanging; nothing is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startRelay(t *testing.T) *msrptest.Relay {
	t.Helper()
	r, err := msrptest.StartRelay(msrptest.RelayConfig{Username: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// bodies collects the complete bodies a session receives.
func bodies() (msrp.HandlerFuncs, <-chan string) {
	ch := make(chan string, 10)
	var buf []byte
	return msrp.HandlerFuncs{
		Chunk: func(_ context.Context, c *msrp.Chunk) int {
			b, _ := io.ReadAll(c)
			buf = append(buf, b...)
			return msrp.StatusOK
		},
		Complete: func(_ context.Context, c *msrp.Completion) int {
			ch <- string(buf)
			buf = nil
			return msrp.StatusOK
		},
	}, ch
}

// TestDirectPeerReachesRelayClient: a client behind the relay waits
// (Expect); a peer that is not behind any relay dials the relay path.
func TestDirectPeerReachesRelayClient(t *testing.T) {
	ctx := testContext(t)
	r := startRelay(t)
	cfg := msrp.Config{KeepAliveInterval: -1}
	alice, err := msrp.ConnectRelay(ctx, msrp.RelayConfig{URI: r.URI(), Username: "alice", Password: "secret"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if alice.Expires() != msrptest.Expires*time.Second {
		t.Fatalf("Expires %v", alice.Expires())
	}
	bob := msrp.URI{Host: "127.0.0.1", Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"}
	ah, got := bodies()
	pending, err := alice.Expect([]msrp.URI{bob}, ah)
	if err != nil {
		t.Fatal(err)
	}
	alicePath := append(alice.UsePath(), alice.LocalURI())
	bh, gotBob := bodies()
	bs, err := msrp.Dial(ctx, bob, alicePath, bh, cfg)
	if err != nil {
		t.Fatalf("Dial through the relay: %v", err)
	}
	defer bs.Close()
	as, err := pending.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := bs.SendMessage(ctx, "text/plain", []byte("to alice")); err != nil || res.Code != msrp.StatusOK {
		t.Fatalf("bob's SEND: %v %v", res, err)
	}
	if s := <-got; s != "to alice" {
		t.Fatalf("alice got %q", s)
	}
	if res, err := as.SendMessage(ctx, "text/plain", []byte("to bob")); err != nil || res.Code != msrp.StatusOK {
		t.Fatalf("alice's SEND: %v %v", res, err)
	}
	if s := <-gotBob; s != "to bob" {
		t.Fatalf("bob got %q", s)
	}
	recs := r.Records()
	want := []msrptest.Record{
		{Method: msrp.MethodAUTH, Status: msrp.StatusUnauthorized},
		{Method: msrp.MethodAUTH, Status: msrp.StatusOK},
		{Method: msrp.MethodSEND, Forwarded: true}, // bob's binding SEND
		{Method: msrp.MethodSEND, Forwarded: true},
	}
	if len(recs) < len(want) {
		t.Fatalf("records %+v", recs)
	}
	for i, w := range want {
		if recs[i].Method != w.Method || recs[i].Status != w.Status || recs[i].Forwarded != w.Forwarded {
			t.Fatalf("record %d = %+v, want %+v", i, recs[i], w)
		}
	}
	if recs[2].ToPath != msrp.FormatPath(alicePath) {
		t.Fatalf("binding To-Path %q, want %q", recs[2].ToPath, msrp.FormatPath(alicePath))
	}
}

func TestRelayRefuses(t *testing.T) {
	ctx := testContext(t)
	r := startRelay(t)
	cfg := msrp.Config{KeepAliveInterval: -1}
	tests := []struct {
		name     string
		password string
		want     int
	}{
		{"wrong password", "wrong", msrp.StatusForbidden},
		{"empty password", "", msrp.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := msrp.ConnectRelay(ctx, msrp.RelayConfig{URI: r.URI(), Username: "alice", Password: tt.password}, cfg)
			var se *msrp.StatusError
			if !errors.Is(err, msrp.ErrRelayAuth) || !errors.As(err, &se) || se.Code != tt.want {
				t.Fatalf("err = %v, want ErrRelayAuth %d", err, tt.want)
			}
		})
	}
	// A path through the relay to nobody it knows.
	unknown := []msrp.URI{r.URI(), {Host: "127.0.0.1", Port: 9, SessionID: "nobody", Transport: "tcp"}}
	unknown[0].SessionID = "x"
	local := msrp.URI{Host: "127.0.0.1", Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"}
	_, err := msrp.Dial(ctx, local, unknown, msrp.HandlerFuncs{}, cfg)
	if !errors.Is(err, msrp.ErrNoSuchSession) {
		t.Fatalf("Dial to an unknown client: %v, want ErrNoSuchSession", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, msrptest.ErrRelayClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
