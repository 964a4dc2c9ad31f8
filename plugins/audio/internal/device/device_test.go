package device

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeBackend is a Backend made of funcs.
type fakeBackend struct {
	devices func() ([]Info, error)
	open    func(cfg Config, p Processor) (Stream, error)
}

func (f *fakeBackend) Name() string { return "fake" }
func (f *fakeBackend) Devices(context.Context) ([]Info, error) {
	return f.devices()
}
func (f *fakeBackend) Open(_ context.Context, cfg Config, p Processor) (Stream, error) {
	return f.open(cfg, p)
}

type closeFunc func() error

func (c closeFunc) Close() error { return c() }

func TestNullStepped(t *testing.T) {
	ticks := make(chan time.Time)
	frames := make(chan []int16, 4)
	n := &Null{Ticks: ticks, Output: func(f []int16) { frames <- slices.Clone(f) }}
	var calls int
	s, err := n.Open(context.Background(), Config{SampleRate: 8000}, ProcessorFunc(func(in, out []int16) {
		calls++
		if in != nil || len(out) != 160 {
			t.Errorf("frame sizes %d/%d (in nil: %v), want no input and 160 out", len(in), len(out), in == nil)
		}
		out[0] = int16(calls)
	}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		ticks <- time.Time{}
		if f := <-frames; f[0] != int16(i) {
			t.Fatalf("frame %d carries %d", i, f[0])
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Fatalf("%d calls, want 3", calls)
	}
	if _, err := n.Open(context.Background(), Config{SampleRate: 11025}, ProcessorFunc(func(_, _ []int16) {})); err == nil {
		t.Fatal("Open at 11025 Hz succeeded")
	}

	// Without an Output nothing plays the frames: out is nil, so that the
	// Processor does not make them.
	quiet := &Null{Ticks: ticks}
	got := make(chan bool, 1)
	s, err = quiet.Open(context.Background(), Config{SampleRate: 8000}, ProcessorFunc(func(in, out []int16) { got <- in == nil && out == nil }))
	if err != nil {
		t.Fatal(err)
	}
	ticks <- time.Now()
	if !<-got {
		t.Error("the null clock without an Output passed frames")
	}
	_ = s.Close()
}

func TestNullRealTime(t *testing.T) {
	var calls atomic.Int32
	s, err := (&Null{}).Open(context.Background(), Config{SampleRate: 48000}, ProcessorFunc(func(_, _ []int16) { calls.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	if calls.Load() < 3 {
		t.Fatalf("only %d ticks", calls.Load())
	}
}

func TestList(t *testing.T) {
	b := &fakeBackend{devices: func() ([]Info, error) {
		return []Info{{ID: "x", Name: "Speaker", Output: true, Default: true}}, nil
	}}
	got, err := List(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{SystemDefault, None, "x"}) {
		t.Fatalf("List IDs = %v", ids)
	}
	boom := errors.New("boom")
	b.devices = func() ([]Info, error) { return nil, boom }
	if got, err := List(context.Background(), b); !errors.Is(err, boom) || len(got) != 2 {
		t.Fatalf("List on failure = %v, %v", got, err)
	}
}

func TestRing(t *testing.T) {
	r := NewRing(4)
	if n := r.Write([]int16{1, 2, 3}); n != 3 {
		t.Fatalf("Write = %d", n)
	}
	if n := r.Write([]int16{4, 5, 6}); n != 1 {
		t.Fatalf("Write into a nearly full ring = %d, want 1", n)
	}
	p := make([]int16, 3)
	if n := r.Read(p); n != 3 || !slices.Equal(p, []int16{1, 2, 3}) {
		t.Fatalf("Read = %d %v", n, p)
	}
	r.Write([]int16{7, 8})
	p = make([]int16, 8)
	if n := r.Read(p); n != 3 || !slices.Equal(p[:3], []int16{4, 7, 8}) {
		t.Fatalf("Read across the wrap = %d %v", n, p[:n])
	}
	if r.Len() != 0 || r.Cap() != 4 {
		t.Fatalf("Len %d Cap %d", r.Len(), r.Cap())
	}
}

// TestRingConcurrent moves a counting sequence through a small ring between
// two goroutines; -race checks the synchronisation, the sequence its order.
func TestRingConcurrent(t *testing.T) {
	const total = 100000
	r := NewRing(37)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]int16, 10)
		for next := 0; next < total; {
			k := min(len(buf), total-next)
			for i := 0; i < k; i++ {
				buf[i] = int16(next + i)
			}
			next += r.Write(buf[:k])
		}
	}()
	buf := make([]int16, 7)
	for want := 0; want < total; {
		n := r.Read(buf)
		for _, v := range buf[:n] {
			if v != int16(want) {
				t.Fatalf("got %d, want %d", v, int16(want))
			}
			want++
		}
	}
	wg.Wait()
}

func TestDriver(t *testing.T) {
	boom := errors.New("device busy")
	var opened []Config
	var open atomic.Int32
	b := &fakeBackend{open: func(cfg Config, p Processor) (Stream, error) {
		if cfg.Output == "busy" {
			return nil, boom
		}
		opened = append(opened, cfg)
		open.Add(1)
		return closeFunc(func() error { open.Add(-1); return nil }), nil
	}}
	ticks := make(chan time.Time)
	defer close(ticks)
	d := NewDriver(b, ProcessorFunc(func(_, _ []int16) {}), WithLogger(quiet), WithNull(&Null{Ticks: ticks}))
	ctx := context.Background()

	steps := []struct {
		name   string
		cfg    Config
		onNull bool
		err    error
	}{
		{"default devices", Config{Input: SystemDefault, Output: SystemDefault, SampleRate: 32000}, false, nil},
		{"switch output", Config{Input: SystemDefault, Output: "usb", SampleRate: 32000}, false, nil},
		{"failing device falls back", Config{Input: SystemDefault, Output: "busy", SampleRate: 32000}, true, boom},
		{"back to a device", Config{Input: None, Output: SystemDefault, SampleRate: 16000}, false, nil},
		{"no device at all", Config{Input: None, Output: None, SampleRate: 16000}, true, nil},
	}
	for _, s := range steps {
		err := d.Use(ctx, s.cfg)
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("%s: Use = %v, want %v", s.name, err, s.err)
		}
		var oe *OpenError
		if s.err != nil && (!errors.As(err, &oe) || oe.Config != s.cfg) {
			t.Fatalf("%s: error %v is not an *OpenError for the config", s.name, err)
		}
		if d.OnNull() != s.onNull || d.Config() != s.cfg {
			t.Fatalf("%s: OnNull %v Config %+v", s.name, d.OnNull(), d.Config())
		}
		if got, want := open.Load(), int32(0); !s.onNull && got != 1 || s.onNull && got != want {
			t.Fatalf("%s: %d backend streams open", s.name, got)
		}
	}
	if len(opened) != 3 {
		t.Fatalf("backend opened %d times, want 3", len(opened))
	}
	if err := d.Use(ctx, Config{SampleRate: 1234}); err == nil {
		t.Fatal("Use accepted 1234 Hz")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Use(ctx, steps[0].cfg); !errors.Is(err, ErrClosed) {
		t.Fatalf("Use after Close = %v", err)
	}
}

func TestDriverWithoutBackend(t *testing.T) {
	ticks := make(chan time.Time)
	defer close(ticks)
	d := NewDriver(nil, ProcessorFunc(func(_, _ []int16) {}), WithLogger(quiet), WithNull(&Null{Ticks: ticks}))
	defer d.Close()
	var oe *OpenError
	if err := d.Use(context.Background(), Config{Output: SystemDefault, SampleRate: 8000}); !errors.As(err, &oe) || !d.OnNull() {
		t.Fatalf("Use without backend = %v, on null %v", err, d.OnNull())
	}
}

func BenchmarkRing(b *testing.B) {
	r := NewRing(4096)
	frame := make([]int16, 960)
	for i := 0; i < b.N; i++ {
		r.Write(frame)
		r.Read(frame)
	}
}

// lostStream is a Stream whose loss the test triggers.
type lostStream struct {
	lost   chan struct{}
	closed atomic.Bool
}

func (s *lostStream) Close() error          { s.closed.Store(true); return nil }
func (s *lostStream) Lost() <-chan struct{} { return s.lost }

func TestDriverDeviceLost(t *testing.T) {
	var streams []*lostStream
	var mu sync.Mutex
	b := &fakeBackend{open: func(Config, Processor) (Stream, error) {
		mu.Lock()
		defer mu.Unlock()
		s := &lostStream{lost: make(chan struct{})}
		streams = append(streams, s)
		return s, nil
	}}
	ticks := make(chan time.Time)
	defer close(ticks)
	d := NewDriver(b, ProcessorFunc(func(_, _ []int16) {}), WithLogger(quiet), WithNull(&Null{Ticks: ticks}))
	defer d.Close()
	cfg := Config{Input: SystemDefault, Output: SystemDefault, SampleRate: 8000}
	if err := d.Use(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	close(streams[0].lost)
	deadline := time.Now().Add(10 * time.Second)
	for !d.OnNull() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !d.OnNull() || !errors.Is(d.Lost(), ErrDeviceLost) || !streams[0].closed.Load() {
		t.Fatalf("after loss: on null %v, Lost %v, closed %v", d.OnNull(), d.Lost(), streams[0].closed.Load())
	}
	// Choosing a device again leaves the null clock and clears the loss.
	if err := d.Use(context.Background(), cfg); err != nil || d.OnNull() || d.Lost() != nil {
		t.Fatalf("Use after loss = %v, on null %v, Lost %v", err, d.OnNull(), d.Lost())
	}
	// A stream replaced before it is lost does not disturb its successor.
	d.Use(context.Background(), cfg)
	close(streams[1].lost)
	if d.OnNull() || streams[2].closed.Load() {
		t.Fatal("loss of a replaced stream moved the driver")
	}
}
