/*
 * Codec modules that misbehave, one per -D flag, for the module tests.
 * Without a flag it is a good L16 codec at 8 kHz.
 *
 *   BAD_ABI            reports ABI version 2
 *   BAD_NO_DECODE      lacks sipstreams_codec_decode
 *   BAD_IMPORT         imports a function of its own host module
 *   BAD_DESCRIPTION    describes itself with unreadable JSON
 *   BAD_TRAP_AT_LOAD   traps in every encode
 *   BAD_TRAP           traps in the 20th encode of an instance
 *   BAD_LOOP_AT_LOAD   loops forever in describe
 *   BAD_LOOP           loops forever in the 20th encode of an instance
 *   BAD_GROW           grows its memory by 1 MiB in every encode
 *   BAD_RESULT         claims more output than it was given room for
 *   BAD_COMMAND        is a command (main, _start), built without -mexec-model=reactor
 */
#include <stdlib.h>

#include "sipstreams_codec.h"

static uint8_t io[SIPSTREAMS_CODEC_IO_SIZE];
static int encodes;
volatile int forever = 1;

#ifdef BAD_IMPORT
__attribute__((import_module("env"), import_name("host_magic"))) int host_magic(void);
#endif

int32_t sipstreams_codec_abi(void)
{
#ifdef BAD_ABI
	return 2;
#else
	return SIPSTREAMS_CODEC_ABI;
#endif
}

const char *sipstreams_codec_describe(void)
{
#ifdef BAD_LOOP_AT_LOAD
	while (forever)
		encodes++;
#endif
#ifdef BAD_DESCRIPTION
	return "{\"name\":\"L16\",\"clock_rate\":";
#else
	return "{\"name\":\"L16\",\"version\":\"0.0.1\",\"clock_rate\":8000,\"sample_rate\":8000,\"channels\":1}";
#endif
}

void *sipstreams_codec_io(void) { return io; }
void *sipstreams_codec_encoder_new(void) { return malloc(1); }
void sipstreams_codec_encoder_free(void *state) { free(state); }
void *sipstreams_codec_decoder_new(void) { return malloc(1); }
void sipstreams_codec_decoder_free(void *state) { free(state); }

int32_t sipstreams_codec_encode(void *state, const int16_t *pcm, int32_t samples, uint8_t *out, int32_t capacity)
{
	(void)state;
	encodes++;
#ifdef BAD_IMPORT
	encodes += host_magic();
#endif
#ifdef BAD_TRAP_AT_LOAD
	__builtin_trap();
#endif
#ifdef BAD_TRAP
	if (encodes == 20)
		__builtin_trap();
#endif
#ifdef BAD_LOOP
	if (encodes >= 20) {
		while (forever)
			encodes++;
	}
#endif
#ifdef BAD_GROW
	if (encodes > 1) {
		int before = __builtin_wasm_memory_grow(0, 16);
		if (before < 0)
			__builtin_trap(); /* out of memory */
		((volatile uint8_t *)(before * 65536))[65535] = 1;
	}
#endif
	if (2 * samples > capacity)
		return SIPSTREAMS_CODEC_FRAME_SIZE;
	for (int32_t i = 0; i < samples; i++) {
		out[2 * i] = (uint8_t)((uint16_t)pcm[i] >> 8);
		out[2 * i + 1] = (uint8_t)pcm[i];
	}
#ifdef BAD_RESULT
	if (encodes > 1)
		return capacity + 1;
#endif
	return 2 * samples;
}

#ifndef BAD_NO_DECODE
int32_t sipstreams_codec_decode(void *state, const uint8_t *payload, int32_t length, int16_t *pcm, int32_t capacity)
{
	(void)state;
	if (length % 2 != 0 || length / 2 > capacity)
		return SIPSTREAMS_CODEC_CORRUPT_PAYLOAD;
	for (int32_t i = 0; i < length / 2; i++)
		pcm[i] = (int16_t)((payload[2 * i] << 8) | payload[2 * i + 1]);
	return length / 2;
}
#endif

#ifdef BAD_COMMAND
int main(void) { return 0; }
#endif
