package baresiptest

import "errors"

// Sentinel errors of this package, usable with errors.Is.
var (
	// ErrNotWAV means a file is not a RIFF/WAVE file this package reads:
	// 16-bit integer PCM (format 1, or extensible with a PCM sub-format).
	ErrNotWAV = errors.New("baresiptest: not a 16-bit PCM WAV file")
	// ErrTooShort means a recording holds too few samples to tell its
	// frequency (less than one analysis window).
	ErrTooShort = errors.New("baresiptest: recording too short to analyse")
	// ErrSilent means a recording holds only silence (or next to it).
	ErrSilent = errors.New("baresiptest: recording is silent")
	// ErrExited means baresip exited while a caller waited on it.
	ErrExited = errors.New("baresiptest: baresip exited")
	// ErrNoRecording means sndfile wrote no recording (yet): it writes a
	// call's files once the call's audio starts and completes them when
	// the call ends.
	ErrNoRecording = errors.New("baresiptest: no sndfile recording")
)
