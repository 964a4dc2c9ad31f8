//go:build wasip1

// Command template is a sipstreams codec module written in Go: L16 (RFC
// 3551 §4.5.11, 16-bit linear PCM in network byte order) at 8 kHz, mono,
// with a dynamic payload type. Copy this directory, change the codec and
// the description, and build it with the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o l16.wasm .
//
// -buildmode=c-shared makes a reactor: the host calls _initialize once
// (which runs the package's init), then the //go:wasmexport functions
// below, which implement the codec module ABI of package
// github.com/sipstreams/sipstreams/sdk/codec (version 1). Pointers are
// offsets into the module's memory, which for Go on wasm are the
// addresses of Go values: the I/O area is a package array, which the Go
// garbage collector never moves.
//
// A module is one program serving many streams: its per-stream states
// live in a map keyed by handle. Its globals are the module's state, as a
// process's would be.
package main

import (
	"encoding/binary"
	"unsafe"
)

// description is the codec's description, NUL-terminated for the host.
const description = `{"name":"L16","version":"1.0.0","payload_type":-1,"clock_rate":8000,"sample_rate":8000,"channels":1}` + "\x00"

// frame is the samples of one 20 ms packet at 8 kHz.
const frame = 160

const (
	resultFrameSize      = -1
	resultCorruptPayload = -2
)

// ioArea is the I/O area the host writes inputs to and reads outputs from.
var ioArea [16384]byte

// decoder is a decoder's state: the last frame, for concealment.
type decoder struct {
	last []int16
	lost int
}

var (
	encoders = map[int32]bool{}
	decoders = map[int32]*decoder{}
	next     int32
)

func main() {}

func handle() int32 {
	next++
	if next <= 0 {
		next = 1
	}
	return next
}

//go:wasmexport sipstreams_codec_abi
func abi() int32 { return 1 }

//go:wasmexport sipstreams_codec_describe
func describe() int32 { return ptr(unsafe.Pointer(unsafe.StringData(description))) }

//go:wasmexport sipstreams_codec_io
func io() int32 { return ptr(unsafe.Pointer(&ioArea[0])) }

//go:wasmexport sipstreams_codec_encoder_new
func encoderNew() int32 {
	h := handle()
	encoders[h] = true
	return h
}

//go:wasmexport sipstreams_codec_encoder_free
func encoderFree(h int32) { delete(encoders, h) }

//go:wasmexport sipstreams_codec_decoder_new
func decoderNew() int32 {
	h := handle()
	decoders[h] = &decoder{}
	return h
}

//go:wasmexport sipstreams_codec_decoder_free
func decoderFree(h int32) { delete(decoders, h) }

//go:wasmexport sipstreams_codec_encode
func encode(h, pcm, samples, out, capacity int32) int32 {
	if !encoders[h] || samples < 0 || 2*samples > capacity {
		return resultFrameSize
	}
	in := bytesAt(pcm, 2*samples)
	dst := bytesAt(out, 2*samples)
	for i := int32(0); i < samples; i++ {
		// Little-endian PCM in, network byte order out.
		binary.BigEndian.PutUint16(dst[2*i:], binary.LittleEndian.Uint16(in[2*i:]))
	}
	return 2 * samples
}

//go:wasmexport sipstreams_codec_decode
func decode(h, payload, length, pcm, capacity int32) int32 {
	d := decoders[h]
	if d == nil || length%2 != 0 || length/2 > capacity {
		return resultCorruptPayload
	}
	in := bytesAt(payload, length)
	dst := bytesAt(pcm, length)
	d.last = d.last[:0]
	for i := int32(0); i < length; i += 2 {
		v := binary.BigEndian.Uint16(in[i:])
		binary.LittleEndian.PutUint16(dst[i:], v)
		d.last = append(d.last, int16(v))
	}
	d.lost = 0
	return length / 2
}

// conceal repeats the last frame at half the level of the one before,
// and silence when nothing was decoded yet.
//
//go:wasmexport sipstreams_codec_conceal
func conceal(h, pcm, capacity int32) int32 {
	d := decoders[h]
	if d == nil || capacity < frame {
		return resultFrameSize
	}
	n := int32(len(d.last))
	if n == 0 {
		n = frame
	}
	dst := bytesAt(pcm, 2*n)
	d.lost++
	for i := int32(0); i < n; i++ {
		var v int16
		if int(i) < len(d.last) {
			v = d.last[i] >> d.lost
		}
		binary.LittleEndian.PutUint16(dst[2*i:], uint16(v))
	}
	return n
}

// ptr is the memory offset of p.
func ptr(p unsafe.Pointer) int32 { return int32(uintptr(p)) }

// bytesAt is the n bytes of memory at offset p.
func bytesAt(p, n int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}
