package pcm

import (
	"fmt"
	"math"
)

// filterTaps is the length of the anti-aliasing filter used when
// downsampling: long enough for about 60 dB of stop-band rejection with a
// Blackman window, short enough for a few microseconds per frame.
const filterTaps = 63

// Resampler converts a stream of samples from one rate to another. It keeps
// state between calls: feed it consecutive frames of one stream. It is not
// safe for concurrent use.
type Resampler struct {
	from, to int
	// pos is the read position, in units of 1/to input samples, measured
	// from prev (index 0 of the virtual buffer prev, in[0], in[1], ...).
	pos  int
	prev float64

	// Downsampling only: FIR coefficients, the last filterTaps-1 inputs,
	// and a buffer holding them followed by the current input.
	coef    []float64
	history []float64
	ext     []float64
}

// Bounds of the rates a Resampler accepts.
const (
	MinResampleRate = 1000
	MaxResampleRate = 384000
)

// NewResampler returns a Resampler from rate from to rate to. Any rates
// between MinResampleRate and MaxResampleRate work (files come at 11025 or
// 22050 Hz too); between two SupportedRates every 20 ms frame in gives
// exactly one 20 ms frame out. A Resampler between equal rates copies its
// input.
func NewResampler(from, to int) (*Resampler, error) {
	for _, r := range []int{from, to} {
		if r < MinResampleRate || r > MaxResampleRate {
			return nil, fmt.Errorf("%w: %d Hz", ErrUnsupportedRate, r)
		}
	}
	r := &Resampler{from: from, to: to}
	if to < from {
		r.coef = lowPass(float64(to)/2/float64(from), filterTaps)
		r.history = make([]float64, filterTaps-1)
	}
	return r, nil
}

// lowPass returns a Blackman-windowed sinc filter with cutoff (a fraction of
// the sampling rate, below 0.5) and unity gain at DC.
func lowPass(cutoff float64, taps int) []float64 {
	h := make([]float64, taps)
	m := float64(taps - 1)
	var sum float64
	for i := range h {
		x := float64(i) - m/2
		s := 2 * cutoff
		if x != 0 {
			s = math.Sin(2*math.Pi*cutoff*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/m) + 0.08*math.Cos(4*math.Pi*float64(i)/m)
		h[i] = s * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}

// From returns the input rate.
func (r *Resampler) From() int { return r.from }

// To returns the output rate.
func (r *Resampler) To() int { return r.to }

// Resample appends the resampled in to dst and returns it. Over a stream the
// output length tracks len(in)*to/from; for one 20 ms frame in, it is one
// 20 ms frame out.
func (r *Resampler) Resample(dst, in []int16) []int16 {
	switch {
	case r.from == r.to:
		return append(dst, in...)
	case len(in) == 0:
		return dst
	case r.coef != nil:
		return r.down(dst, in)
	}
	// Upsampling: linear interpolation over prev, in[0], in[1], ...
	n, to := len(in), int32(r.to)
	prev := int32(r.prev)
	for ; r.pos < n*r.to; r.pos += r.from {
		idx, frac := r.pos/r.to, int32(r.pos%r.to)
		a := prev
		if idx > 0 {
			a = int32(in[idx-1])
		}
		b := int32(in[idx])
		dst = append(dst, int16((a*(to-frac)+b*frac)/to))
	}
	r.pos -= n * r.to
	r.prev = float64(in[n-1])
	return dst
}

// down resamples with the anti-aliasing filter. Filtered samples are
// computed only where the interpolation reads them; consecutive outputs
// share inputs, hence the two-entry cache.
func (r *Resampler) down(dst, in []int16) []int16 {
	n, h, taps := len(in), len(r.history), len(r.coef)
	r.ext = append(r.ext[:0], r.history...)
	for _, s := range in {
		r.ext = append(r.ext, float64(s))
	}
	cacheIdx := [2]int{-1, -1}
	var cacheVal [2]float64
	// at(i) is filtered sample i of the virtual buffer prev, in[0], ...
	at := func(i int) float64 {
		if i == 0 {
			return r.prev
		}
		c := i & 1
		if cacheIdx[c] == i {
			return cacheVal[c]
		}
		acc := dot(r.coef, r.ext[i-1:i-1+taps])
		cacheIdx[c], cacheVal[c] = i, acc
		return acc
	}
	to := float64(r.to)
	for ; r.pos < n*r.to; r.pos += r.from {
		idx, frac := r.pos/r.to, float64(r.pos%r.to)
		v := (at(idx)*(to-frac) + at(idx+1)*frac) / to
		dst = append(dst, clamp(int32(math.Round(v))))
	}
	r.pos -= n * r.to
	r.prev = at(n)
	copy(r.history, r.ext[n:n+h])
	return dst
}

// dot returns the dot product of a and b (same length), with four
// accumulators so the additions do not wait on each other.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(a); k += 4 {
		s0 += a[k] * b[k]
		s1 += a[k+1] * b[k+1]
		s2 += a[k+2] * b[k+2]
		s3 += a[k+3] * b[k+3]
	}
	for ; k < len(a); k++ {
		s0 += a[k] * b[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// String describes the conversion.
func (r *Resampler) String() string { return fmt.Sprintf("resampler %d->%d Hz", r.from, r.to) }
