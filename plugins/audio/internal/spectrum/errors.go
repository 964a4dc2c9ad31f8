package spectrum

import "errors"

// ErrNotPowerOfTwo is returned by [FFT] when the input length is not a power
// of two.
var ErrNotPowerOfTwo = errors.New("spectrum: length is not a power of two")
