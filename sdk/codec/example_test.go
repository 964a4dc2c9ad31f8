package codec_test

import (
	"fmt"

	"github.com/sipstreams/sipstreams/sdk/codec"
)

// l16 is a complete third-party codec: 16-bit linear PCM in network byte
// order at 8 kHz (RFC 3551 §4.5.11, dynamic payload type at this rate).
type l16 struct{}

func (l16) Info() codec.Info {
	return codec.Info{Name: "L16", PayloadType: codec.DynamicPayloadType, ClockRate: 8000, SampleRate: 8000, Channels: 1}
}
func (l16) NewEncoder() (codec.Encoder, error) { return l16Enc{}, nil }
func (l16) NewDecoder() (codec.Decoder, error) { return &l16Dec{}, nil }

type l16Enc struct{}

func (l16Enc) Encode(pcm []int16, dst []byte) ([]byte, error) {
	for _, s := range pcm {
		dst = append(dst, byte(uint16(s)>>8), byte(s))
	}
	return dst, nil
}

type l16Dec struct{ frame int }

func (d *l16Dec) Decode(p []byte, dst []int16) ([]int16, error) {
	for i := 0; i+1 < len(p); i += 2 {
		dst = append(dst, int16(uint16(p[i])<<8|uint16(p[i+1])))
	}
	d.frame = len(p) / 2
	return dst, nil
}

func (d *l16Dec) Conceal(dst []int16) ([]int16, error) {
	return append(dst, make([]int16, max(d.frame, 160))...), nil
}

// described stands for the built-in codecs: only its description matters
// here.
type described codec.Info

func (d described) Info() codec.Info                 { return codec.Info(d) }
func (described) NewEncoder() (codec.Encoder, error) { return l16Enc{}, nil }
func (described) NewDecoder() (codec.Decoder, error) { return &l16Dec{}, nil }

// A new codec needs only Register; the setting then decides its place.
func Example() {
	reg, err := codec.NewRegistry(
		described{Name: "G722", PayloadType: 9, ClockRate: 8000, SampleRate: 16000, Channels: 1},
		described{Name: "PCMU", PayloadType: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reg.Register(l16{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range reg.Ordered([]string{"L16", "G722", "speex", "pcmu"}) {
		i := c.Info()
		fmt.Printf("%s pt=%d fmtp=%q %d samples per packet\n", i.RTPMap(), i.PayloadType, i.FMTP, i.FrameSamples())
	}
	// Output:
	// L16/8000 pt=-1 fmtp="" 160 samples per packet
	// G722/8000 pt=9 fmtp="" 320 samples per packet
	// PCMU/8000 pt=0 fmtp="" 160 samples per packet
}
