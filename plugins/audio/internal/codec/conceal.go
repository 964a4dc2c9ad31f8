package codec

// fadeFrames is how many consecutive concealed packets it takes to fade the
// repeated frame to silence (5 × 20 ms = 100 ms).
const fadeFrames = 5

// fader conceals lost packets for codecs without their own concealment by
// repeating the last good frame with a gain that falls linearly to zero over
// fadeFrames packets.
type fader struct {
	last  []int16 // last decoded frame
	lost  int     // consecutive concealed frames since the last good one
	frame int     // samples per frame when nothing was decoded yet
}

// remember records a frame that was just decoded.
func (f *fader) remember(pcm []int16) {
	f.last = append(f.last[:0], pcm...)
	f.lost = 0
}

// conceal appends one substitute frame to dst.
func (f *fader) conceal(dst []int16) []int16 {
	n := len(f.last)
	if n == 0 {
		return append(dst, make([]int16, f.frame)...)
	}
	start := 1 - float64(f.lost)/fadeFrames
	end := 1 - float64(f.lost+1)/fadeFrames
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
