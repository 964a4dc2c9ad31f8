// Package codec provides the audio codecs of the audio plugin and the
// registry that orders them for SDP.
//
// A [Codec] is an immutable description ([Info]: SDP encoding name, static or
// dynamic RTP payload type, RTP clock rate, PCM sample rate, rtpmap channel
// count, default fmtp, packet time) plus constructors for per-stream
// [Encoder] and [Decoder] values. PCM is always mono []int16 at
// Info.SampleRate, one packet (20 ms) per call. Decoders also conceal lost
// packets ([Decoder.Conceal]); decoders that can use in-band forward error
// correction implement [FECDecoder].
//
// Built-in codecs:
//
//   - [PCMU] and [PCMA]: ITU-T G.711 μ-law and A-law, payload types 0 and 8
//     (RFC 3551 §4.5.14), bit-exact with the common Sun reference.
//   - [G722]: ITU-T G.722 64 kbit/s sub-band ADPCM, payload type 9, PCM at
//     16 kHz with an RTP clock of 8000 (RFC 3551 §4.5.2); an implementation
//     of the standard's QMF and ADPCM blocks, bit-exact with spandsp.
//   - [Opus]: RFC 6716 through libopus (cgo), dynamic payload type,
//     rtpmap opus/48000/2 as RFC 7587 §7 requires, mono PCM at 48 kHz,
//     fmtp "stereo=0;sprop-stereo=0;useinbandfec=1".
//
// G.711 and G.722 conceal a loss by repeating the last frame and fading it
// to silence over five packets; Opus uses libopus's own concealment and FEC.
//
// A [Registry] is a value, not a global: [Default] returns a fresh one with
// the built-ins, [NewRegistry] one with any codecs. [Registry.Ordered] turns
// the rtp.audio_codec_list setting (reference default [DefaultOrder]: opus,
// G722, PCMU, PCMA) into the codecs to offer, and [Registry.Match] finds the
// codec for a remote a=rtpmap. A new codec needs nothing but a type that
// implements [Codec] and a call to [Registry.Register].
//
// RFC 4733 telephone-event is not a codec here: see package dtmf.
package builtin
