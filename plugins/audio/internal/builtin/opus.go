package builtin

import (
	"fmt"
	codec "github.com/sipstreams/sipstreams/sdk/codec"

	"gopkg.in/hraban/opus.v2"
)

// Opus (RFC 6716, RTP payload RFC 7587) through libopus. The rtpmap is
// always opus/48000/2 (RFC 7587 §7) whatever is sent; this codec encodes and
// decodes mono PCM at 48 kHz, and the default fmtp tells the peer so
// (stereo=0, sprop-stereo=0) and asks for in-band FEC (useinbandfec=1),
// parameters baresip's opus module reads.

const (
	opusRate = 48000
	// opusMaxFrame is the largest frame a packet can carry: 120 ms.
	opusMaxFrame = opusRate * 120 / 1000
	// opusMaxPacket bounds one encoded packet: the size libopus's
	// documentation recommends for the output buffer.
	opusMaxPacket = 4000
	// opusLossPercent is the expected loss the encoder spends FEC bits on.
	opusLossPercent = 5
)

// Opus returns the Opus codec (dynamic payload type, opus/48000/2, mono PCM
// at 48 kHz).
func Opus() codec.Codec {
	return &staticCodec{
		info: codec.Info{
			Name:        "opus",
			PayloadType: codec.DynamicPayloadType,
			ClockRate:   opusRate,
			SampleRate:  opusRate,
			Channels:    2,
			FMTP:        "stereo=0;sprop-stereo=0;useinbandfec=1",
		},
		newEnc: newOpusEncoder,
		newDec: newOpusDecoder,
	}
}

type opusEncoder struct {
	enc *opus.Encoder
	buf [opusMaxPacket]byte
}

func newOpusEncoder(codec.Info) (codec.Encoder, error) {
	enc, err := opus.NewEncoder(opusRate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus: new encoder: %w", err)
	}
	if err := enc.SetInBandFEC(true); err != nil {
		return nil, fmt.Errorf("opus: enable FEC: %w", err)
	}
	if err := enc.SetPacketLossPerc(opusLossPercent); err != nil {
		return nil, fmt.Errorf("opus: set loss: %w", err)
	}
	return &opusEncoder{enc: enc}, nil
}

// opusFrameOK reports whether n samples at 48 kHz are an Opus frame
// duration: 2.5, 5, 10, 20, 40 or 60 ms.
func opusFrameOK(n int) bool {
	switch n {
	case 120, 240, 480, 960, 1920, 2880:
		return true
	}
	return false
}

func (e *opusEncoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	if !opusFrameOK(len(pcm)) {
		return dst, fmt.Errorf("opus: encode %d samples: %w", len(pcm), codec.ErrFrameSize)
	}
	n, err := e.enc.Encode(pcm, e.buf[:])
	if err != nil {
		return dst, fmt.Errorf("opus: encode: %w", err)
	}
	return append(dst, e.buf[:n]...), nil
}

type opusDecoder struct {
	dec *opus.Decoder
	pcm [opusMaxFrame]int16
	// last is the duration in samples of the last decoded packet: what
	// one concealed packet must fill.
	last int
}

func newOpusDecoder(i codec.Info) (codec.Decoder, error) {
	dec, err := opus.NewDecoder(opusRate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus: new decoder: %w", err)
	}
	return &opusDecoder{dec: dec, last: i.FrameSamples()}, nil
}

func (d *opusDecoder) Decode(payload []byte, dst []int16) ([]int16, error) {
	if len(payload) == 0 {
		return dst, fmt.Errorf("opus: empty payload: %w", codec.ErrCorruptPayload)
	}
	n, err := d.dec.Decode(payload, d.pcm[:])
	if err != nil {
		return dst, fmt.Errorf("opus: decode %d bytes: %v: %w", len(payload), err, codec.ErrCorruptPayload)
	}
	d.last = n
	return append(dst, d.pcm[:n]...), nil
}

// Conceal runs libopus's packet-loss concealment for one packet of the last
// packet's duration.
func (d *opusDecoder) Conceal(dst []int16) ([]int16, error) {
	buf := d.pcm[:d.last:d.last]
	if err := d.dec.DecodePLC(buf); err != nil {
		return dst, fmt.Errorf("opus: conceal: %w", err)
	}
	return append(dst, buf...), nil
}

// DecodeFEC rebuilds the packet lost before next from next's in-band FEC,
// falling back to concealment when next carries none.
func (d *opusDecoder) DecodeFEC(next []byte, dst []int16) ([]int16, error) {
	if len(next) == 0 {
		return d.Conceal(dst)
	}
	buf := d.pcm[:d.last:d.last]
	if err := d.dec.DecodeFEC(next, buf); err != nil {
		return dst, fmt.Errorf("opus: decode FEC from %d bytes: %v: %w", len(next), err, codec.ErrCorruptPayload)
	}
	return append(dst, buf...), nil
}

var _ codec.FECDecoder = (*opusDecoder)(nil)
