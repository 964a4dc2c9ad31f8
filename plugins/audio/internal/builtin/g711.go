package builtin

import codec "github.com/sipstreams/sipstreams/sdk/codec"

// G.711 (ITU-T G.711, RFC 3551 §4.5.14): one byte per sample at 8 kHz.
// The companding follows the segment arithmetic of the widely used Sun
// reference (μ-law on the top 14 bits, A-law on the top 13 bits), so
// results agree bit for bit with other implementations derived from it.

// PCMU returns the G.711 μ-law codec (static payload type 0).
func PCMU() codec.Codec {
	return &staticCodec{
		info: codec.Info{Name: "PCMU", PayloadType: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1},
		newEnc: func(codec.Info) (codec.Encoder, error) {
			return g711Encoder{table: ulawTables.enc[:], shift: 2}, nil
		},
		newDec: func(i codec.Info) (codec.Decoder, error) {
			return &g711Decoder{table: &ulawTables.dec, fader: codec.Fader{Frame: i.FrameSamples()}}, nil
		},
	}
}

// PCMA returns the G.711 A-law codec (static payload type 8).
func PCMA() codec.Codec {
	return &staticCodec{
		info: codec.Info{Name: "PCMA", PayloadType: 8, ClockRate: 8000, SampleRate: 8000, Channels: 1},
		newEnc: func(codec.Info) (codec.Encoder, error) {
			return g711Encoder{table: alawTables.enc[:1<<13], shift: 3}, nil
		},
		newDec: func(i codec.Info) (codec.Decoder, error) {
			return &g711Decoder{table: &alawTables.dec, fader: codec.Fader{Frame: i.FrameSamples()}}, nil
		},
	}
}

// LinearToUlaw compresses one 16-bit sample to G.711 μ-law.
func LinearToUlaw(sample int16) byte {
	const bias = 0x21 // 0x84 on the 14-bit scale
	const clip = 8159
	v := int(sample) >> 2
	mask := byte(0xFF)
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	if v > clip {
		v = clip
	}
	v += bias
	seg := segment(v, 0x3F)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte((v>>(seg+1))&0x0F)) ^ mask
}

// UlawToLinear expands one G.711 μ-law byte to a 16-bit sample.
func UlawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// LinearToAlaw compresses one 16-bit sample to G.711 A-law.
func LinearToAlaw(sample int16) byte {
	v := int(sample) >> 3
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, 0x1F)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((v >> 1) & 0x0F)
	} else {
		a |= byte((v >> seg) & 0x0F)
	}
	return a ^ mask
}

// AlawToLinear expands one G.711 A-law byte to a 16-bit sample.
func AlawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// segment returns the G.711 segment of magnitude v: the smallest s with
// v <= first<<s (first is the end of segment 0), or 8 when v is beyond
// segment 7.
func segment(v, first int) int {
	for s := 0; s < 8; s++ {
		if v <= first<<s|(1<<s-1) {
			return s
		}
	}
	return 8
}

// g711Tables hold a law's results for every input, computed once from the
// arithmetic above (a table lookup per sample instead of a segment
// search: the codec runs for every packet of every call). Read-only after
// package initialisation.
type g711Tables struct {
	enc [1 << 14]byte // by the sample's top bits (14 for μ-law, 13 for A-law)
	dec [256]int16
}

var (
	ulawTables = newG711Tables(LinearToUlaw, UlawToLinear, 2)
	alawTables = newG711Tables(LinearToAlaw, AlawToLinear, 3)
)

// newG711Tables tabulates compress over the samples' top 16-shift bits,
// which are all it reads, and expand over every byte.
func newG711Tables(compress func(int16) byte, expand func(byte) int16, shift uint) *g711Tables {
	t := &g711Tables{}
	for i := range 1 << (16 - shift) {
		t.enc[i] = compress(int16(uint16(i) << shift))
	}
	for b := range 256 {
		t.dec[b] = expand(byte(b))
	}
	return t
}

// g711Encoder compands sample by sample through a table; it has no state.
type g711Encoder struct {
	table []byte
	shift uint
}

func (e g711Encoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, len(pcm))...)
	out := dst[start:]
	for i, s := range pcm {
		out[i] = e.table[uint16(s)>>e.shift]
	}
	return dst, nil
}

// g711Decoder expands sample by sample and remembers the last frame for
// concealment.
type g711Decoder struct {
	table *[256]int16
	fader codec.Fader
}

func (d *g711Decoder) Decode(payload []byte, dst []int16) ([]int16, error) {
	start := len(dst)
	dst = append(dst, make([]int16, len(payload))...)
	out := dst[start:]
	for i, b := range payload {
		out[i] = d.table[b]
	}
	d.fader.Remember(dst[start:])
	return dst, nil
}

func (d *g711Decoder) Conceal(dst []int16) ([]int16, error) {
	return d.fader.Conceal(dst), nil
}
