package codec

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// DynamicPayloadType is the [Info.PayloadType] of a codec that has no static
// RTP payload type (RFC 3551 §6): the SDP offer assigns one from 96-127.
const DynamicPayloadType = -1

// DefaultPTime is the packet duration every built-in codec uses (the
// reference and baresip both send a=ptime:20).
const DefaultPTime = 20 * time.Millisecond

// Info describes a codec as SDP and RTP see it, plus the PCM it takes.
//
// PCM is always mono int16 at SampleRate; Channels is only what the
// a=rtpmap line says (opus/48000/2 carries mono Opus too, RFC 7587 §7).
type Info struct {
	// Name is the SDP encoding name, e.g. "PCMU", "G722", "opus". Lookups
	// are case-insensitive.
	Name string
	// PayloadType is the static RTP payload type, or DynamicPayloadType.
	PayloadType int
	// ClockRate is the RTP timestamp rate written in a=rtpmap. It differs
	// from SampleRate for G.722 (8000 vs 16000, RFC 3551 §4.5.2).
	ClockRate int
	// SampleRate is the rate of the PCM passed to Encode and returned by
	// Decode.
	SampleRate int
	// Channels is the channel count written in a=rtpmap; 0 or 1 is left
	// out of the rtpmap line.
	Channels int
	// FMTP is the default a=fmtp parameter string, empty for none.
	FMTP string
	// PTime is the packet duration; 0 means DefaultPTime.
	PTime time.Duration
}

// Validate reports whether i describes a usable codec.
func (i Info) Validate() error {
	switch {
	case i.Name == "" || strings.ContainsAny(i.Name, "/ \t\r\n"):
		return fmt.Errorf("name %q: %w", i.Name, ErrInvalidCodec)
	case i.PayloadType != DynamicPayloadType && (i.PayloadType < 0 || i.PayloadType > 95):
		return fmt.Errorf("%s: static payload type %d: %w", i.Name, i.PayloadType, ErrInvalidCodec)
	case i.ClockRate <= 0 || i.SampleRate <= 0:
		return fmt.Errorf("%s: clock rate %d, sample rate %d: %w", i.Name, i.ClockRate, i.SampleRate, ErrInvalidCodec)
	case i.Channels < 0:
		return fmt.Errorf("%s: %d channels: %w", i.Name, i.Channels, ErrInvalidCodec)
	case i.PTime < 0:
		return fmt.Errorf("%s: ptime %v: %w", i.Name, i.PTime, ErrInvalidCodec)
	}
	return nil
}

// Packet returns the packet duration (PTime, or DefaultPTime when unset).
func (i Info) Packet() time.Duration {
	if i.PTime == 0 {
		return DefaultPTime
	}
	return i.PTime
}

// FrameSamples returns the number of PCM samples in one packet.
func (i Info) FrameSamples() int {
	return int(int64(i.SampleRate) * int64(i.Packet()) / int64(time.Second))
}

// TimestampStep returns how far the RTP timestamp advances per packet.
func (i Info) TimestampStep() uint32 {
	return uint32(int64(i.ClockRate) * int64(i.Packet()) / int64(time.Second))
}

// RTPMap returns the a=rtpmap value after the payload type, e.g.
// "G722/8000" or "opus/48000/2".
func (i Info) RTPMap() string {
	s := i.Name + "/" + strconv.Itoa(i.ClockRate)
	if i.Channels > 1 {
		s += "/" + strconv.Itoa(i.Channels)
	}
	return s
}

// Codec is one audio codec. Implementations are immutable descriptions;
// encoders and decoders carry the per-stream state. Built-in codecs and
// WebAssembly codec modules (package module) both implement it.
//
// Encoders and decoders that hold resources outside the Go heap (a codec
// module's per-stream state) also implement io.Closer: whoever made one
// calls Close once it is no longer used. [Close] does that for any value.
type Codec interface {
	// Info describes the codec.
	Info() Info
	// NewEncoder returns a fresh encoder for one outgoing stream.
	NewEncoder() (Encoder, error)
	// NewDecoder returns a fresh decoder for one incoming stream.
	NewDecoder() (Decoder, error)
}

// Encoder compresses PCM. It is not safe for concurrent use.
type Encoder interface {
	// Encode appends the payload for one packet of mono PCM at the codec's
	// SampleRate (normally Info.FrameSamples samples) to dst and returns
	// the extended slice.
	Encode(pcm []int16, dst []byte) ([]byte, error)
}

// Decoder expands payloads to PCM. It is not safe for concurrent use.
type Decoder interface {
	// Decode appends the mono PCM at the codec's SampleRate carried by
	// payload to dst and returns the extended slice.
	Decode(payload []byte, dst []int16) ([]int16, error)
	// Conceal appends one packet of substitute PCM for a lost packet to
	// dst: the codec's own packet-loss concealment where it has one, else
	// the last frame repeated and faded towards silence.
	Conceal(dst []int16) ([]int16, error)
}

// FECDecoder is implemented by decoders that can rebuild a lost packet from
// the in-band forward error correction data of the packet after it (Opus,
// RFC 6716 §2.1.7).
type FECDecoder interface {
	Decoder
	// DecodeFEC appends the PCM of the packet lost just before next,
	// recovered from next's redundancy, to dst.
	DecodeFEC(next []byte, dst []int16) ([]int16, error)
}

// Close releases v (an Encoder or a Decoder) if it implements io.Closer,
// and does nothing otherwise.
func Close(v any) error {
	if c, ok := v.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
