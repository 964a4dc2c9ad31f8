package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Format tags from the "fmt " chunk.
const (
	TagPCM        = 0x0001 // WAVE_FORMAT_PCM: integer samples
	TagFloat      = 0x0003 // WAVE_FORMAT_IEEE_FLOAT
	TagExtensible = 0xFFFE // WAVE_FORMAT_EXTENSIBLE: the tag is in the sub-format GUID
)

// maxChannels bounds the channel count a Reader accepts.
const maxChannels = 32

// Format is the content of a "fmt " chunk.
type Format struct {
	Tag           uint16 // format tag; for WAVE_FORMAT_EXTENSIBLE the sub-format's tag
	Channels      int
	SampleRate    int
	BlockAlign    int
	BitsPerSample int // the container size of one sample
}

// Reader delivers the samples of a PCM or IEEE float WAVE file as 16-bit
// mono.
type Reader struct {
	src       io.Reader // the original input, for Rewind and Close
	r         *bufio.Reader
	format    Format
	width     int                  // bytes per sample of one channel
	decode    func(b []byte) int32 // one sample, scaled to the 16-bit range
	dataStart int64                // offset of the first sample, for Rewind
	dataSize  int64                // bytes in the data chunk; -1 means up to EOF
	remaining int64
	buf       []byte
}

// Open opens the named file for reading. Close the Reader to close the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// NewReader parses the header of the WAVE file in r up to the start of its
// samples.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, ErrNotWAV
	}
	offset := int64(12)
	var format *Format
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk", ErrMissingChunk)
		}
		offset += 8
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			f, err := readFormat(br, size)
			if err != nil {
				return nil, err
			}
			format = &f
		case "data":
			if format == nil {
				return nil, fmt.Errorf("%w: data before fmt", ErrMissingChunk)
			}
			if size == 0xFFFFFFFF {
				size = -1
			}
			return &Reader{src: r, r: br, format: *format, width: format.BitsPerSample / 8, decode: decoder(*format),
				dataStart: offset, dataSize: size, remaining: size}, nil
		default:
			if _, err := io.CopyN(io.Discard, br, size+size%2); err != nil {
				return nil, fmt.Errorf("%w: no data chunk", ErrMissingChunk)
			}
		}
		offset += size + size%2
	}
}

func readFormat(br *bufio.Reader, size int64) (Format, error) {
	if size < 16 {
		return Format{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrMissingChunk, size)
	}
	n := min(size, 40)
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return Format{}, fmt.Errorf("%w: short fmt chunk", ErrMissingChunk)
	}
	if _, err := io.CopyN(io.Discard, br, size-n+size%2); err != nil {
		return Format{}, fmt.Errorf("%w: short fmt chunk", ErrMissingChunk)
	}
	f := Format{
		Tag:           binary.LittleEndian.Uint16(b[0:]),
		Channels:      int(binary.LittleEndian.Uint16(b[2:])),
		SampleRate:    int(binary.LittleEndian.Uint32(b[4:])),
		BlockAlign:    int(binary.LittleEndian.Uint16(b[12:])),
		BitsPerSample: int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.Tag == TagExtensible {
		if n < 40 {
			return f, &FormatError{f, "extensible format without its extension"}
		}
		// The sub-format GUID starts at byte 24; its first two bytes are the
		// tag (KSDATAFORMAT_SUBTYPE_PCM, _IEEE_FLOAT). wValidBitsPerSample
		// (byte 18) may be below the container size: the samples are
		// left-justified, so reading the container is right.
		f.Tag = binary.LittleEndian.Uint16(b[24:])
	}
	switch {
	case f.Tag != TagPCM && f.Tag != TagFloat:
		return f, &FormatError{f, "neither integer PCM nor IEEE float"}
	case f.Tag == TagPCM && f.BitsPerSample != 8 && f.BitsPerSample != 16 && f.BitsPerSample != 24 && f.BitsPerSample != 32:
		return f, &FormatError{f, "integer PCM of other than 8, 16, 24 or 32 bits"}
	case f.Tag == TagFloat && f.BitsPerSample != 32 && f.BitsPerSample != 64:
		return f, &FormatError{f, "IEEE float of other than 32 or 64 bits"}
	case f.Channels < 1 || f.Channels > maxChannels:
		return f, &FormatError{f, "bad channel count"}
	case f.SampleRate <= 0:
		return f, &FormatError{f, "bad sample rate"}
	case f.BlockAlign != f.BitsPerSample/8*f.Channels:
		return f, &FormatError{f, "block align does not match channels and bits"}
	}
	return f, nil
}

