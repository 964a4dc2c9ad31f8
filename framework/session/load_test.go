package session

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSippLoad: sipp's UAC calls an auto-answering host (echo stream,
// 500 ms call, BYE) at SIPSTREAMS_LOAD_RATE calls/s for
// SIPSTREAMS_LOAD_SECONDS. It reports the calls/s sustained, failed calls
// and the host's heap per established session, and fails on any failed call.
func BenchmarkSippLoad(b *testing.B) {
	rate := envInt("SIPSTREAMS_LOAD_RATE", 100)
	secs := envInt("SIPSTREAMS_LOAD_SECONDS", 10)
	h := newHostOn(b, "host", udp4)
	autoAnswer(b, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+60)*time.Second)
	defer cancel()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := sipptest.Run(b, ctx, sipptest.Options{
			Scenario: "uac_echo.xml", Remote: h.addr(),
			Calls: rate * secs, Rate: float64(rate), Limit: rate * 4,
			Timeout: time.Duration(secs+45) * time.Second,
		})
		elapsed := time.Since(start)
		b.ReportMetric(float64(r.Successful)/elapsed.Seconds(), "calls/s")
		b.ReportMetric(float64(r.Failed), "failed")
		if r.Failed != 0 || r.Successful != rate*secs {
			b.Errorf("sipp: %d successful, %d failed of %d\n%s", r.Successful, r.Failed, rate*secs, tail(r.Errors, 2000))
		}
	}
	b.StopTimer()
	// Heap per established session, measured with a batch of held calls.
	b.ReportMetric(heapPerSession(b, h), "heap-B/session")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// heapPerSession holds sessions open and divides the heap growth by their
// number.
func heapPerSession(b *testing.B, h *host) float64 {
	const n = 50
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// What the load left behind ends first: the baseline is an idle host.
	for deadline := time.Now().Add(30 * time.Second); len(h.mgr.Sessions()) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	before := heapInUse()
	uas := sipptest.Start(b, ctx, sipptest.Options{
		Scenario: "testdata/uac_echo_long.xml", Remote: h.addr(), Calls: n, Rate: 50, Limit: n,
		Timeout: 90 * time.Second,
	})
	deadline := time.Now().Add(60 * time.Second)
	for len(h.mgr.Sessions()) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := len(h.mgr.Sessions())
	after := heapInUse()
	uas.Stop()
	uas.Wait()
	if got == 0 {
		return 0
	}
	return float64(int64(after)-int64(before)) / float64(got)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
