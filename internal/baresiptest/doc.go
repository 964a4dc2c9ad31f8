// Package baresiptest runs the real baresip (Debian package
// baresip-core, baresip 1.0.0) on loopback as an audio peer for the
// audio plugin's interop tests, and measures the tones in the WAV files
// it records.
//
// # Concept
//
// [Start] writes a private configuration directory (config, accounts;
// $HOME points there too, so baresip never touches the user's files)
// and starts "baresip -f DIR -t SECS" with its standard input as a
// command pipe for the stdio and menu modules. The instance has one
// account, sip:baresip@127.0.0.1, that never registers (regint=0), and
// listens for SIP on 127.0.0.1:PORT (UDP and TCP; baresip also takes TCP
// PORT+1 for TLS, so a picked port is even with its neighbour free). It
// sends a sine of Options.ToneHz (ausine) or a WAV file (aufile), plays
// what it receives into an aubridge device nobody reads (no sound card
// needed), and its sndfile module records, per call, the decoded audio
// it received and the audio it sent. Options choose auto-answer, the
// codecs (Codecs: only PCMU, only G722, only opus, …) and SRTP
// (MediaEnc "srtp-mand": RTP/SAVP with SDES, plain offers refused with
// 488). Every run is bounded: -t for baresip's own lifetime, a Go-side
// kill KillGrace later (which fails the test), ctx, and the end of the
// test (/quit, then a kill). Its output goes to DIR/baresip.log; when
// the test fails, the tail is logged.
//
// # API
//
//	b := baresiptest.Start(t, ctx, baresiptest.Options{
//		ToneHz: 1000, AutoAnswer: true, Codecs: []string{baresiptest.CodecPCMU},
//	})
//	// ... make our host call b.URI() ...
//	if _, err := b.WaitLog(ctx, baresiptest.LogEstablished); err != nil { ... }
//	_ = b.WaitRecorded(ctx, 2) // 2 s of audio each way in its recordings
//	_ = b.Hangup()
//	_, _ = b.WaitLog(ctx, baresiptest.LogTerminated)
//	recs, _ := b.Recordings()
//	hz, _ := baresiptest.DominantFrequency(recs[0].Received) // what baresip heard
//
// Commands: [Baresip.Dial], [Baresip.Accept], [Baresip.Hangup],
// [Baresip.Hold], [Baresip.Resume], [Baresip.SendDTMF] (RFC 4733 via
// /sndcode), [Baresip.Quit], or any menu line with [Baresip.Command].
// [Baresip.WaitLog] and [Baresip.WaitLogN] wait for lines of its output;
// the Log constants are the lines baresip 1.0.0 prints for each event.
// [Baresip.Recordings] lists the sndfile recordings, one pair (received,
// sent) per call; [Baresip.WaitRecorded] waits until the latest pair
// holds enough audio, so a test measures media by content, not by wall
// time ([RecordedSeconds] reads a file still being written).
// [Binary] fails the test, never skips it, when baresip is missing: run
// .ci/deps.
//
// [ReadWAV], [ParseWAV], [Analyze] and [DominantFrequency] read 16-bit
// PCM WAV files (any rate, any channel count) and find the strongest
// tone with a Welch-averaged, Hann-windowed FFT of this package, so the
// checks need no sox.
//
// # baresip 1.0.0 facts this package relies on
//
// Each was seen with Debian's baresip-core 1.0.0.
//
//   - ausine only produces 48 kHz stereo ("ausine: supports only 48kHz
//     samplerate", then "only 2 channels"): the config sets ausrc_srate
//     48000 and ausrc_channels 2, and baresip resamples to the codec.
//   - Without a player device a call fails; an aubridge device that no
//     source reads is a sink that needs no sound card.
//   - The account's audio_codecs entries are name/rate/channels; a bare
//     name means 8000 Hz mono, so "opus" and "g722" match nothing,
//     baresip logs "account: audio codec not found" and keeps every
//     codec. Start fails on that line.
//   - In-call commands (/hold, /resume, /sndcode) exist only during a
//     call: /help outside a call does not list them. /sndcode DIGITS
//     sends RFC 4733 events; the peer logs "received event: 'D'
//     (end=0)" and "(end=1)" per digit.
//   - The callee of a re-INVITE logs only "call: got re-INVITE (SDP
//     Offer)", for hold and resume alike; a BYE from the peer logs
//     "session closed: Connection reset by peer".
//   - sndfile names its files dump-YYYY-MM-DD-hh-mm-ss-{enc,dec}.wav in
//     snd_path (one-second resolution), completes their headers when
//     the call ends, records opus calls at 48 kHz stereo, G722 at 16 kHz,
//     G.711 at 8 kHz, and stops writing received audio at the first
//     re-INVITE although RTP continues.
//   - sox's stat effect reads a stereo file's interleaved samples as
//     one channel: `sox FILE -n stat -freq` puts a 1000 Hz tone of an
//     opus recording (48 kHz stereo) near 500 Hz. Downmix first
//     (`sox FILE -n channels 1 stat -freq`), or use DominantFrequency.
//   - After a hold and resume (two re-INVITEs), a call of 4 s left a
//     received recording of 0.92 s (the audio before the hold) on both
//     sides, and sent recordings of 4 s.
//   - An aufile source plays its file once; at its end baresip logs
//     "aufile: end of file" and "menu: audio error (0,end of file)" and
//     hangs up the call.
//   - The stdio module echoes each command key by key
//     ("//d/di/dia/dial...") and redraws a call status line with "\r";
//     the output is split at "\n" and "\r" and colour escapes are
//     removed before matching.
//   - net_interface must be an address (127.0.0.1), not "lo".
package baresiptest
