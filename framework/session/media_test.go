package session

import (
	"context"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

func openRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New(registry.WithDir(pluginDir))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMediaDriver drives an offerer and an answerer stream through
// initialize, offer/answer and start with the session's helpers, both with
// the fused (Prepare) path and the plain one.
func TestMediaDriver(t *testing.T) {
	for _, fused := range []bool{true, false} {
		t.Run(map[bool]string{true: "prepared", false: "plain"}[fused], func(t *testing.T) {
			r := openRegistry(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			info := &sdk.SessionInfo{ID: "s", LocalIP: "127.0.0.1"}
			var prep *sdk.Prepare
			if fused {
				prep = &sdk.Prepare{Session: info, Direction: string(Outgoing), LocalMedia: true}
			}
			a, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo", Prepare: prep})
			if err != nil {
				t.Fatal(err)
			}
			ok, failed := initialize(ctx, r.Center(), []Stream{a}, info, Outgoing)
			if len(ok) != 1 || len(failed) != 0 {
				t.Fatalf("initialize A: ok %d failed %v", len(ok), failed)
			}
			om, err := a.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
			if err != nil {
				t.Fatal(err)
			}
			offerer := &origin{id: 1, ip: "127.0.0.1", name: "test"}
			media, err := parseMediaSections([]string{om.Media})
			if err != nil {
				t.Fatal(err)
			}
			offer, err := offerer.build(media)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.NewFromSDP(ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer})
			if err != nil {
				t.Fatal(err)
			}
			if ok, failed := initialize(ctx, r.Center(), []Stream{b}, info, Incoming); len(ok) != 1 || len(failed) != 0 {
				t.Fatalf("initialize B: %v", failed)
			}
			am, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
			if err != nil {
				t.Fatal(err)
			}
			parsedOffer, _ := sdk.ParseSDP(offer)
			answerer := &origin{id: 2, ip: "127.0.0.1", name: "test"}
			answer, err := answerer.answer(parsedOffer, map[int]string{0: am.Media})
			if err != nil {
				t.Fatal(err)
			}
			zero := func(Stream) int { return 0 }
			if f := start(ctx, r.Center(), []Stream{b}, zero, answer, offer); len(f) != 0 {
				t.Fatalf("start B: %v", f)
			}
			if f := start(ctx, r.Center(), []Stream{a}, zero, offer, answer); len(f) != 0 {
				t.Fatalf("start A: %v", f)
			}
			rec := &notify.Recorder{}
			defer r.Center().Subscribe(rec, sdk.MediaStreamDidEnd, nil)()
			end(ctx, []Stream{a, b})
			if err := rec.Wait(ctx, func(ns []notify.Notification) bool { return len(ns) == 2 }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMediaDriverStartFailure: a stream whose remote is unusable fails to
// start, and the failure is reported with the stream's reason.
func TestMediaDriverStartFailure(t *testing.T) {
	r := openRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info := &sdk.SessionInfo{ID: "s", LocalIP: "127.0.0.1"}
	a, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo", Prepare: &sdk.Prepare{Session: info, Direction: string(Outgoing), LocalMedia: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer end(ctx, []Stream{a})
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + a.Prepared().Media
	bad := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP x-sipstreams-echo\r\na=sendrecv\r\n" // no c= at all
	f := start(ctx, r.Center(), []Stream{a}, func(Stream) int { return 0 }, offer, bad)
	if len(f) != 1 || f[0].Reason == "" {
		t.Fatalf("failures = %v, want one with a reason", f)
	}
	t.Logf("start failure: %v", f[0])
}
