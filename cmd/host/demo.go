package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// cmdDemo loads the plugin dir and, for every stream type that can be
// created, negotiates an offerer stream with an answerer stream over
// loopback, exercises it (type-specific methods, hold, unhold) and ends it,
// printing every notification as it happens.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON *bool
	cf, ok := parseFlags("demo", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print notifications as JSON lines")
	})
	if !ok {
		return 2
	}
	reg, center, closeReg := cf.registry(stderr)
	defer closeReg()
	pr := newPrinter(stdout, *asJSON)
	defer center.Subscribe(pr, "", nil)()
	if err := reg.Discover(ctx); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	types := reg.Types()
	if len(types) == 0 {
		fmt.Fprintf(stderr, "sipstreams: no stream plugin loaded from %s (run `make` first)\n", reg.Dir())
		return 1
	}
	failed := false
	for _, t := range types {
		pr.say("== %s stream (plugin %s, priority %d)", t.Type, t.Plugin.Name(), t.Priority)
		if err := demoType(ctx, reg, center, pr, t); err != nil {
			fmt.Fprintf(stderr, "sipstreams: %s: %v\n", t.Type, err)
			failed = true
		}
	}
	_ = center.Flush(ctx)
	if failed {
		return 1
	}
	return 0
}

// demoSDP wraps media sections into a session description.
func demoSDP(media ...string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=sipstreams-demo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + strings.Join(media, "")
}

func demoType(ctx context.Context, reg *registry.Registry, center *notify.Center, pr *printer, t registry.TypeInfo) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec := &notify.Recorder{}
	defer center.Subscribe(rec, "", nil)()
	waitFor := func(s *registry.Stream, name string) error {
		err := rec.Wait(ctx, func(ns []notify.Notification) bool {
			for _, n := range ns {
				if n.Sender == s && (n.Name == name || n.Name == sdk.MediaStreamDidFail) {
					return true
				}
			}
			return false
		})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", name, err)
		}
		return nil
	}
	// say prints after the notifications so far, so the story reads in order.
	say := func(format string, args ...any) {
		_ = center.Flush(ctx)
		pr.say(format, args...)
	}
	acc := &sdk.Account{ID: "demo@127.0.0.1", URI: "sip:demo@127.0.0.1"}
	a, err := reg.Create(ctx, &sdk.CreateRequest{Type: t.Type, Account: acc})
	if errors.Is(err, sdk.ErrNotImplemented) {
		say("   (type cannot be created for an offer; skipped)")
		return nil
	}
	if err != nil {
		return err
	}
	pr.label(a, "A "+t.Type)
	defer a.End(context.Background())
	if err := a.Initialize(ctx, &sdk.InitializeRequest{Session: &sdk.SessionInfo{ID: "demo", Direction: sdk.DirectionOutgoing, LocalIP: "127.0.0.1"}, Direction: sdk.DirectionOutgoing}); err != nil {
		return err
	}
	if err := waitFor(a, sdk.MediaStreamDidInitialize); err != nil {
		return err
	}
	om, err := a.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		return err
	}
	offer := demoSDP(om.Media)
	say("   offer:  %s", strings.TrimSpace(strings.SplitN(om.Media, "\r\n", 2)[0]))
	b, err := reg.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: offer})
	if err != nil {
		return err
	}
	pr.label(b, "B "+t.Type)
	defer b.End(context.Background())
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: &sdk.SessionInfo{ID: "demo", Direction: sdk.DirectionIncoming, LocalIP: "127.0.0.1"}, Direction: sdk.DirectionIncoming}); err != nil {
		return err
	}
	if err := waitFor(b, sdk.MediaStreamDidInitialize); err != nil {
		return err
	}
	am, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		return err
	}
	answer := demoSDP(am.Media)
	say("   answer: %s", strings.TrimSpace(strings.SplitN(am.Media, "\r\n", 2)[0]))
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		return err
	}
	if err := a.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		return err
	}
	for _, s := range []*registry.Stream{a, b} {
		if err := waitFor(s, sdk.MediaStreamDidStart); err != nil {
			return err
		}
	}
	if t.Type == "echo" {
		raw, _ := sdk.MarshalJSONValue(map[string]string{"payload": "hello from A"})
		if _, err := a.Invoke(ctx, &sdk.InvokeRequest{Method: "send", Args: raw}); err != nil {
			return err
		}
		if err := waitFor(a, "EchoStreamGotEcho"); err != nil {
			return err
		}
	}
	if t.HoldSupported {
		if err := renegotiate(ctx, a, b, func() error { return a.Hold(ctx) }); err != nil {
			return fmt.Errorf("hold: %w", err)
		}
		attrs, _ := b.Attributes(ctx)
		say("   A holds: B on_hold_by_remote=%v", attrs != nil && attrs.OnHoldByRemote)
		if err := renegotiate(ctx, a, b, func() error { return a.Unhold(ctx) }); err != nil {
			return fmt.Errorf("unhold: %w", err)
		}
		attrs, _ = b.Attributes(ctx)
		say("   A unholds: B on_hold_by_remote=%v", attrs != nil && attrs.OnHoldByRemote)
	}
	// Both sides deactivate before either ends, as a session does: a
	// transport closing after Deactivate is normal, not a failure.
	for _, s := range []*registry.Stream{a, b} {
		_ = s.Deactivate(ctx)
	}
	for _, s := range []*registry.Stream{a, b} {
		if err := s.End(ctx); err != nil {
			return err
		}
		if err := waitFor(s, sdk.MediaStreamDidEnd); err != nil {
			return err
		}
	}
	return nil
}

// renegotiate runs change on the offerer, then a re-INVITE-like exchange:
// a new offer from a, validated and answered by b, applied on both.
func renegotiate(ctx context.Context, a, b *registry.Stream, change func() error) error {
	if err := change(); err != nil {
		return err
	}
	om, err := a.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		return err
	}
	offer := demoSDP(om.Media)
	ok, err := b.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{RemoteSDP: offer})
	if err != nil {
		return err
	}
	if !ok.OK {
		return errors.New("update refused")
	}
	am, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		return err
	}
	answer := demoSDP(am.Media)
	if err := b.Update(ctx, &sdk.UpdateRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		return err
	}
	return a.Update(ctx, &sdk.UpdateRequest{LocalSDP: offer, RemoteSDP: answer})
}
