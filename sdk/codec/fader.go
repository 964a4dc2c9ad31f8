package codec

// FadeFrames is how many consecutive concealed packets it takes to fade the
// repeated frame to silence (5 × 20 ms = 100 ms).
const FadeFrames = 5

// Fader conceals lost packets for codecs without their own concealment by
// repeating the last good frame with a gain that falls linearly to zero over
// FadeFrames packets. The zero value is ready to use; Frame is the number
// of samples of silence given while nothing was decoded yet.
type Fader struct {
	// Frame is the samples per packet, given as silence before the first
	// decoded frame.
	Frame int
	last  []int16 // last decoded frame
	lost  int     // consecutive concealed frames since the last good one
}

// Remember records a frame that was just decoded.
func (f *Fader) Remember(pcm []int16) {
	f.last = append(f.last[:0], pcm...)
	f.lost = 0
}

// Conceal appends one substitute frame to dst.
func (f *Fader) Conceal(dst []int16) []int16 {
	n := len(f.last)
	if n == 0 {
		return append(dst, make([]int16, f.Frame)...)
	}
	start := 1 - float64(f.lost)/FadeFrames
	end := 1 - float64(f.lost+1)/FadeFrames
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	for i, s := range f.last {
		g := start + (end-start)*float64(i)/float64(n)
		dst = append(dst, int16(float64(s)*g))
	}
	f.lost++
	return dst
}
