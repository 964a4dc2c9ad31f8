package audiostream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// countingBackend is a sound-device backend whose devices are null clocks,
// counting the opens and closes: what a real card cannot tell a test. The
// real backend runs in device/system's tests against PulseAudio.
type countingBackend struct {
	device.Null
	mu     sync.Mutex
	opens  int
	closes int
	closed chan struct{} // one value per close
}

func newCountingBackend() *countingBackend {
	return &countingBackend{closed: make(chan struct{}, 16)}
}

func (b *countingBackend) Name() string { return "counting" }

func (b *countingBackend) Open(ctx context.Context, cfg device.Config, p device.Processor) (device.Stream, error) {
	s, err := b.Null.Open(ctx, cfg, p)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.opens++
	b.mu.Unlock()
	return &countedStream{Stream: s, b: b}, nil
}

func (b *countingBackend) counts() (opens, closes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens, b.closes
}

type countedStream struct {
	device.Stream
	b *countingBackend
}

func (s *countedStream) Close() error {
	err := s.Stream.Close()
	s.b.mu.Lock()
	s.b.closes++
	s.b.mu.Unlock()
	s.b.closed <- struct{}{}
	return err
}

// lingering runs the plugin in-process on a counting backend, the device
// kept linger after the last call.
func lingering(t *testing.T, linger time.Duration) (*countingBackend, *sdk.LocalProvider, *harness) {
	t.Helper()
	b := newCountingBackend()
	lp, err := sdk.NewProvider(audiostream.Plugin("test", audiostream.WithBackend(b), audiostream.WithDeviceLinger(linger)))
	if err != nil {
		t.Fatal(err)
	}
	return b, lp, newHarnessWith(t, lp)
}

// deviceCall places one call on h with the system's default devices and
// ends it.
func deviceCall(t *testing.T, h *harness) {
	t.Helper()
	devices := map[string]string{sdkaudio.SettingInputDevice: device.SystemDefault, sdkaudio.SettingOutputDevice: device.SystemDefault}
	c := h.open(account("a", devices), account("b", devices))
	c.start(c.answer)
	for _, o := range []*sdk.Opened{c.a, c.b} {
		mustCall(t, "End", o.Stream.End)
	}
}

// The voice mixer keeps its sound device open for the linger after the last
// call, so that calls in a row open it once; Plugin.Close closes it; a
// device unused for the linger is closed, and the next call opens it again.
func TestDeviceLinger(t *testing.T) {
	t.Run("calls in a row open the device once", func(t *testing.T) {
		b, lp, h := lingering(t, time.Hour)
		for range 3 {
			deviceCall(t, h)
		}
		if opens, closes := b.counts(); opens != 1 || closes != 0 {
			t.Fatalf("after three calls: %d opens, %d closes; want 1 open, the device still open", opens, closes)
		}
		mustCall(t, "Close", lp.Close)
		if opens, closes := b.counts(); opens != 1 || closes != 1 {
			t.Fatalf("after Close: %d opens, %d closes; want 1 and 1", opens, closes)
		}
	})
	t.Run("an unused device closes after the linger", func(t *testing.T) {
		b, _, h := lingering(t, time.Millisecond)
		for i := 1; i <= 2; i++ {
			deviceCall(t, h)
			select {
			case <-b.closed:
			case <-time.After(waitTimeout):
				t.Fatalf("call %d: the device was not closed after the linger", i)
			}
			if opens, closes := b.counts(); opens != i || closes != i {
				t.Fatalf("call %d: %d opens, %d closes", i, opens, closes)
			}
		}
	})
	t.Run("no linger closes with the last call", func(t *testing.T) {
		b, _, h := lingering(t, 0)
		deviceCall(t, h)
		if opens, closes := b.counts(); opens != 1 || closes != 1 {
			t.Fatalf("%d opens, %d closes once the call ended; want 1 and 1", opens, closes)
		}
	})
}
