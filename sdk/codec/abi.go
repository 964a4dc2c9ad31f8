package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// ABIVersion is the version of the codec module ABI described here: what
// the export ExportABI of a module returns. A host refuses a module of
// another version.
const ABIVersion = 1

// The exports of a codec module, ABI version 1. Pointers and sizes are
// wasm32 i32 values: offsets into the module's exported memory. PCM is
// mono little-endian int16 at the description's sample rate.
const (
	// ExportMemory is the module's linear memory.
	ExportMemory = "memory"
	// ExportInitialize, optional, is a reactor's initializer (what clang's
	// -mexec-model=reactor and Go's -buildmode=c-shared produce). The
	// host calls it once, before anything else. A module that exports
	// _start (a command) is refused: it would exit once started.
	ExportInitialize = "_initialize"
	// ExportABI: () -> i32, the ABI version the module implements
	// (ABIVersion).
	ExportABI = "sipstreams_codec_abi"
	// ExportDescribe: () -> i32, a pointer to a NUL-terminated UTF-8 JSON
	// object of at most MaxDescription bytes: the Description.
	ExportDescribe = "sipstreams_codec_describe"
	// ExportIO: () -> i32, a pointer to an I/O area of IOSize bytes that
	// the host writes the input of a call to and reads its output from.
	// The host passes pointers into this area to encode, decode and
	// conceal: input in its first half, output in its second.
	ExportIO = "sipstreams_codec_io"
	// ExportEncoderNew: () -> i32, a handle to a fresh encoder state (one
	// per stream), 0 when none can be made.
	ExportEncoderNew = "sipstreams_codec_encoder_new"
	// ExportEncoderFree: (handle i32) -> (), frees an encoder state.
	ExportEncoderFree = "sipstreams_codec_encoder_free"
	// ExportEncode: (handle, pcm, samples, out, capacity i32) -> i32,
	// encodes samples of PCM at pcm into at most capacity bytes at out;
	// returns the bytes written, or a negative Result.
	ExportEncode = "sipstreams_codec_encode"
	// ExportDecoderNew: () -> i32, a handle to a fresh decoder state, 0
	// when none can be made.
	ExportDecoderNew = "sipstreams_codec_decoder_new"
	// ExportDecoderFree: (handle i32) -> (), frees a decoder state.
	ExportDecoderFree = "sipstreams_codec_decoder_free"
	// ExportDecode: (handle, payload, length, pcm, capacity i32) -> i32,
	// decodes the payload of length bytes into at most capacity samples
	// at pcm; returns the samples written, or a negative Result.
	ExportDecode = "sipstreams_codec_decode"
	// ExportConceal, optional: (handle, pcm, capacity i32) -> i32, writes
	// one packet of packet-loss concealment to pcm; returns the samples
	// written, or a negative Result. Without it the host repeats the
	// last frame fading to silence (Fader).
	ExportConceal = "sipstreams_codec_conceal"
)

// IOSize is the size in bytes of a module's I/O area (ExportIO): 8 KiB of
// input then 8 KiB of output, enough for 4096 samples (85 ms at 48 kHz).
const IOSize = 16384

// MaxIOSamples is the most PCM samples a call passes or returns.
const MaxIOSamples = IOSize / 2 / 2

// MaxDescription bounds the JSON description of a module, in bytes.
const MaxDescription = 4096

// Results a module returns instead of a length.
const (
	// ResultFrameSize: the module cannot take a block of that length
	// (ErrFrameSize).
	ResultFrameSize = -1
	// ResultCorruptPayload: the decoder rejects the payload
	// (ErrCorruptPayload).
	ResultCorruptPayload = -2
	// ResultFailed: any other failure of the call.
	ResultFailed = -3
)

// Description is the JSON object a module describes its codec with
// (ExportDescribe), e.g.
//
//	{"name":"G726-32","version":"1.0.0","payload_type":-1,"clock_rate":8000,
//	 "sample_rate":8000,"channels":1,"fmtp":"","ptime_ms":20}
type Description struct {
	// Name is the SDP encoding name.
	Name string `json:"name"`
	// Version is the module's own version, shown in listings.
	Version string `json:"version"`
	// PayloadType is the static RTP payload type, or -1 (the default when
	// left out) for a dynamic one.
	PayloadType *int `json:"payload_type,omitempty"`
	// ClockRate is the RTP clock rate; SampleRate the rate of the PCM.
	ClockRate  int `json:"clock_rate"`
	SampleRate int `json:"sample_rate"`
	// Channels is the rtpmap channel count (0 or 1: left out).
	Channels int `json:"channels,omitempty"`
	// FMTP is the default a=fmtp parameter string.
	FMTP string `json:"fmtp,omitempty"`
	// PTimeMillis is the packet duration; 0 means DefaultPTime.
	PTimeMillis int `json:"ptime_ms,omitempty"`
}

// ParseDescription reads a module's JSON description and checks it gives a
// valid Info. Unknown fields are refused, so that a typo is not silently a
// default.
func ParseDescription(data []byte) (Description, error) {
	var d Description
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Description{}, fmt.Errorf("description: %v: %w", err, ErrInvalidCodec)
	}
	if d.PTimeMillis < 0 || d.PTimeMillis > 200 {
		return Description{}, fmt.Errorf("description: ptime_ms %d: %w", d.PTimeMillis, ErrInvalidCodec)
	}
	info := d.Info()
	if err := info.Validate(); err != nil {
		return Description{}, fmt.Errorf("description: %w", err)
	}
	if n := info.FrameSamples(); n <= 0 || n > MaxIOSamples {
		return Description{}, fmt.Errorf("description: %d samples per packet (at most %d): %w", n, MaxIOSamples, ErrInvalidCodec)
	}
	return d, nil
}

// Info is the codec description d gives.
func (d Description) Info() Info {
	pt := DynamicPayloadType
	if d.PayloadType != nil {
		pt = *d.PayloadType
	}
	return Info{
		Name:        d.Name,
		PayloadType: pt,
		ClockRate:   d.ClockRate,
		SampleRate:  d.SampleRate,
		Channels:    d.Channels,
		FMTP:        d.FMTP,
		PTime:       time.Duration(d.PTimeMillis) * time.Millisecond,
	}
}
