package codecs

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// BenchmarkFrame: one 20 ms frame (160 samples at 8 kHz) encoded and its
// payload decoded, as a stream does each tick, with the built-in G.711
// codecs and the G.711 modules side by side, and the G.726-32 module.
func BenchmarkFrame(b *testing.B) {
	pcmu := codectest.Load(b, build(b, "pcmu.wasm"))
	pcma := codectest.Load(b, build(b, "pcma.wasm"))
	g726 := codectest.Load(b, build(b, "g726-32.wasm"))
	pcm := codectest.Tone(1000, 8000, 160, 8000)
	for _, c := range []struct {
		name string
		c    codec.Codec
	}{
		{"PCMU/built-in", builtin.PCMU()},
		{"PCMU/module", pcmu},
		{"PCMA/built-in", builtin.PCMA()},
		{"PCMA/module", pcma},
		{"G726-32/module", g726},
	} {
		b.Run(c.name, func(b *testing.B) {
			enc, err := c.c.NewEncoder()
			if err != nil {
				b.Fatal(err)
			}
			defer codec.Close(enc)
			dec, err := c.c.NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			defer codec.Close(dec)
			payload, out := make([]byte, 0, 1024), make([]int16, 0, 1024)
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for b.Loop() {
				if payload, err = enc.Encode(pcm, payload[:0]); err != nil {
					b.Fatal(err)
				}
				if out, err = dec.Decode(payload, out[:0]); err != nil || len(out) != len(pcm) {
					b.Fatal(err, len(out))
				}
			}
		})
	}
}

// BenchmarkModuleLoad: a module file's bytes to a codec ready for streams
// (module.Load: compile, check the exports and description, the load
// check's instance and frame), as the audio plugin loads a file dropped
// into its codec directory.
func BenchmarkModuleLoad(b *testing.B) {
	for _, file := range []string{"g726-32.wasm", "pcmu.wasm"} {
		b.Run(file, func(b *testing.B) {
			wasm, err := os.ReadFile(build(b, file))
			if err != nil {
				b.Fatal(err)
			}
			defer cpuPerOp(b)()
			for b.Loop() {
				m, err := module.Load(context.Background(), wasm)
				if err != nil {
					b.Fatal(err)
				}
				_ = m.Close()
			}
			b.ReportMetric(float64(len(wasm)), "file-bytes")
		})
	}
}

// cpuPerOp reports, when the returned func runs after the benchmark's
// loop, the CPU time (user and system, all threads) the process spent per
// operation, as cpu-ns/op: on a shared machine wall-clock ns/op counts
// the time other processes had the CPU, this does not.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// streamsPerRound is how many streams BenchmarkStreamMemory opens at once.
const streamsPerRound = 2000

// BenchmarkStreamMemory: the memory a stream's codec holds — an encoder
// and a decoder — with the built-in PCMU and with a module codec, over
// streamsPerRound streams at once: Go heap in use after a GC (which holds
// the modules' linear memory too: wazero keeps it in a Go slice) per
// stream, as B/stream, the built-in's as builtin-B/stream, the difference
// as extra-B/stream, and the growth of the module's linear memory alone
// as wasm-B/stream; module-bytes is the linear memory of the module's
// instance with one stream, shared by all its streams. Run with
// -benchtime=1x: each iteration is a whole round.
func BenchmarkStreamMemory(b *testing.B) {
	for _, file := range []string{"pcmu.wasm", "g726-32.wasm"} {
		b.Run(file, func(b *testing.B) {
			m := codectest.Load(b, build(b, file))
			for b.Loop() {
				base := perStream(b, builtin.PCMU(), nil)
				var wasm float64
				var first int
				mod := perStream(b, m, func(before bool) {
					if before {
						first = m.Stats().MemoryBytes
						wasm = -float64(first)
					} else {
						wasm += float64(m.Stats().MemoryBytes)
					}
				})
				b.ReportMetric(mod, "B/stream")
				b.ReportMetric(base, "builtin-B/stream")
				b.ReportMetric(mod-base, "extra-B/stream")
				b.ReportMetric(wasm/streamsPerRound, "wasm-B/stream")
				b.ReportMetric(float64(first), "module-bytes")
			}
		})
	}
}

// perStream opens streamsPerRound encoder and decoder pairs of c after a
// first one (which, for a module, makes its instance) and returns the Go
// heap they added per stream; probe runs before and after.
func perStream(b *testing.B, c codec.Codec, probe func(before bool)) float64 {
	b.Helper()
	var states []any
	open := func() {
		enc, err := c.NewEncoder()
		if err != nil {
			b.Fatal(err)
		}
		dec, err := c.NewDecoder()
		if err != nil {
			b.Fatal(err)
		}
		// A frame through each, as a stream's first tick does.
		p, err := enc.Encode(make([]int16, c.Info().FrameSamples()), nil)
		if err == nil {
			_, err = dec.Decode(p, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		states = append(states, enc, dec)
	}
	defer func() {
		for _, s := range states {
			_ = codec.Close(s)
		}
	}()
	open()
	states = append(make([]any, 0, 2*streamsPerRound+2), states...)
	if probe != nil {
		probe(true)
	}
	before := heapInUse()
	for range streamsPerRound {
		open()
	}
	after := heapInUse()
	if probe != nil {
		probe(false)
	}
	runtime.KeepAlive(states)
	return float64(after-before) / streamsPerRound
}

// heapInUse is the Go heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
