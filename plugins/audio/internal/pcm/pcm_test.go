package pcm

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestSamplesPerFrame(t *testing.T) {
	tests := []struct{ rate, want int }{
		{8000, 160}, {16000, 320}, {32000, 640}, {44100, 882}, {48000, 960},
	}
	for _, tt := range tests {
		if got := SamplesPerFrame(tt.rate); got != tt.want {
			t.Errorf("SamplesPerFrame(%d) = %d, want %d", tt.rate, got, tt.want)
		}
		if err := CheckRate(tt.rate); err != nil {
			t.Errorf("CheckRate(%d) = %v", tt.rate, err)
		}
	}
	if err := CheckRate(22050); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("CheckRate(22050) = %v, want ErrUnsupportedRate", err)
	}
}

func TestMix(t *testing.T) {
	tests := []struct {
		name string
		srcs [][]int16
		want []int16
	}{
		{"none is silence", nil, []int16{0, 0, 0}},
		{"one copies", [][]int16{{1, -2, 3}}, []int16{1, -2, 3}},
		{"sum", [][]int16{{1, 2, 3}, {10, 20, 30}}, []int16{11, 22, 33}},
		{"short source pads", [][]int16{{1, 2, 3}, {5}}, []int16{6, 2, 3}},
		{"saturates high", [][]int16{{30000, 0, 0}, {30000, 0, 0}}, []int16{32767, 0, 0}},
		{"saturates low", [][]int16{{-30000, 0, 0}, {-30000, 0, 0}}, []int16{-32768, 0, 0}},
		{"cancels before clipping", [][]int16{{30000}, {30000}, {-30000}}, []int16{30000, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []int16{9, 9, 9}
			Mix(dst, tt.srcs...)
			if !slices.Equal(dst, tt.want) {
				t.Errorf("Mix = %v, want %v", dst, tt.want)
			}
		})
	}
	dst := []int16{32000, -32000, 5}
	MixInto(dst, []int16{32000, -32000})
	if want := []int16{32767, -32768, 5}; !slices.Equal(dst, want) {
		t.Errorf("MixInto = %v, want %v", dst, want)
	}
}

func TestGainAndVolume(t *testing.T) {
	tests := []struct {
		name string
		in   []int16
		g    float64
		want []int16
	}{
		{"unity", []int16{1, -1, 300}, 1, []int16{1, -1, 300}},
		{"half", []int16{100, -100, 3}, 0.5, []int16{50, -50, 2}},
		{"double saturates", []int16{20000, -20000}, 2, []int16{32767, -32768}},
		{"zero", []int16{20000, -20000}, 0, []int16{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := slices.Clone(tt.in)
			Gain(f, tt.g)
			if !slices.Equal(f, tt.want) {
				t.Errorf("Gain = %v, want %v", f, tt.want)
			}
		})
	}
	f := []int16{1000, -1000}
	Volume(f, 50)
	if want := []int16{500, -500}; !slices.Equal(f, want) {
		t.Errorf("Volume(50) = %v, want %v", f, want)
	}
	Volume(f, -3)
	if want := []int16{0, 0}; !slices.Equal(f, want) {
		t.Errorf("Volume(-3) = %v, want %v", f, want)
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		in   []int16
		want int
	}{
		{nil, 0}, {[]int16{0, 0}, 0}, {[]int16{-32768}, 255}, {[]int16{100, 16384}, 127},
	}
	for _, tt := range tests {
		if got := Level(tt.in); got != tt.want {
			t.Errorf("Level(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestBytes(t *testing.T) {
	samples := []int16{0, 1, -1, 32767, -32768, 0x1234}
	b := AppendBytes(nil, samples)
	want := []byte{0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0x80, 0x34, 0x12}
	if !slices.Equal(b, want) {
		t.Fatalf("AppendBytes = %x, want %x", b, want)
	}
	got, err := Decode(nil, b)
	if err != nil || !slices.Equal(got, samples) {
		t.Fatalf("Decode = %v, %v; want %v", got, err, samples)
	}
	if _, err := Decode(nil, []byte{1, 2, 3}); !errors.Is(err, ErrOddLength) {
		t.Fatalf("Decode(odd) = %v, want ErrOddLength", err)
	}
}

// sine returns n samples of a sine at freq Hz, starting at sample offset.
func sine(rate int, freq float64, amp float64, offset, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(offset+i)/float64(rate)))
	}
	return out
}

