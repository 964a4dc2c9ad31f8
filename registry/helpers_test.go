package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// waitTime bounds each wait for an event: long, because a Python plugin
// starting on a loaded 2-core machine takes seconds; a passing test never
// waits it out.
const waitTime = 60 * time.Second

// pluginDir makes a plugin dir holding the echo binary (as the given names).
func pluginDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if len(names) == 0 {
		names = []string{"sipstreams-plugin-echo"}
	}
	for _, n := range names {
		copyFile(t, echoBin, filepath.Join(dir, n))
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// testRegistry is a registry whose notifications go to a notify.Center,
// as the host wires it.
type testRegistry struct {
	*registry.Registry
	center *notify.Center
}

// Center returns the center the registry's notifications are posted to.
func (r *testRegistry) Center() *notify.Center { return r.center }

// centerNotifier posts the registry's notifications into c.
func centerNotifier(c *notify.Center) registry.Notifier {
	return registry.NotifierFunc(func(n registry.Notification) { c.Post(notify.Notification(n)) })
}

// openRegistry discovers dir and closes the registry at the end of the test.
func openRegistry(t *testing.T, dir string, opts ...registry.Option) *testRegistry {
	t.Helper()
	c := notify.New()
	t.Cleanup(c.Close)
	opts = append([]registry.Option{registry.WithDir(dir), registry.WithStartTimeout(5 * time.Second), registry.WithNotifier(centerNotifier(c))}, opts...)
	r := &testRegistry{Registry: registry.New(opts...), center: c}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := r.Discover(ctx); err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return r
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
}

// record subscribes a recorder to every notification of sender.
func record(t *testing.T, c *notify.Center, sender any) *notify.Recorder {
	t.Helper()
	rec := &notify.Recorder{}
	unsub := c.Subscribe(rec, "", sender)
	t.Cleanup(unsub)
	return rec
}

func waitName(t *testing.T, rec *notify.Recorder, name string) notify.Notification {
	t.Helper()
	var found notify.Notification
	err := rec.Wait(ctxT(t), func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == name {
				found = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (seen %v)", name, err, rec.Names())
	}
	return found
}

func account() *sdk.Account {
	return &sdk.Account{ID: "alice@127.0.0.1", URI: "sip:alice@127.0.0.1"}
}

func session(dir string) *sdk.SessionInfo {
	return &sdk.SessionInfo{ID: "s1", Direction: dir, LocalIP: "127.0.0.1"}
}

// sdpWith wraps media sections into a full session description.
func sdpWith(media ...string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + strings.Join(media, "")
}

// pair is an offerer A (Create) and an answerer B (NewFromSDP), started.
type pair struct {
	a, b       *registry.Stream
	recA, recB *notify.Recorder
	offer      string
	answer     string
}

func startPair(t *testing.T, r *testRegistry) *pair {
	t.Helper()
	return startPairOf(t, r, "echo")
}

// startPairOf is startPair for streams of type typ.
func startPairOf(t *testing.T, r *testRegistry, typ string) *pair {
	t.Helper()
	ctx := ctxT(t)
	a, err := r.Create(ctx, &sdk.CreateRequest{Type: typ, Account: account()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	p := &pair{a: a, recA: record(t, r.Center(), a)}
	if err := a.Initialize(ctx, &sdk.InitializeRequest{Session: session(sdk.DirectionOutgoing), Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatalf("A.Initialize: %v", err)
	}
	waitName(t, p.recA, sdk.MediaStreamDidInitialize)
	om, err := a.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		t.Fatalf("A.GetLocalMedia: %v", err)
	}
	p.offer = sdpWith(om.Media)
	b, err := r.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: account(), RemoteSDP: p.offer, StreamIndex: 0})
	if err != nil {
		t.Fatalf("NewFromSDP: %v", err)
	}
	p.b, p.recB = b, record(t, r.Center(), b)
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: session(sdk.DirectionIncoming), Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatalf("B.Initialize: %v", err)
	}
	waitName(t, p.recB, sdk.MediaStreamDidInitialize)
	am, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: p.offer, StreamIndex: 0})
	if err != nil {
		t.Fatalf("B.GetLocalMedia: %v", err)
	}
	p.answer = sdpWith(am.Media)
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: p.answer, RemoteSDP: p.offer}); err != nil {
		t.Fatalf("B.Start: %v", err)
	}
	if err := a.Start(ctx, &sdk.StartRequest{LocalSDP: p.offer, RemoteSDP: p.answer}); err != nil {
		t.Fatalf("A.Start: %v", err)
	}
	waitName(t, p.recA, sdk.MediaStreamDidStart)
	waitName(t, p.recB, sdk.MediaStreamDidStart)
	return p
}

func invoke(t *testing.T, s sdk.Stream, method string, args any) json.RawMessage {
	t.Helper()
	raw, err := sdk.MarshalJSONValue(args)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Invoke(ctxT(t), &sdk.InvokeRequest{Method: method, Args: raw})
	if err != nil {
		t.Fatalf("Invoke %s: %v", method, err)
	}
	return res.Result
}

// generic keeps only the MediaStream* names, in order.
func generic(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "MediaStream") {
			out = append(out, n)
		}
	}
	return out
}

func equal(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// processGone reports whether pid no longer runs (gone or a zombie).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
