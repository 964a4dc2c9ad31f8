package pcm

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// FrameDuration is the length of one frame.
const FrameDuration = 20 * time.Millisecond

// FramesPerSecond is the number of frames in one second.
const FramesPerSecond = int(time.Second / FrameDuration)

// SupportedRates lists the sample rates, in Hz, the plugin works with.
var SupportedRates = []int{8000, 16000, 32000, 44100, 48000}

// CheckRate returns an error wrapping ErrUnsupportedRate unless rate is one
// of SupportedRates.
func CheckRate(rate int) error {
	if slices.Contains(SupportedRates, rate) {
		return nil
	}
	return fmt.Errorf("%w: %d Hz", ErrUnsupportedRate, rate)
}

// SamplesPerFrame returns the number of samples in a 20 ms frame at rate Hz.
func SamplesPerFrame(rate int) int { return rate / FramesPerSecond }

// clamp saturates v to the int16 range.
func clamp(v int32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// Mix writes the saturating sum of srcs into dst. Sources shorter than dst
// count as silence past their end; with no sources dst becomes silence.
func Mix(dst []int16, srcs ...[]int16) {
	for i := range dst {
		var sum int32
		for _, s := range srcs {
			if i < len(s) {
				sum += int32(s[i])
			}
		}
		dst[i] = clamp(sum)
	}
}

// MixInto adds src into dst with saturation.
func MixInto(dst, src []int16) {
	n := min(len(dst), len(src))
	for i := 0; i < n; i++ {
		dst[i] = clamp(int32(dst[i]) + int32(src[i]))
	}
}

// Gain multiplies every sample of frame by g, saturating.
func Gain(frame []int16, g float64) {
	if g == 1 {
		return
	}
	for i, s := range frame {
		v := math.Round(float64(s) * g)
		switch {
		case v > math.MaxInt16:
			frame[i] = math.MaxInt16
		case v < math.MinInt16:
			frame[i] = math.MinInt16
		default:
			frame[i] = int16(v)
		}
	}
}

// Volume scales frame by percent/100 (the reference's volume scale, where
// 100 leaves the signal unchanged and 0 silences it).
func Volume(frame []int16, percent int) { Gain(frame, float64(max(percent, 0))/100) }

// Level returns the peak level of frame on a 0..255 scale.
func Level(frame []int16) int {
	var peak int32
	for _, s := range frame {
		v := int32(s)
		if v < 0 {
			v = -v
		}
		peak = max(peak, v)
	}
	return int(peak * 255 / 32768)
}

// AppendBytes appends samples to dst as little-endian 16-bit values.
func AppendBytes(dst []byte, samples []int16) []byte {
	for _, s := range samples {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
	}
	return dst
}

// Decode appends the little-endian 16-bit samples in b to dst. It fails with
// ErrOddLength, decoding nothing, if len(b) is odd.
func Decode(dst []int16, b []byte) ([]int16, error) {
	if len(b)%2 != 0 {
		return dst, fmt.Errorf("%w: %d", ErrOddLength, len(b))
	}
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst, nil
}