// power returns the Goertzel power of freq in x, normalised to amplitude.
func power(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(p) / float64(len(x))
}

func TestResamplerFrameLengths(t *testing.T) {
	for _, from := range SupportedRates {
		for _, to := range SupportedRates {
			r, err := NewResampler(from, to)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]int16, SamplesPerFrame(from))
			for i := 0; i < 10; i++ {
				out := r.Resample(nil, in)
				if len(out) != SamplesPerFrame(to) {
					t.Fatalf("%v frame %d: %d samples, want %d", r, i, len(out), SamplesPerFrame(to))
				}
			}
		}
	}
	for _, bad := range [][2]int{{8000, 0}, {999, 8000}, {8000, 400000}} {
		if _, err := NewResampler(bad[0], bad[1]); !errors.Is(err, ErrUnsupportedRate) {
			t.Fatalf("NewResampler(%d, %d) = %v", bad[0], bad[1], err)
		}
	}
	// Other rates work; the output length tracks the ratio over a stream.
	r, err := NewResampler(22050, 32000)
	if err != nil {
		t.Fatal(err)
	}
	var total int
	for i := 0; i < 100; i++ {
		total += len(r.Resample(nil, make([]int16, 441)))
	}
	if total != 64000 {
		t.Fatalf("22050->32000: %d samples from 2 s, want 64000", total)
	}
}

// TestResamplerTone feeds a 440 Hz tone frame by frame and checks that the
// output carries the tone at nearly the input amplitude and has no step at
// frame boundaries larger than the tone's own slope allows.
func TestResamplerTone(t *testing.T) {
	const freq, amp = 440.0, 10000.0
	for _, from := range SupportedRates {
		for _, to := range SupportedRates {
			r, _ := NewResampler(from, to)
			n := SamplesPerFrame(from)
			var out []int16
			for f := 0; f < 50; f++ {
				out = r.Resample(out, sine(from, freq, amp, f*n, n))
			}
			steady := out[len(out)/2:]
			if got := power(steady, to, freq); math.Abs(got-amp) > amp*0.05 {
				t.Errorf("%v: 440 Hz amplitude %.0f, want about %.0f", r, got, amp)
			}
			if got := power(steady, to, 1000); got > amp*0.02 {
				t.Errorf("%v: 1000 Hz amplitude %.0f, want near 0", r, got)
			}
			maxStep := 2*math.Pi*freq*amp/float64(to)*1.1 + 2
			for i := 1; i < len(steady); i++ {
				if d := math.Abs(float64(steady[i]) - float64(steady[i-1])); d > maxStep {
					t.Fatalf("%v: step %.0f at %d exceeds %.0f (a click)", r, d, i, maxStep)
				}
			}
		}
	}
}

// TestResamplerAntiAlias checks that a tone above the output's Nyquist
// frequency is filtered out instead of folding back into the band.
func TestResamplerAntiAlias(t *testing.T) {
	r, _ := NewResampler(48000, 8000)
	n := SamplesPerFrame(48000)
	var out []int16
	for f := 0; f < 50; f++ {
		out = r.Resample(out, sine(48000, 7000, 10000, f*n, n))
	}
	// 7 kHz would alias to 1 kHz at 8 kHz sampling.
	if got := power(out[len(out)/2:], 8000, 1000); got > 100 {
		t.Fatalf("aliased 1 kHz amplitude %.0f, want < 100", got)
	}
}

func BenchmarkResample(b *testing.B) {
	pairs := [][2]int{{8000, 48000}, {48000, 8000}, {44100, 32000}, {16000, 32000}}
	for _, p := range pairs {
		r, _ := NewResampler(p[0], p[1])
		in := sine(p[0], 440, 8000, 0, SamplesPerFrame(p[0]))
		out := make([]int16, 0, SamplesPerFrame(p[1]))
		b.Run(r.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out = r.Resample(out[:0], in)
			}
		})
	}
}

func BenchmarkMix(b *testing.B) {
	srcs := [][]int16{sine(32000, 440, 8000, 0, 640), sine(32000, 700, 8000, 0, 640), sine(32000, 300, 8000, 0, 640)}
	dst := make([]int16, 640)
	for i := 0; i < b.N; i++ {
		Mix(dst, srcs...)
	}
}
