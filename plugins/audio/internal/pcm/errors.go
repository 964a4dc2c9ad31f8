package pcm

import "errors"

var (
	// ErrUnsupportedRate means a sample rate is not one of SupportedRates.
	ErrUnsupportedRate = errors.New("pcm: unsupported sample rate")
	// ErrOddLength means a byte slice does not hold a whole number of 16-bit samples.
	ErrOddLength = errors.New("pcm: odd number of bytes")
)
