package baresiptest

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// PCM is the audio of a WAV file: interleaved 16-bit samples.
type PCM struct {
	// Rate is the sample rate in Hz.
	Rate int
	// Channels is the number of interleaved channels.
	Channels int
	// Samples are the interleaved samples, Channels per frame.
	Samples []int16
}

// Frames returns the number of sample frames (samples per channel).
func (p PCM) Frames() int {
	if p.Channels == 0 {
		return 0
	}
	return len(p.Samples) / p.Channels
}

// Mono returns the frames' average over the channels, as float64 in
// [-1, 1).
func (p PCM) Mono() []float64 {
	n := p.Frames()
	out := make([]float64, n)
	for i := range n {
		var sum float64
		for c := range p.Channels {
			sum += float64(p.Samples[i*p.Channels+c])
		}
		out[i] = sum / float64(p.Channels) / 32768
	}
	return out
}

// ReadWAV reads a 16-bit PCM WAV file, such as baresip's sndfile module
// writes.
func ReadWAV(path string) (PCM, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return PCM{}, err
	}
	p, err := ParseWAV(b)
	if err != nil {
		return PCM{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
)

// ParseWAV parses the bytes of a RIFF/WAVE file of 16-bit integer PCM.
// It walks the chunks, so it accepts LIST and other chunks before the
// data. A data chunk whose declared size runs past the end of b (a file
// still being written) is read up to the end of b.
func ParseWAV(b []byte) (PCM, error) {
	h, err := parseHeader(b)
	if err != nil {
		return PCM{}, err
	}
	body := b[h.dataOffset:]
	if h.dataSize < int64(len(body)) {
		body = body[:h.dataSize]
	}
	p := PCM{Rate: h.rate, Channels: h.channels}
	n := len(body) / 2 / p.Channels * p.Channels
	p.Samples = make([]int16, n)
	for i := range n {
		p.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
	}
	return p, nil
}

// header is what parseHeader finds in a WAV file.
type header struct {
	rate, channels int
	dataOffset     int   // where the samples start
	dataSize       int64 // the data chunk's declared size
}

// parseHeader walks the chunks of a 16-bit PCM WAV file up to its data
// chunk.
func parseHeader(b []byte) (header, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return header{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var (
		h      header
		haveFm bool
	)
	le := binary.LittleEndian
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(le.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		if size < int64(len(body)) {
			body = body[:size]
		}
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return header{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, len(body))
			}
			format := le.Uint16(body[0:2])
			if format == wavFormatExtensible && len(body) >= 26 {
				format = le.Uint16(body[24:26]) // the sub-format GUID's first two bytes
			}
			h.channels = int(le.Uint16(body[2:4]))
			h.rate = int(le.Uint32(body[4:8]))
			bits := le.Uint16(body[14:16])
			if format != wavFormatPCM || bits != 16 || h.channels == 0 || h.rate == 0 {
				return header{}, fmt.Errorf("%w: format %#x, %d bits, %d channels, %d Hz",
					ErrNotWAV, format, bits, h.channels, h.rate)
			}
			haveFm = true
		case "data":
			if !haveFm {
				return header{}, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			h.dataOffset, h.dataSize = off+8, size
			return h, nil
		}
		off += 8 + int(size) + int(size&1) // chunks are padded to even sizes
	}
	if !haveFm {
		return header{}, fmt.Errorf("%w: no fmt chunk", ErrNotWAV)
	}
	return header{}, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

// RecordedSeconds returns how many seconds of audio a WAV file holds so
// far, from its size, whatever its header declares: sndfile completes
// the header only when the call ends.
func RecordedSeconds(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	h, err := parseHeader(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	frames := (len(b) - h.dataOffset) / 2 / h.channels
	return float64(frames) / float64(h.rate), nil
}

// EncodeWAV returns p as a 16-bit PCM RIFF/WAVE file.
func EncodeWAV(p PCM) []byte {
	le := binary.LittleEndian
	data := 2 * len(p.Samples)
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], wavFormatPCM)
	le.PutUint16(b[22:], uint16(p.Channels))
	le.PutUint32(b[24:], uint32(p.Rate))
	le.PutUint32(b[28:], uint32(p.Rate*p.Channels*2)) // byte rate
	le.PutUint16(b[32:], uint16(p.Channels*2))        // block align
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(data))
	for i, s := range p.Samples {
		le.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// WriteWAV writes p to path as a 16-bit PCM WAV file, such as
// Options.WAV takes.
func WriteWAV(path string, p PCM) error {
	return os.WriteFile(path, EncodeWAV(p), 0o644)
}

// Sine returns seconds of a sine of hz at rate, amplitude amp (full
// scale 1), the same on every channel.
func Sine(hz float64, rate, channels int, seconds, amp float64) PCM {
	n := int(seconds * float64(rate))
	p := PCM{Rate: rate, Channels: channels, Samples: make([]int16, n*channels)}
	for i := range n {
		v := int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
		for c := range channels {
			p.Samples[i*channels+c] = v
		}
	}
	return p
}
