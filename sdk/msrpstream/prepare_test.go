package msrpstream

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// TestPrepareHook: Config.Prepare runs before the setup, on a goroutine
// of the stream; its error fails initialization with its reason, its
// success lets the setup follow; End during Prepare cancels it and posts
// only MediaStreamDidNotInitialize "Interrupted".
func TestPrepareHook(t *testing.T) {
	ctx := context.Background()
	tcp := map[string]string{SettingTransport: "tcp"}
	init := &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}

	t.Run("success", func(t *testing.T) {
		rec := newRecorder()
		release := make(chan struct{})
		b := New(newEnv(rec), account(tcp), quietConfig(Config{Prepare: func(ctx context.Context) error {
			<-release
			return nil
		}}))
		defer b.End(ctx)
		if err := b.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true}); !errors.Is(err, sdk.ErrIllegalState) {
			t.Fatalf("local media while preparing: %v", err)
		}
		if err := b.Initialize(ctx, init); !errors.Is(err, sdk.ErrIllegalState) {
			t.Fatalf("second Initialize: %v", err)
		}
		close(release)
		rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
		if _, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failure", func(t *testing.T) {
		rec := newRecorder()
		b := New(newEnv(rec), account(tcp), quietConfig(Config{Prepare: func(context.Context) error {
			return errors.New("file is empty")
		}}))
		defer b.End(ctx)
		if err := b.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		n := rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)
		if d := data[sdk.DidNotInitializeData](t, n); d.Reason != "file is empty" {
			t.Fatalf("reason %q", d.Reason)
		}
	})
	t.Run("end while preparing", func(t *testing.T) {
		rec := newRecorder()
		canceled := make(chan struct{})
		b := New(newEnv(rec), account(tcp), quietConfig(Config{Prepare: func(ctx context.Context) error {
			<-ctx.Done()
			close(canceled)
			return ctx.Err()
		}}))
		if err := b.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		if err := b.End(ctx); err != nil {
			t.Fatal(err)
		}
		<-canceled
		if got := rec.Names(0); len(got) != 1 || got[0] != sdk.MediaStreamDidNotInitialize {
			t.Fatalf("notifications %v, want one MediaStreamDidNotInitialize", got)
		}
		if d := data[sdk.DidNotInitializeData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)); d.Reason != sdk.ReasonInterrupted {
			t.Fatalf("reason %q", d.Reason)
		}
	})
}

// TestSetAttributesAndFail: attributes set after initialization are in
// the next local media; Fail posts MediaStreamDidFail once started, and
// not while closing.
func TestSetAttributesAndFail(t *testing.T) {
	ctx := context.Background()
	tcp := map[string]string{SettingTransport: "tcp"}
	offerer, answerer := negotiateWith(t, tcp, tcp, chatConfig(make(chan []byte, 8)), chatConfig(make(chan []byte, 8)))
	offerer.base.SetAttributes([]sdp.Attribute{{Key: "file-selector", Value: `name:"a.txt" size:3`}})
	m, err := offerer.base.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil || !strings.HasSuffix(m.Media, "a=file-selector:name:\"a.txt\" size:3\r\n") {
		t.Fatalf("media %q, %v", m.Media, err)
	}
	if !answerer.base.Fail("transferring", "CPIM wrapper is not supported") {
		t.Fatal("Fail did not fail a started stream")
	}
	n := answerer.rec.WaitFor(t, 0, sdk.MediaStreamDidFail)
	if d := data[sdk.DidFailData](t, n); d.Context != "transferring" || d.Reason != "CPIM wrapper is not supported" {
		t.Fatalf("failure %+v", d)
	}
	if answerer.base.Fail("transferring", "again") {
		t.Fatal("Fail failed a failed stream")
	}
	_ = offerer.base.Deactivate(ctx)
	if offerer.base.Fail("reading", "closing") {
		t.Fatal("Fail failed a deactivated stream")
	}
}