// decoder returns the function reading one sample of f (a format
// readFormat accepted) as a 16-bit value. The conversions are SoX's, so
// that a file reads as `sox FILE -b 16` would make it: 8-bit PCM is
// unsigned (offset 128); wider integers are rounded to their 16 most
// significant bits, half up, saturating; floats in [-1, 1] become 32-bit
// integers (scaled by 2^31, truncated, saturated), then are rounded the
// same way. NaN is silence.
func decoder(f Format) func(b []byte) int32 {
	switch {
	case f.Tag == TagFloat && f.BitsPerSample == 32:
		return func(b []byte) int32 {
			return round16(float32Bit(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))))
		}
	case f.Tag == TagFloat:
		return func(b []byte) int32 {
			return round16(float32Bit(math.Float64frombits(binary.LittleEndian.Uint64(b))))
		}
	case f.BitsPerSample == 8:
		return func(b []byte) int32 { return (int32(b[0]) - 128) << 8 }
	case f.BitsPerSample == 24:
		return func(b []byte) int32 {
			return round16(int32(uint32(b[0])<<8 | uint32(b[1])<<16 | uint32(b[2])<<24))
		}
	case f.BitsPerSample == 32:
		return func(b []byte) int32 { return round16(int32(binary.LittleEndian.Uint32(b))) }
	default:
		return func(b []byte) int32 { return int32(int16(binary.LittleEndian.Uint16(b))) }
	}
}

// round16 rounds a 32-bit sample to 16 bits, half up, saturating.
func round16(v int32) int32 {
	if v > math.MaxInt32-0x8000 {
		return math.MaxInt16
	}
	return (v + 0x8000) >> 16
}

// float32Bit scales a float sample to a 32-bit one, truncating and
// saturating; NaN is 0.
func float32Bit(x float64) int32 {
	v := x * (math.MaxInt32 + 1.0)
	switch {
	case v < math.MinInt32:
		return math.MinInt32
	case v >= math.MaxInt32+1.0:
		return math.MaxInt32
	case v == v:
		return int32(v)
	}
	return 0
}

// Format returns the file's format.
func (r *Reader) Format() Format { return r.format }

// SampleRate returns the file's sample rate in Hz.
func (r *Reader) SampleRate() int { return r.format.SampleRate }

// Read fills p with up to len(p) mono samples. It returns io.EOF after the
// last sample; a partial sample frame at the end of the file is dropped.
func (r *Reader) Read(p []int16) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	block := r.format.BlockAlign
	want := int64(len(p) * block)
	if r.remaining >= 0 {
		want = min(want, r.remaining-r.remaining%int64(block))
	}
	if want == 0 {
		return 0, io.EOF
	}
	if int64(cap(r.buf)) < want {
		r.buf = make([]byte, want)
	}
	b := r.buf[:want]
	n, err := io.ReadFull(r.r, b)
	n -= n % block
	if r.remaining >= 0 {
		r.remaining -= int64(n)
	}
	ch, w := r.format.Channels, r.width
	if w == 2 { // 16-bit PCM, the common case: no call per sample
		for i := 0; i < n/block; i++ {
			var sum int32
			for c := 0; c < ch; c++ {
				sum += int32(int16(binary.LittleEndian.Uint16(b[i*block+2*c:])))
			}
			p[i] = int16(sum / int32(ch))
		}
	} else {
		for i := 0; i < n/block; i++ {
			var sum int32
			for c := 0; c < ch; c++ {
				sum += r.decode(b[i*block+w*c:])
			}
			p[i] = int16(sum / int32(ch))
		}
	}
	switch {
	case n > 0:
		return n / block, nil
	case err == nil || err == io.ErrUnexpectedEOF:
		return 0, io.EOF
	}
	return 0, err
}

// Rewind moves back to the first sample. The input must be an io.Seeker.
func (r *Reader) Rewind() error {
	s, ok := r.src.(io.Seeker)
	if !ok {
		return ErrNotSeekable
	}
	if _, err := s.Seek(r.dataStart, io.SeekStart); err != nil {
		return fmt.Errorf("wav: rewind: %w", err)
	}
	r.r.Reset(r.src)
	r.remaining = r.dataSize
	return nil
}

// Close closes the input if it is an io.Closer.
func (r *Reader) Close() error {
	if c, ok := r.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
