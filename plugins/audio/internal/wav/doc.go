// Package wav reads RIFF/WAVE files as 16-bit mono and writes 16-bit PCM,
// the format of the reference's WavePlayer and WaveRecorder.
//
// Reader accepts what sox and common tools write by default: integer PCM of
// 8 (unsigned), 16, 24 or 32 bits and IEEE float of 32 or 64 bits, as
// WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT or WAVE_FORMAT_EXTENSIBLE with
// either sub-format, at any sample rate and channel count. It delivers
// 16-bit mono samples: each sample is converted as sox converts to 16 bits
// (rounded half up, saturated; floats scaled by 2^31 first), then
// multi-channel frames are mixed down by averaging. Resampling is the
// caller's (package mixer's player). Other formats (µ-law, A-law, ADPCM,
// 12-bit…) fail with a *FormatError wrapping ErrUnsupportedFormat that says
// what was found. Chunks other than "fmt " and "data" are skipped.
//
// Writer streams mono 16-bit PCM. It writes a complete 44-byte header up
// front and patches the RIFF and data sizes on Close, on Flush, and every
// time another PatchInterval of audio has been written, so a file left by a
// killed process still opens in any player, holding the audio up to the last
// patch.
//
// Layout: http://soundfile.sapp.org/doc/WaveFormat/ and Microsoft's
// WAVEFORMATEXTENSIBLE documentation.
package wav
