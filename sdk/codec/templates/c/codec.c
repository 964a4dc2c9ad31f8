/*
 * A sipstreams codec module written in C: L16 (RFC 3551 §4.5.11, 16-bit
 * linear PCM in network byte order) at 8 kHz, mono, with a dynamic payload
 * type — the same codec as the Go template. Copy this file, change the
 * codec and the description, and build it with Debian's clang, lld and
 * wasi-libc:
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor \
 *         -I <sipstreams>/sdk/codec/include -o l16.wasm codec.c
 *
 * -mexec-model=reactor makes the module a reactor: the host calls its
 * _initialize once (which runs constructors), then the functions below,
 * which implement the codec module ABI (sipstreams_codec.h, version 1).
 * Per-stream state comes from malloc: a handle is its pointer.
 */
#include <stdlib.h>
#include <string.h>

#define SIPSTREAMS_CODEC_HAS_CONCEAL 1
#include "sipstreams_codec.h"

#define FRAME 160 /* 20 ms at 8 kHz */

static uint8_t io[SIPSTREAMS_CODEC_IO_SIZE];

/* A decoder remembers the last frame, for concealment. */
typedef struct {
	int16_t last[SIPSTREAMS_CODEC_IO_SIZE / 4];
	int32_t n;
	int lost;
} decoder;

int32_t sipstreams_codec_abi(void) { return SIPSTREAMS_CODEC_ABI; }

const char *sipstreams_codec_describe(void)
{
	return "{\"name\":\"L16\",\"version\":\"1.0.0\",\"payload_type\":-1,"
	       "\"clock_rate\":8000,\"sample_rate\":8000,\"channels\":1}";
}

void *sipstreams_codec_io(void) { return io; }

/* L16 encoding has no state: a handle only has to be distinct. */
void *sipstreams_codec_encoder_new(void) { return malloc(1); }
void sipstreams_codec_encoder_free(void *state) { free(state); }
void *sipstreams_codec_decoder_new(void) { return calloc(1, sizeof(decoder)); }
void sipstreams_codec_decoder_free(void *state) { free(state); }

int32_t sipstreams_codec_encode(void *state, const int16_t *pcm, int32_t samples, uint8_t *out, int32_t capacity)
{
	(void)state;
	if (samples < 0 || 2 * samples > capacity)
		return SIPSTREAMS_CODEC_FRAME_SIZE;
	for (int32_t i = 0; i < samples; i++) {
		uint16_t v = (uint16_t)pcm[i];
		out[2 * i] = (uint8_t)(v >> 8);
		out[2 * i + 1] = (uint8_t)v;
	}
	return 2 * samples;
}

int32_t sipstreams_codec_decode(void *state, const uint8_t *payload, int32_t length, int16_t *pcm, int32_t capacity)
{
	decoder *d = state;
	if (length % 2 != 0 || length / 2 > capacity)
		return SIPSTREAMS_CODEC_CORRUPT_PAYLOAD;
	for (int32_t i = 0; i < length / 2; i++)
		pcm[i] = (int16_t)((payload[2 * i] << 8) | payload[2 * i + 1]);
	d->n = length / 2;
	memcpy(d->last, pcm, (size_t)d->n * 2);
	d->lost = 0;
	return d->n;
}

/* Concealment repeats the last frame at half the level of the one before,
 * and gives silence when nothing was decoded yet. */
int32_t sipstreams_codec_conceal(void *state, int16_t *pcm, int32_t capacity)
{
	decoder *d = state;
	int32_t n = d->n ? d->n : FRAME;
	if (n > capacity)
		return SIPSTREAMS_CODEC_FRAME_SIZE;
	d->lost++;
	for (int32_t i = 0; i < n; i++)
		pcm[i] = d->n ? (int16_t)(d->last[i] >> d->lost) : 0;
	return n;
}
