/*
 * G.711 (ITU-T G.711, RFC 3551 §4.5.14) as a sipstreams codec module:
 * PCMU by default, PCMA when built with -DG711_ALAW. The companding is the
 * segment arithmetic of the common Sun reference (μ-law on the top 14
 * bits, A-law on the top 13), bit for bit what the audio plugin's built-in
 * PCMU and PCMA compute; decoding uses a 256-entry table.
 *
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor \
 *         -I sdk/codec/include -o pcmu.wasm g711.c
 */
#include <stdlib.h>

#include "sipstreams_codec.h"

#ifdef G711_ALAW
#define DESCRIPTION "{\"name\":\"PCMA\",\"version\":\"1.0.0\",\"payload_type\":8,\"clock_rate\":8000,\"sample_rate\":8000,\"channels\":1}"
#else
#define DESCRIPTION "{\"name\":\"PCMU\",\"version\":\"1.0.0\",\"payload_type\":0,\"clock_rate\":8000,\"sample_rate\":8000,\"channels\":1}"
#endif

static uint8_t io[SIPSTREAMS_CODEC_IO_SIZE];
static int16_t expand[256];

/* segment returns the smallest s with v <= first<<s (the end of segment s),
 * or 8 beyond segment 7. */
static int segment(int v, int first)
{
	for (int s = 0; s < 8; s++) {
		if (v <= ((first << s) | ((1 << s) - 1)))
			return s;
	}
	return 8;
}

#ifndef G711_ALAW
static uint8_t linear_to_ulaw(int16_t sample)
{
	int v = sample >> 2;
	uint8_t mask = 0xFF;
	if (v < 0) {
		v = -v;
		mask = 0x7F;
	}
	if (v > 8159)
		v = 8159;
	v += 0x21;
	int seg = segment(v, 0x3F);
	if (seg >= 8)
		return 0x7F ^ mask;
	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0x0F)) ^ mask);
}

static int16_t ulaw_to_linear(uint8_t u)
{
	u = (uint8_t)~u;
	int t = ((u & 0x0F) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

#else
static uint8_t linear_to_alaw(int16_t sample)
{
	int v = sample >> 3;
	uint8_t mask = 0xD5;
	if (v < 0) {
		mask = 0x55;
		v = -v - 1;
	}
	int seg = segment(v, 0x1F);
	if (seg >= 8)
		return 0x7F ^ mask;
	uint8_t a = (uint8_t)(seg << 4);
	a |= (uint8_t)(seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F);
	return a ^ mask;
}

static int16_t alaw_to_linear(uint8_t a)
{
	a ^= 0x55;
	int t = (a & 0x0F) << 4;
	int seg = (a & 0x70) >> 4;
	switch (seg) {
	case 0:
		t += 8;
		break;
	case 1:
		t += 0x108;
		break;
	default:
		t += 0x108;
		t <<= seg - 1;
	}
	return (int16_t)((a & 0x80) ? t : -t);
}

#endif

/* Run by _initialize, before any other call. */
__attribute__((constructor)) static void init(void)
{
	for (int i = 0; i < 256; i++) {
#ifdef G711_ALAW
		expand[i] = alaw_to_linear((uint8_t)i);
#else
		expand[i] = ulaw_to_linear((uint8_t)i);
#endif
	}
}

int32_t sipstreams_codec_abi(void) { return SIPSTREAMS_CODEC_ABI; }
const char *sipstreams_codec_describe(void) { return DESCRIPTION; }
void *sipstreams_codec_io(void) { return io; }

/* G.711 has no state: a handle is one byte, so that each is distinct. */
void *sipstreams_codec_encoder_new(void) { return malloc(1); }
void sipstreams_codec_encoder_free(void *state) { free(state); }
void *sipstreams_codec_decoder_new(void) { return malloc(1); }
void sipstreams_codec_decoder_free(void *state) { free(state); }

int32_t sipstreams_codec_encode(void *state, const int16_t *pcm, int32_t samples, uint8_t *out, int32_t capacity)
{
	(void)state;
	if (samples > capacity)
		return SIPSTREAMS_CODEC_FRAME_SIZE;
	for (int32_t i = 0; i < samples; i++) {
#ifdef G711_ALAW
		out[i] = linear_to_alaw(pcm[i]);
#else
		out[i] = linear_to_ulaw(pcm[i]);
#endif
	}
	return samples;
}

int32_t sipstreams_codec_decode(void *state, const uint8_t *payload, int32_t length, int16_t *pcm, int32_t capacity)
{
	(void)state;
	if (length > capacity)
		return SIPSTREAMS_CODEC_CORRUPT_PAYLOAD;
	for (int32_t i = 0; i < length; i++)
		pcm[i] = expand[payload[i]];
	return length;
}
