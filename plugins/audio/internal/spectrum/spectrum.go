package spectrum

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"
)

// RMS returns the root-mean-square value of samples, 0 for an empty slice.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// FFT transforms x in place (forward, unnormalised, radix-2
// decimation-in-time). len(x) must be a power of two; 0 and 1 are accepted
// and leave x unchanged.
func FFT(x []complex128) error {
	n := len(x)
	if n <= 1 {
		return nil
	}
	if n&(n-1) != 0 {
		return fmt.Errorf("fft of %d points: %w", n, ErrNotPowerOfTwo)
	}
	shift := 64 - uint(bits.TrailingZeros(uint(n)))
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		step := -2 * math.Pi / float64(size)
		for k := 0; k < half; k++ {
			w := cmplx.Rect(1, step*float64(k))
			for start := 0; start < n; start += size {
				a := x[start+k]
				b := w * x[start+k+half]
				x[start+k] = a + b
				x[start+k+half] = a - b
			}
		}
	}
	return nil
}

// hann returns the Hann window coefficient i of n and the sum used to
// normalise amplitudes.
func hann(i, n int) float64 {
	if n == 1 {
		return 1
	}
	return 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
}

// Dominant returns the frequency in Hz of the strongest spectral peak of
// samples taken at rate Hz, and the peak's amplitude (in sample units, so a
// sine of amplitude 10000 reads about 10000). The DC bin is ignored. It
// returns 0, 0 for fewer than 4 samples or a non-positive rate.
func Dominant(samples []int16, rate int) (freqHz float64, magnitude float64) {
	if len(samples) < 4 || rate <= 0 {
		return 0, 0
	}
	n := 1
	for n < len(samples) {
		n <<= 1
	}
	buf := make([]complex128, n)
	var wsum float64
	for i, s := range samples {
		w := hann(i, len(samples))
		wsum += w
		buf[i] = complex(float64(s)*w, 0)
	}
	// n is a power of two by construction.
	_ = FFT(buf)
	mags := make([]float64, n/2+1)
	best := 1
	for k := 1; k <= n/2; k++ {
		mags[k] = cmplx.Abs(buf[k])
		if mags[k] > mags[best] {
			best = k
		}
	}
	if mags[best] == 0 {
		return 0, 0
	}
	// Parabolic interpolation on log magnitudes (exact for a Gaussian
	// peak, close for Hann).
	delta := 0.0
	if best > 1 && best < n/2 {
		a, b, c := logOr(mags[best-1]), math.Log(mags[best]), logOr(mags[best+1])
		den := a - 2*b + c
		if den != 0 {
			delta = 0.5 * (a - c) / den
		}
		if delta > 0.5 || delta < -0.5 {
			delta = 0
		}
	}
	peak := math.Exp(math.Log(mags[best]) - 0.25*(logOr(mags[best-1])-logOr(mags[min(best+1, n/2)]))*delta)
	freqHz = (float64(best) + delta) * float64(rate) / float64(n)
	return freqHz, 2 * peak / wsum
}

// logOr returns log(v), or a very small log for v == 0.
func logOr(v float64) float64 {
	if v <= 0 {
		return -700
	}
	return math.Log(v)
}

// Goertzel returns the amplitude of the component at freq Hz in samples taken
// at rate Hz (in sample units: a sine of amplitude A at freq reads about A).
// The block is Hann-windowed, so neighbouring tones leak little. It returns 0
// for an empty block or a non-positive rate.
func Goertzel(samples []int16, rate int, freq float64) float64 {
	if len(samples) == 0 || rate <= 0 {
		return 0
	}
	omega := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(omega)
	var s1, s2, wsum float64
	for i, v := range samples {
		w := hann(i, len(samples))
		wsum += w
		s0 := float64(v)*w + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	re := s1 - s2*math.Cos(omega)
	im := s2 * math.Sin(omega)
	return 2 * math.Hypot(re, im) / wsum
}
