package audiostream_test

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// BenchmarkConcurrentCalls runs N PCMU calls at once, both ends in this
// process (two streams each, real UDP sockets on loopback, the shared 20 ms
// mixer clock, a tone file as each side's input), for 5 s of media, and
// reports the received loss rate and jitter (p99 over all streams, from
// RFC 3550 interarrival jitter), the CPU time per call-second and the
// stream count. One iteration per N: run with -benchtime=1x.
// With shared=N the streams use N shared socket pairs (rtp.shared_sockets).
func BenchmarkConcurrentCalls(b *testing.B) {
	for _, shared := range []int{0, 2} {
		for _, n := range []int{50, 100, 200} {
			b.Run(fmt.Sprintf("shared=%d/calls=%d", shared, n), func(b *testing.B) {
				for range b.N {
					runCalls(b, n, shared, 5*time.Second)
				}
			})
		}
	}
}

func runCalls(b *testing.B, n, shared int, media time.Duration) {
	h := newHarness(b)
	dir := b.TempDir()
	tone := writeTone(b, dir, 440, 8000, 30)
	settings := map[string]string{
		sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled,
		sdkaudio.SettingInputFile: tone, sdkaudio.SettingPortRange: "20000-29998",
		sdkaudio.SettingMaxStreams: strconv.Itoa(2 * n), sdkaudio.SettingSharedSockets: strconv.Itoa(shared),
	}
	calls := make([]*call, n)
	for i := range calls {
		calls[i] = h.open(account("a", settings), account("b", settings))
		calls[i].start(calls[i].answer)
	}
	var rxBefore uint64
	for _, c := range calls {
		rxBefore += stats(b, c.a.Stream).RX.Packets + stats(b, c.b.Stream).RX.Packets
	}
	var before, after syscall.Rusage
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	time.Sleep(media)
	elapsed := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	runtime.ReadMemStats(&m1)
	var received, lost uint64
	var jitters []float64
	for _, c := range calls {
		for _, st := range []sdkaudio.Statistics{stats(b, c.a.Stream), stats(b, c.b.Stream)} {
			received += st.RX.Packets
			if st.RX.PacketsLost > 0 {
				lost += uint64(st.RX.PacketsLost)
			}
			jitters = append(jitters, st.RX.JitterMillis)
		}
	}
	slices.Sort(jitters)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(lost)/float64(max(received+lost, 1))*100, "loss-%")
	b.ReportMetric(jitters[len(jitters)*99/100], "jitter-p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/(float64(n)*elapsed.Seconds()), "cpu-µs/call-s")
	// 50 packets/s per stream is what 20 ms packets give: a deficit is
	// media the host could not keep up with.
	b.ReportMetric(float64(received-rxBefore)/elapsed.Seconds()/float64(2*n), "rx-pkts/s/stream")
	// Heap allocations of the whole process (both ends, the harness's
	// notification recorders included) per packet received.
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(max(received-rxBefore, 1)), "allocs/packet")
}
