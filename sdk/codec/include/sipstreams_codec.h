/*
 * sipstreams_codec.h: the codec module ABI, version 1, for modules written
 * in C (see sdk/codec's package documentation, and its abi.go for the same
 * constants in Go).
 *
 * A codec module is a WebAssembly reactor: build it with
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor \
 *         -I sdk/codec/include -o mycodec.wasm mycodec.c
 *
 * and define the functions declared below. The SIPSTREAMS_EXPORT macro
 * gives each its export name. Pointers are offsets into the module's
 * memory; PCM is mono int16 at the sample rate the description gives.
 */
#ifndef SIPSTREAMS_CODEC_H
#define SIPSTREAMS_CODEC_H

#include <stdint.h>

#define SIPSTREAMS_CODEC_ABI 1

/* Size of the I/O area: input in the first half, output in the second. */
#define SIPSTREAMS_CODEC_IO_SIZE 16384
#define SIPSTREAMS_CODEC_MAX_DESCRIPTION 4096

/* Negative results of encode, decode and conceal. */
#define SIPSTREAMS_CODEC_FRAME_SIZE (-1)      /* a block length it cannot take */
#define SIPSTREAMS_CODEC_CORRUPT_PAYLOAD (-2) /* the decoder rejects the payload */
#define SIPSTREAMS_CODEC_FAILED (-3)          /* anything else */

#define SIPSTREAMS_EXPORT(name) __attribute__((export_name(#name)))

/* Returns SIPSTREAMS_CODEC_ABI. */
SIPSTREAMS_EXPORT(sipstreams_codec_abi) int32_t sipstreams_codec_abi(void);

/* Returns a NUL-terminated JSON object describing the codec:
 * {"name":"G726-32","version":"1.0.0","payload_type":-1,"clock_rate":8000,
 *  "sample_rate":8000,"channels":1,"fmtp":"","ptime_ms":20} */
SIPSTREAMS_EXPORT(sipstreams_codec_describe) const char *sipstreams_codec_describe(void);

/* Returns the I/O area, SIPSTREAMS_CODEC_IO_SIZE bytes. */
SIPSTREAMS_EXPORT(sipstreams_codec_io) void *sipstreams_codec_io(void);

/* Per-stream state: a non-zero handle, 0 when none can be made. */
SIPSTREAMS_EXPORT(sipstreams_codec_encoder_new) void *sipstreams_codec_encoder_new(void);
SIPSTREAMS_EXPORT(sipstreams_codec_encoder_free) void sipstreams_codec_encoder_free(void *state);
SIPSTREAMS_EXPORT(sipstreams_codec_decoder_new) void *sipstreams_codec_decoder_new(void);
SIPSTREAMS_EXPORT(sipstreams_codec_decoder_free) void sipstreams_codec_decoder_free(void *state);

/* Encodes samples of pcm into at most capacity bytes at out: returns the
 * bytes written or a negative result. */
SIPSTREAMS_EXPORT(sipstreams_codec_encode)
int32_t sipstreams_codec_encode(void *state, const int16_t *pcm, int32_t samples, uint8_t *out, int32_t capacity);

/* Decodes length bytes of payload into at most capacity samples at pcm:
 * returns the samples written or a negative result. */
SIPSTREAMS_EXPORT(sipstreams_codec_decode)
int32_t sipstreams_codec_decode(void *state, const uint8_t *payload, int32_t length, int16_t *pcm, int32_t capacity);

/* Optional (define SIPSTREAMS_CODEC_HAS_CONCEAL before including this
 * header to declare it): one packet of concealment for a lost packet. */
#ifdef SIPSTREAMS_CODEC_HAS_CONCEAL
SIPSTREAMS_EXPORT(sipstreams_codec_conceal)
int32_t sipstreams_codec_conceal(void *state, int16_t *pcm, int32_t capacity);
#endif

#endif
