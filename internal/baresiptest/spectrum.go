package baresiptest

import (
	"fmt"
	"math"
	"math/cmplx"
)

const (
	minWindow = 256  // smallest analysis window, in frames
	silentRMS = 1e-4 // RMS (full scale 1) below which audio counts as silent: -80 dBFS
)

// Analysis is what Analyze tells about a recording.
type Analysis struct {
	// Dominant is the frequency in Hz of the strongest spectral peak,
	// interpolated between FFT bins.
	Dominant float64
	// RMS is the root mean square level, full scale 1.
	RMS float64
	// Resolution is the FFT bin width in Hz.
	Resolution float64
}

// DominantFrequency returns the frequency in Hz of the strongest tone
// in the WAV file at path (the channels averaged): the tone a baresip
// sndfile recording heard. It fails with ErrSilent for silence and
// ErrTooShort for less than 256 frames.
func DominantFrequency(path string) (float64, error) {
	p, err := ReadWAV(path)
	if err != nil {
		return 0, err
	}
	a, err := Analyze(p)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return a.Dominant, nil
}

// Analyze measures the level and the dominant frequency of p. The
// spectrum is a Welch average of Hann-windowed FFTs, half-overlapping,
// each window the power of two at or above half a second of audio (at
// most the whole recording), so bins are at most 2 Hz wide when the
// recording is long enough.
func Analyze(p PCM) (Analysis, error) {
	x := p.Mono()
	if len(x) < minWindow {
		return Analysis{}, fmt.Errorf("%w: %d frames", ErrTooShort, len(x))
	}
	var sum float64
	for _, v := range x {
		sum += v * v
	}
	a := Analysis{RMS: math.Sqrt(sum / float64(len(x)))}
	if a.RMS < silentRMS {
		return a, fmt.Errorf("%w: RMS %.2g", ErrSilent, a.RMS)
	}
	n := minWindow
	for n < p.Rate/2 && n*2 <= len(x) {
		n *= 2
	}
	power := welch(x, n)
	peak := 1 // skip DC
	for k := 2; k < len(power); k++ {
		if power[k] > power[peak] {
			peak = k
		}
	}
	a.Resolution = float64(p.Rate) / float64(n)
	a.Dominant = (float64(peak) + interpolate(power, peak)) * a.Resolution
	return a, nil
}

// welch returns the average power spectrum (bins 0 to n/2) of x over
// Hann-windowed, half-overlapping windows of n frames (n a power of
// two, at most len(x)).
func welch(x []float64, n int) []float64 {
	hann := make([]float64, n)
	for i := range hann {
		hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	power := make([]float64, n/2+1)
	buf := make([]complex128, n)
	for start := 0; start+n <= len(x); start += n / 2 {
		for i := range buf {
			buf[i] = complex(x[start+i]*hann[i], 0)
		}
		fft(buf)
		for k := range power {
			m := cmplx.Abs(buf[k])
			power[k] += m * m
		}
	}
	return power
}

// interpolate returns the offset in bins, within ±0.5, of the true peak
// near bin k, from a parabola through the log power of bins k-1, k, k+1.
func interpolate(power []float64, k int) float64 {
	if k <= 0 || k+1 >= len(power) || power[k-1] <= 0 || power[k+1] <= 0 {
		return 0
	}
	a, b, c := math.Log(power[k-1]), math.Log(power[k]), math.Log(power[k+1])
	d := a - 2*b + c
	if d == 0 {
		return 0
	}
	return math.Max(-0.5, math.Min(0.5, 0.5*(a-c)/d))
}

// fft transforms x in place (radix-2, decimation in time); len(x) must
// be a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ { // bit-reversal permutation
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}
