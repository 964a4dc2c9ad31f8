// Package wav reads and writes RIFF/WAVE files of 16-bit PCM, the format of
// the reference's WavePlayer and WaveRecorder.
//
// Reader accepts 16-bit integer PCM at any sample rate and any channel count
// (WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format). It
// delivers mono samples: multi-channel frames are mixed down by averaging.
// Other formats fail with a *FormatError wrapping ErrUnsupportedFormat that
// says what was found. Chunks other than "fmt " and "data" are skipped.
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
