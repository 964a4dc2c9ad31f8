package spectrum

import (
	"errors"
	"math"
	"math/cmplx"
	"testing"
)

func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

func TestDominant(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		for _, freq := range []float64{440, 1000, 1336} {
			for _, n := range []int{rate / 50, rate / 10, rate / 4} { // 20 ms, 100 ms, 250 ms
				got, mag := Dominant(sine(freq, rate, n, 10000), rate)
				// The bin width of a 20 ms block is 50 Hz; interpolation
				// must land well inside one bin.
				tol := 0.1 * float64(rate) / float64(n)
				if math.Abs(got-freq) > tol {
					t.Errorf("rate %d n %d: Dominant(%v Hz) = %.2f Hz, want within %.2f", rate, n, freq, got, tol)
				}
				if mag < 8500 || mag > 11500 {
					t.Errorf("rate %d n %d freq %v: magnitude %.0f, want about 10000", rate, n, freq, mag)
				}
			}
		}
	}
}

func TestDominantPicksStrongerTone(t *testing.T) {
	const rate = 8000
	a := sine(697, rate, 1600, 3000)
	b := sine(1336, rate, 1600, 9000)
	mix := make([]int16, len(a))
	for i := range a {
		mix[i] = a[i] + b[i]
	}
	got, _ := Dominant(mix, rate)
	if math.Abs(got-1336) > 2 {
		t.Fatalf("Dominant = %.2f, want 1336", got)
	}
}

func TestDominantDegenerate(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
		rate    int
	}{
		{"empty", nil, 8000},
		{"short", []int16{1, 2, 3}, 8000},
		{"zero rate", sine(1000, 8000, 160, 1000), 0},
		{"silence", make([]int16, 160), 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, m := Dominant(tt.samples, tt.rate)
			if f != 0 || m != 0 {
				t.Fatalf("Dominant = %v, %v; want 0, 0", f, m)
			}
		})
	}
}

func TestGoertzel(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		for _, freq := range []float64{440, 1000, 1336} {
			s := sine(freq, rate, rate/10, 8000)
			if got := Goertzel(s, rate, freq); got < 7500 || got > 8500 {
				t.Errorf("rate %d: Goertzel at %v Hz = %.0f, want about 8000", rate, freq, got)
			}
			// A tone 200 Hz away must read at most 1% of it.
			if got := Goertzel(s, rate, freq+200); got > 80 {
				t.Errorf("rate %d: Goertzel at %v Hz for a %v Hz tone = %.0f, want < 80", rate, freq+200, freq, got)
			}
		}
	}
	if got := Goertzel(nil, 8000, 1000); got != 0 {
		t.Errorf("Goertzel(nil) = %v", got)
	}
}

func TestRMS(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
		want    float64
		tol     float64
	}{
		{"empty", nil, 0, 0},
		{"silence", make([]int16, 100), 0, 0},
		{"constant", []int16{-300, -300, -300, -300}, 300, 0},
		{"square", []int16{100, -100, 100, -100}, 100, 0},
		{"sine", sine(1000, 8000, 8000, 10000), 10000 / math.Sqrt2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.samples); math.Abs(got-tt.want) > tt.tol {
				t.Fatalf("RMS = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFFTMatchesDFT(t *testing.T) {
	const n = 64
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(math.Sin(float64(i)*0.7)+0.3*float64(i%5), math.Cos(float64(i)*1.3))
	}
	want := make([]complex128, n)
	for k := range want {
		for j := range x {
			want[k] += x[j] * cmplx.Rect(1, -2*math.Pi*float64(k*j)/n)
		}
	}
	if err := FFT(x); err != nil {
		t.Fatal(err)
	}
	for k := range x {
		if cmplx.Abs(x[k]-want[k]) > 1e-9 {
			t.Fatalf("bin %d: got %v, want %v", k, x[k], want[k])
		}
	}
}

func TestFFTLength(t *testing.T) {
	if err := FFT(make([]complex128, 12)); !errors.Is(err, ErrNotPowerOfTwo) {
		t.Fatalf("FFT(12) error = %v, want ErrNotPowerOfTwo", err)
	}
	for _, n := range []int{0, 1, 2, 1024} {
		if err := FFT(make([]complex128, n)); err != nil {
			t.Errorf("FFT(%d): %v", n, err)
		}
	}
}

func BenchmarkDominant20ms48k(b *testing.B) {
	s := sine(1000, 48000, 960, 10000)
	for b.Loop() {
		Dominant(s, 48000)
	}
}

func BenchmarkGoertzel20ms8k(b *testing.B) {
	s := sine(1000, 8000, 160, 10000)
	for b.Loop() {
		Goertzel(s, 8000, 1000)
	}
}
