package audiostream_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

func TestDevices(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	list, err := sdkaudio.ListDevices(ctx, h.lp)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, d := range list.Devices {
		ids[d.ID] = true
	}
	if !ids["system_default"] || !ids["none"] {
		t.Errorf("devices %+v lack system_default and none", list.Devices)
	}
	got, err := sdkaudio.SelectDevices(ctx, h.lp, "none", "none", "none")
	if err != nil {
		t.Fatal(err)
	}
	if got.Input != "none" || got.Output != "none" || got.Alert != "none" {
		t.Errorf("SelectDevices = %+v", got)
	}
	// A stream started now runs on the selected devices.
	c := h.open(account("a", map[string]string{sdkaudio.SettingInputDevice: "system_default"}), account("b", nil))
	c.start(c.answer)
	list, err = sdkaudio.ListDevices(ctx, h.lp)
	if err != nil || list.Current.Input != "none" || !list.Current.OnNull {
		t.Errorf("current devices %+v, %v", list.Current, err)
	}
}

func TestAlert(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	file := writeTone(t, t.TempDir(), 800, 8000, 0.2)
	if err := sdkaudio.PlayWAV(ctx, h.lp, file, 2); err != nil {
		t.Fatalf("PlayWAV: %v", err)
	}
	if err := sdkaudio.PlayTones(ctx, h.lp, []sdkaudio.Tone{{F1: 440, F2: 480, Millis: 100}, {Millis: 60}, {F1: 440, Millis: 100}}); err != nil {
		t.Fatalf("PlayTones: %v", err)
	}
	bad := []func() error{
		func() error { return sdkaudio.PlayWAV(ctx, h.lp, "", 1) },
		func() error { return sdkaudio.PlayWAV(ctx, h.lp, file+".missing", 1) },
		func() error { return sdkaudio.PlayTones(ctx, h.lp, nil) },
		func() error { return sdkaudio.PlayTones(ctx, h.lp, []sdkaudio.Tone{{F1: -1, Millis: 10}}) },
	}
	for i, f := range bad {
		if err := f(); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("bad call %d = %v, want ErrInvalidArgument", i, err)
		}
	}
	// Looping forever ends with the caller's context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := sdkaudio.PlayWAV(cctx, h.lp, file, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("PlayWAV forever with a cancelled context = %v", err)
	}
}
