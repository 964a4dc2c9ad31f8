package notify

import (
	"slices"
	"testing"
	"time"
)

func benchmarkPost(b *testing.B, subscribers int) {
	c := New()
	defer c.Close()
	for range subscribers {
		defer c.Subscribe(ObserverFunc(func(Notification) {}), "SIPSessionDidStart", nil)()
	}
	// A non-matching subscription, so filtering is part of the cost.
	defer c.Subscribe(ObserverFunc(func(Notification) {}), "SIPSessionDidEnd", nil)()
	n := Notification{Name: "SIPSessionDidStart", Sender: c}
	b.ReportAllocs()
	for b.Loop() {
		c.Post(n)
	}
	// Include draining the queues, so ns/op reflects sustained throughput.
	if err := c.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPost measures Post plus delivery with one matching subscriber.
func BenchmarkPost(b *testing.B) { benchmarkPost(b, 1) }

// BenchmarkPostFanout measures Post plus delivery with ten matching
// subscribers.
func BenchmarkPostFanout(b *testing.B) { benchmarkPost(b, 10) }

// BenchmarkLatency measures the time from Post to the observer being called,
// one notification at a time (so there is no queueing), and reports the
// median and 99th percentile.
func BenchmarkLatency(b *testing.B) {
	c := New()
	defer c.Close()
	got := make(chan time.Duration, 1)
	defer c.Subscribe(ObserverFunc(func(n Notification) {
		got <- time.Since(n.Time)
	}), "", nil)()

	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		c.Post(Notification{Name: "SIPSessionDidStart"})
		lat = append(lat, <-got)
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}
