// Package tone generates tones as 16-bit mono PCM frames: the signal source
// behind the reference's ToneGenerator (play_tones and play_dtmf).
//
// A Tone is the sum of up to two sine waves (F1, F2 in Hz) lasting Duration.
// A Tone with both frequencies zero is a pause, which is how the reference's
// tone lists express gaps: in play_tones([(f1, f2, ms), ...]) an entry with
// f1 = 0 is silence after the previous tone.
//
// Generator plays a queue of tones at a fixed sample rate and volume, one
// frame at a time, with a short linear fade at each end of every tone so
// that starting and stopping do not click. DTMF gives the standard dual-tone
// pair of a keypad digit (ITU-T Q.23: rows 697/770/852/941 Hz, columns
// 1209/1336/1477/1633 Hz).
package tone
