// Package pcm provides the sample-level building blocks of the audio plugin:
// 16-bit signed mono PCM held as []int16, cut into 20 ms frames.
//
// Every rate the plugin meets (8000, 16000, 32000, 44100 and 48000 Hz)
// divides into whole 20 ms frames; SamplesPerFrame gives the frame length.
//
// The helpers are:
//
//   - Mix and MixInto: a saturating sum of frames (the conference bridge's
//     arithmetic, clipped to the int16 range rather than wrapping);
//   - Gain and Volume: in-place scaling with saturation;
//   - Resampler: a stateful converter between two rates. Upsampling is
//     linear interpolation; downsampling first runs a windowed-sinc low-pass
//     filter at the new Nyquist frequency so that content above it does not
//     alias. The filter history and the fractional read position carry over
//     from one frame to the next, so frame boundaries produce no clicks;
//   - AppendBytes and Decode: conversion to and from little-endian bytes,
//     the layout of WAV files and of sound devices.
//
// Level gives a frame's peak level on the 0..255 scale the reference uses
// for signal levels.
package pcm
