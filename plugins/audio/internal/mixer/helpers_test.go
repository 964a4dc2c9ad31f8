package mixer

import (
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/tone"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// constPort is a Source producing a constant value (if src) and a Sink
// keeping the last frame it got (if sink); reads counts ReadFrame calls.
type constPort struct {
	name  string
	value int16
	last  []int16
	reads int
}

func (p *constPort) Name() string { return p.name }

type srcPort struct{ *constPort }

func (p srcPort) ReadFrame(f []int16) {
	p.reads++
	for i := range f {
		f[i] = p.value
	}
}

type sinkPort struct{ *constPort }

func (p sinkPort) WriteFrame(f []int16) { p.last = slices.Clone(f) }

type duplexPort struct{ *constPort }

func (p duplexPort) ReadFrame(f []int16)  { srcPort(p).ReadFrame(f) }
func (p duplexPort) WriteFrame(f []int16) { sinkPort(p).WriteFrame(f) }

func newSrc(name string, v int16) srcPort       { return srcPort{&constPort{name: name, value: v}} }
func newSink(name string) sinkPort              { return sinkPort{&constPort{name: name}} }
func newDuplex(name string, v int16) duplexPort { return duplexPort{&constPort{name: name, value: v}} }

// constant returns the value of a frame whose samples are all equal, or
// fails.
func constant(t *testing.T, f []int16) int16 {
	t.Helper()
	if len(f) == 0 {
		t.Fatal("no frame")
	}
	for _, v := range f {
		if v != f[0] {
			t.Fatalf("frame is not constant: %v...", f[:4])
		}
	}
	return f[0]
}

func fill(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

func sine(rate int, freq, amp float64, offset, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(offset+i)/float64(rate)))
	}
	return out
}

// amplitude returns the amplitude of freq in x (Goertzel).
func amplitude(x []int16, rate int, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(s1*s1+s2*s2-c*s1*s2) / float64(len(x))
}

func toneOf(f float64, d time.Duration) tone.Tone { return tone.Tone{F1: f, Duration: d} }
