// Package spectrum measures what a block of PCM sounds like: its RMS level,
// its dominant frequency and the strength of one chosen frequency.
//
// The audio plugin's tests and demo use it to prove which tone was heard
// after a codec, an RTP path or a sound device: a 1 kHz sine sent through
// G.722 must come out with [Dominant] near 1000 Hz, and a DTMF digit must
// show its two frequencies under [Goertzel].
//
// API:
//
//   - [RMS] gives the root-mean-square level of int16 samples (0..32768).
//   - [Dominant] runs a radix-2 FFT over a Hann-windowed block (zero-padded
//     to a power of two) and returns the frequency of the strongest bin,
//     refined by parabolic interpolation of the log magnitudes around the
//     peak, together with its amplitude estimate.
//   - [Goertzel] returns the amplitude of a single frequency, the cheap check
//     for "is this tone present".
//   - [FFT] is the in-place transform both are built from.
//
// Amplitudes are normalised so that a full-scale sine of amplitude A reads
// about A from [Dominant] and [Goertzel], whatever the block length.
package spectrum
