// Package codec is the audio codec interface of sipstreams and the codec
// module ABI.
//
// [Codec], [Encoder] and [Decoder] are what the audio plugin encodes and
// decodes with: its built-in codecs (G.711, G.722, Opus) and codec modules
// implement them alike. A [Registry] holds codecs by SDP encoding name and
// orders them by rtp.audio_codec_list.
//
// # Codec modules
//
// A codec module is an audio codec compiled to WebAssembly (a wasm32
// reactor using at most WASI preview 1) that the audio plugin loads at run
// time from its codec directory (setting audio.codec_directory, default
// codecs/ beside the plugin binary), runs sandboxed in-process (package
// module, with wazero) and hot-swaps: a file added, replaced or removed is
// seen by the next stream, without a rebuild or a restart. The ABI, version
// [ABIVersion], is these exports ([ExportABI] and the other Export*
// constants; sdk/codec/include/sipstreams_codec.h for C):
//
//	memory                          the linear memory
//	_initialize                     optional: run once, first
//	sipstreams_codec_abi            () -> i32: ABIVersion
//	sipstreams_codec_describe       () -> i32: NUL-terminated JSON Description
//	sipstreams_codec_io             () -> i32: an I/O area of IOSize bytes
//	sipstreams_codec_encoder_new    () -> i32: a per-stream state, 0 on failure
//	sipstreams_codec_encoder_free   (state i32)
//	sipstreams_codec_encode         (state, pcm, samples, out, capacity i32) -> i32
//	sipstreams_codec_decoder_new    () -> i32
//	sipstreams_codec_decoder_free   (state i32)
//	sipstreams_codec_decode         (state, payload, length, pcm, capacity i32) -> i32
//	sipstreams_codec_conceal        optional: (state, pcm, capacity i32) -> i32
//
// Pointers are offsets into the module's memory. The host writes a call's
// input into the first half of the I/O area and passes a pointer into the
// second half for its output; PCM is mono little-endian int16 at the
// description's sample rate. Encode returns the bytes written, decode and
// conceal the samples written, or a negative Result ([ResultFrameSize],
// [ResultCorruptPayload], [ResultFailed]). A module serves every stream of
// its codec from one instance: each stream has its own encoder and decoder
// state, made and freed by the host. A module must not export _start (a
// command exits once started) nor import anything but WASI.
//
// A module that is not WebAssembly, speaks another ABI version, lacks an
// export or fails its load check is refused with the reason (the audio
// plugin lists it, `sipstreams audio codecs`); one that traps, loops past
// its call budget or out of its memory limit at run time fails only the
// streams using it (MediaStreamDidFail). The vendor guide, with templates
// in C and Go that build as pasted, is sdk/codec/README.md; package
// codectest is the conformance suite a module's test runs.
package codec
