package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// benchRegistry is openRegistry for benchmarks, with the echo plugin.
func benchRegistry(b *testing.B, opts ...registry.Option) *testRegistry {
	b.Helper()
	return benchRegistryOf(b, echoBin, "sipstreams-plugin-echo", opts...)
}

// benchRegistryOf is a registry whose plugin directory holds only the
// plugin binary bin, as file.
func benchRegistryOf(b *testing.B, bin, file string, opts ...registry.Option) *testRegistry {
	b.Helper()
	dir := b.TempDir()
	raw, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), raw, 0o755); err != nil {
		b.Fatal(err)
	}
	c := notify.New()
	b.Cleanup(c.Close)
	r := &testRegistry{Registry: registry.New(append([]registry.Option{registry.WithDir(dir), registry.WithNotifier(centerNotifier(c))}, opts...)...), center: c}
	b.Cleanup(func() { _ = r.Close(context.Background()) })
	if err := r.Discover(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := r.Plugins()[0].State; st != registry.StateReady {
		b.Fatalf("plugin %v: %v", st, r.Plugins()[0].Err)
	}
	return r
}

// percentiles reports p50 and p99 of ds as benchmark metrics.
func percentiles(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(p(0.50), "p50-"+unit)
	b.ReportMetric(p(0.99), "p99-"+unit)
}

// BenchmarkRPCRoundTrip: one host→plugin→host call (Attributes of a stream).
func BenchmarkRPCRoundTrip(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	s, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.End(ctx)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.Attributes(ctx); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	percentiles(b, ds, "µs")
}

// waiter signals when a stream's notification arrives.
type waiter struct {
	mu    sync.Mutex
	want  map[any]chan struct{}
	names map[string]bool
}

func newWaiter(names ...string) *waiter {
	w := &waiter{want: map[any]chan struct{}{}, names: map[string]bool{}}
	for _, n := range names {
		w.names[n] = true
	}
	return w
}

func (w *waiter) HandleNotification(n notify.Notification) {
	if !w.names[n.Name] {
		return
	}
	w.mu.Lock()
	ch := w.want[n.Sender]
	delete(w.want, n.Sender)
	w.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func (w *waiter) expect(s any) chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.want[s] = ch
	w.mu.Unlock()
	return ch
}

// BenchmarkLifecycle: one stream's full life seen from the host: Create,
// Initialize (until MediaStreamDidInitialize), GetLocalMedia, End (until
// MediaStreamDidEnd).
func BenchmarkLifecycle(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	w := newWaiter(sdk.MediaStreamDidInitialize, sdk.MediaStreamDidEnd)
	defer r.Center().Subscribe(w, "", nil)()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"})
		if err != nil {
			b.Fatal(err)
		}
		inited := w.expect(s)
		if err := s.Initialize(ctx, &sdk.InitializeRequest{Session: &sdk.SessionInfo{LocalIP: "127.0.0.1"}, Direction: sdk.DirectionOutgoing}); err != nil {
			b.Fatal(err)
		}
		<-inited
		if _, err := s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true}); err != nil {
			b.Fatal(err)
		}
		ended := w.expect(s)
		if err := s.End(ctx); err != nil {
			b.Fatal(err)
		}
		<-ended
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	percentiles(b, ds, "µs")
}

// BenchmarkLifecycleFused: the same life with the fused Create (sdk.Prepare:
// initialize and get the offer in the plugin), as the session drives it.
func BenchmarkLifecycleFused(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	w := newWaiter(sdk.MediaStreamDidEnd)
	defer r.Center().Subscribe(w, "", nil)()
	prep := &sdk.Prepare{Session: &sdk.SessionInfo{LocalIP: "127.0.0.1"}, Direction: sdk.DirectionOutgoing, LocalMedia: true}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo", Prepare: prep})
		if err != nil {
			b.Fatal(err)
		}
		if !s.Prepared().Initialized || s.Prepared().Media == "" {
			b.Fatalf("not prepared: %+v", s.Prepared())
		}
		ended := w.expect(s)
		if err := s.End(ctx); err != nil {
			b.Fatal(err)
		}
		<-ended
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	percentiles(b, ds, "µs")
}

// BenchmarkNotificationLatency: the plugin posts EchoTick notifications at
// 10,000/s; the latency is from the post in the plugin to the host observer.
func BenchmarkNotificationLatency(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	var mu sync.Mutex
	var ds []time.Duration
	done := make(chan struct{}, 1)
	want := 0
	obs := notify.ObserverFunc(func(n notify.Notification) {
		now := time.Now()
		var d struct {
			Sent int64 `json:"sent_unix_nano"`
		}
		_ = json.Unmarshal(n.Data.(json.RawMessage), &d)
		mu.Lock()
		ds = append(ds, now.Sub(time.Unix(0, d.Sent)))
		if len(ds) == want {
			done <- struct{}{}
		}
		mu.Unlock()
	})
	defer r.Center().Subscribe(obs, "EchoTick", nil)()
	count := b.N
	if count < 1000 {
		count = 1000
	}
	mu.Lock()
	want = count
	mu.Unlock()
	args, _ := json.Marshal(map[string]int{"count": count, "rate": 10000})
	b.ResetTimer()
	if _, err := r.Invoke(ctx, "echo", &sdk.InvokeRequest{Method: "tick", Args: args}); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("notifications did not all arrive")
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	percentiles(b, ds, "µs")
}

