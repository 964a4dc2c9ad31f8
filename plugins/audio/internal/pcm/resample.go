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
	prev int16

	// Downsampling only: FIR coefficients and the last filterTaps-1 inputs.
	coef    []float64
	history []float64
	work    []int16
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
	if r.from == r.to {
		return append(dst, in...)
	}
	if len(in) == 0 {
		return dst
	}
	if r.coef != nil {
		in = r.filter(in)
	}
	n := len(in)
	at := func(i int) int32 {
		if i == 0 {
			return int32(r.prev)
		}
		return int32(in[i-1])
	}
	for ; r.pos < n*r.to; r.pos += r.from {
		idx, frac := r.pos/r.to, int32(r.pos%r.to)
		a, b := at(idx), at(idx+1)
		v := (a*(int32(r.to)-frac) + b*frac) / int32(r.to)
		dst = append(dst, int16(v))
	}
	r.pos -= n * r.to
	r.prev = in[n-1]
	return dst
}

// filter runs the anti-aliasing low-pass over in, returning the filtered
// samples in a buffer owned by r.
func (r *Resampler) filter(in []int16) []int16 {
	r.work = r.work[:0]
	h := len(r.history)
	for i := range in {
		var acc float64
		// Taps over history[i:] followed by in[:i+1].
		for k, c := range r.coef {
			j := i + k // index into the concatenation history ++ in
			var x float64
			if j < h {
				x = r.history[j]
			} else {
				x = float64(in[j-h])
			}
			acc += c * x
		}
		r.work = append(r.work, clamp(int32(math.Round(acc))))
	}
	// Keep the last h inputs of history ++ in.
	if len(in) >= h {
		for k := 0; k < h; k++ {
			r.history[k] = float64(in[len(in)-h+k])
		}
	} else {
		copy(r.history, r.history[len(in):])
		for k, s := range in {
			r.history[h-len(in)+k] = float64(s)
		}
	}
	return r.work
}

// String describes the conversion.
func (r *Resampler) String() string { return fmt.Sprintf("resampler %d->%d Hz", r.from, r.to) }
