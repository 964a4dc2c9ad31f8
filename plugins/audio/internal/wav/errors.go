package wav

import (
	"errors"
	"fmt"
)

var (
	// ErrNotWAV means the input does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("wav: not a RIFF/WAVE file")
	// ErrUnsupportedFormat means the file is WAVE but not integer PCM or
	// IEEE float in a layout this package reads; the error is a
	// *FormatError.
	ErrUnsupportedFormat = errors.New("wav: unsupported format")
	// ErrMissingChunk means the "fmt " or "data" chunk is absent or the
	// file ends inside the header.
	ErrMissingChunk = errors.New("wav: missing chunk")
	// ErrNotSeekable means Rewind was called on a Reader over a stream
	// that cannot seek.
	ErrNotSeekable = errors.New("wav: input is not seekable")
	// ErrClosed means a Writer was used after Close.
	ErrClosed = errors.New("wav: writer closed")
)

// FormatError describes a WAVE format this package does not read.
type FormatError struct {
	Format Format
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("wav: unsupported format (%s): tag %#04x, %d channels, %d Hz, %d bits, block align %d",
		e.Reason, e.Format.Tag, e.Format.Channels, e.Format.SampleRate, e.Format.BitsPerSample, e.Format.BlockAlign)
}

// Unwrap makes errors.Is(err, ErrUnsupportedFormat) hold.
func (e *FormatError) Unwrap() error { return ErrUnsupportedFormat }