// BenchmarkPluginStart: exec of the plugin to a served Describe, per start.
func BenchmarkPluginStart(b *testing.B) {
	ds := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		r := benchRegistry(b)
		ds = append(ds, r.Plugins()[0].ReadyIn)
		_ = r.Close(context.Background())
	}
	percentiles(b, ds, "µs")
}

// BenchmarkIdleRSS reports the resident memory of the host (this test
// process, plugin loaded) and of the idle plugin process.
func BenchmarkIdleRSS(b *testing.B) {
	r := benchRegistry(b)
	pid := r.Plugins()[0].PID
	time.Sleep(200 * time.Millisecond) // let the plugin settle after start
	for i := 0; i < b.N; i++ {
		_ = i
	}
	b.ReportMetric(float64(rssKB(b, os.Getpid())), "host-rss-KB")
	b.ReportMetric(float64(rssKB(b, pid)), "plugin-rss-KB")
}

func rssKB(b *testing.B, pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// goAndPython are the echo plugin in Go and its twin in Python (the kit in
// sdk/python), for the benchmarks that compare them in one run.
func goAndPython(b *testing.B) []struct{ name, bin, file, typ string } {
	return []struct{ name, bin, file, typ string }{
		{"go", echoBin, "sipstreams-plugin-echo", "echo"},
		{"python", pyEchoBin(b), "sipstreams-plugin-pyecho", "pyecho"},
	}
}

// BenchmarkLanguageRPC: BenchmarkRPCRoundTrip (Attributes of a stream) on
// the Go echo plugin and on the Python one, side by side in one run.
func BenchmarkLanguageRPC(b *testing.B) {
	for _, p := range goAndPython(b) {
		b.Run(p.name, func(b *testing.B) {
			r := benchRegistryOf(b, p.bin, p.file, pyTimeouts...)
			ctx := context.Background()
			s, err := r.Create(ctx, &sdk.CreateRequest{Type: p.typ})
			if err != nil {
				b.Fatal(err)
			}
			defer s.End(ctx)
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := s.Attributes(ctx); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			b.StopTimer()
			percentiles(b, ds, "µs")
		})
	}
}

// BenchmarkLanguageStart: BenchmarkPluginStart (exec → handshake →
// Describe served) for the Go echo plugin and the Python one, alternating
// so both see the same machine, in one run.
func BenchmarkLanguageStart(b *testing.B) {
	ps := goAndPython(b)
	ds := make([][]time.Duration, len(ps))
	for i := 0; i < b.N; i++ {
		for j, p := range ps {
			r := benchRegistryOf(b, p.bin, p.file, pyTimeouts...)
			ds[j] = append(ds[j], r.Plugins()[0].ReadyIn)
			_ = r.Close(context.Background())
		}
	}
	for j, p := range ps {
		sort.Slice(ds[j], func(a, c int) bool { return ds[j][a] < ds[j][c] })
		q := func(x float64) float64 { return float64(ds[j][int(x*float64(len(ds[j])-1))].Microseconds()) / 1e3 }
		b.ReportMetric(q(0.50), p.name+"-p50-ms")
		b.ReportMetric(q(0.99), p.name+"-p99-ms")
	}
}

// processCPU is the CPU time the process pid has used (user + system).
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the whole line, in clock ticks (100 Hz).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// BenchmarkRPCParallel: calls from many goroutines at once, as sessions
// make them under load (Attributes of a stream each, 64 callers): calls per
// second, and the CPU the host (this process) and the plugin spend per
// call. With a plugin of contract 1.2 they share the Calls stream.
func BenchmarkRPCParallel(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	pid := r.Plugins()[0].PID
	b.SetParallelism(32) // × GOMAXPROCS callers
	var next sync.Mutex
	streams := []*registry.Stream{}
	defer func() {
		for _, s := range streams {
			_ = s.End(ctx)
		}
	}()
	h0, p0 := processCPU(b, os.Getpid()), processCPU(b, pid)
	t0 := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"})
		if err != nil {
			b.Error(err)
			return
		}
		next.Lock()
		streams = append(streams, s)
		next.Unlock()
		for pb.Next() {
			if _, err := s.Attributes(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	el := time.Since(t0)
	h, p := processCPU(b, os.Getpid())-h0, processCPU(b, pid)-p0
	n := float64(b.N)
	b.ReportMetric(n/el.Seconds(), "calls/s")
	b.ReportMetric(float64(h.Microseconds())/n, "host-cpu-µs/call")
	b.ReportMetric(float64(p.Microseconds())/n, "plugin-cpu-µs/call")
}
