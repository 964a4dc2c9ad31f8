package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
)

// HeaderSize is the size of the header Writer writes.
const HeaderSize = 44

// DefaultPatchInterval is how much audio a Writer writes between two
// patches of the header sizes.
const DefaultPatchInterval = time.Second

// maxDataSize keeps the RIFF size within 32 bits.
const maxDataSize = 0xFFFFFFFF - 36

// Writer writes mono 16-bit PCM to a WAVE file.
type Writer struct {
	w          io.WriteSeeker
	closer     io.Closer
	rate       int
	dataSize   int64
	patchEvery int64 // bytes
	sincePatch int64
	buf        []byte
	closed     bool
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithPatchInterval sets how much audio is written between two header
// patches (DefaultPatchInterval if not given; 0 patches only on Flush and
// Close).
func WithPatchInterval(d time.Duration) WriterOption {
	return func(w *Writer) {
		w.patchEvery = int64(d) * int64(w.rate) / int64(time.Second) * 2
	}
}

// Create creates the named file, and its parent directories, and returns a
// Writer on it. Close the Writer to close the file.
func Create(path string, rate int, opts ...WriterOption) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	w, err := NewWriter(f, rate, opts...)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.closer = f
	return w, nil
}

// NewWriter writes a header for mono 16-bit PCM at rate Hz to w and returns
// a Writer for the samples.
func NewWriter(w io.WriteSeeker, rate int, opts ...WriterOption) (*Writer, error) {
	if rate <= 0 {
		return nil, &FormatError{Format{Tag: TagPCM, Channels: 1, SampleRate: rate, BlockAlign: 2, BitsPerSample: 16}, "bad sample rate"}
	}
	wr := &Writer{w: w, rate: rate}
	WithPatchInterval(DefaultPatchInterval)(wr)
	for _, o := range opts {
		o(wr)
	}
	if _, err := w.Write(header(rate, 0)); err != nil {
		return nil, fmt.Errorf("wav: write header: %w", err)
	}
	return wr, nil
}

// header returns the 44-byte header for dataSize bytes of mono 16-bit PCM.
func header(rate int, dataSize int64) []byte {
	h := make([]byte, 0, HeaderSize)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+dataSize))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, TagPCM)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*2))
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(dataSize))
	return h
}

// SampleRate returns the rate the Writer was created with.
func (w *Writer) SampleRate() int { return w.rate }

// Duration returns the length of the audio written so far.
func (w *Writer) Duration() time.Duration {
	return time.Duration(w.dataSize/2) * time.Second / time.Duration(w.rate)
}

// Write appends samples to the file. Past the 4 GiB limit of the format,
// samples are dropped.
func (w *Writer) Write(samples []int16) error {
	if w.closed {
		return ErrClosed
	}
	room := (maxDataSize - w.dataSize) / 2
	if int64(len(samples)) > room {
		samples = samples[:room]
	}
	w.buf = pcm.AppendBytes(w.buf[:0], samples)
	n, err := w.w.Write(w.buf)
	w.dataSize += int64(n)
	w.sincePatch += int64(n)
	if err != nil {
		return fmt.Errorf("wav: write: %w", err)
	}
	if w.patchEvery > 0 && w.sincePatch >= w.patchEvery {
		return w.Flush()
	}
	return nil
}

// Flush patches the header's sizes to cover everything written so far.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	w.sincePatch = 0
	var b [4]byte
	patches := []struct {
		at   int64
		size int64
	}{{4, 36 + w.dataSize}, {40, w.dataSize}}
	for _, p := range patches {
		if _, err := w.w.Seek(p.at, io.SeekStart); err != nil {
			return fmt.Errorf("wav: patch header: %w", err)
		}
		binary.LittleEndian.PutUint32(b[:], uint32(p.size))
		if _, err := w.w.Write(b[:]); err != nil {
			return fmt.Errorf("wav: patch header: %w", err)
		}
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("wav: patch header: %w", err)
	}
	return nil
}

// Close patches the header and closes the file if the Writer opened it.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	err := w.Flush()
	w.closed = true
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("wav: close: %w", cerr)
		}
	}
	return err
}
