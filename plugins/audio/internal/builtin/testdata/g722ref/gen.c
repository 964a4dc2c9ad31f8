/*
 * gen.c writes the G.722 reference vectors in this directory using spandsp
 * (libspandsp2, the library baresip's g722 module links). It is not part of
 * the build; run it by hand to regenerate:
 *
 *   gcc -o /tmp/g722gen gen.c -l:libspandsp.so.2 && /tmp/g722gen
 *
 * input.pcm   16 kHz s16le: 0.5 s of a 1 kHz sine at amplitude 8000, 0.5 s
 *             of a 440+3000 Hz mixture, 0.25 s of a deterministic noise,
 *             0.25 s of full-scale square wave.
 * encoded.g722  spandsp's encoding of input.pcm (64 kbit/s, unpacked).
 * decoded.pcm   spandsp's decoding of encoded.g722.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Prototypes from spandsp/g722.h (headers are not installed). */
void *g722_encode_init(void *s, int rate, int options);
int g722_encode(void *s, uint8_t g722_data[], const int16_t amp[], int len);
void *g722_decode_init(void *s, int rate, int options);
int g722_decode(void *s, int16_t amp[], const uint8_t g722_data[], int len);

#define N 24000

int main(void)
{
    static int16_t in[N], out[2 * N];
    static uint8_t code[N];
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        double t = i / 16000.0;
        if (i < 8000)
            in[i] = (int16_t) lrint(8000 * sin(2 * M_PI * 1000 * t));
        else if (i < 16000)
            in[i] = (int16_t) lrint(6000 * sin(2 * M_PI * 440 * t) + 4000 * sin(2 * M_PI * 3000 * t));
        else if (i < 20000) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (int16_t) ((int32_t) (seed >> 16) - 32768) / 4;
        } else
            in[i] = ((i / 20) & 1) ? 32767 : -32768;
    }
    void *enc = g722_encode_init(NULL, 64000, 0);
    int n = g722_encode(enc, code, in, N);
    void *dec = g722_decode_init(NULL, 64000, 0);
    int m = g722_decode(dec, out, code, n);
    FILE *f = fopen("input.pcm", "wb"); fwrite(in, 2, N, f); fclose(f);
    f = fopen("encoded.g722", "wb"); fwrite(code, 1, n, f); fclose(f);
    f = fopen("decoded.pcm", "wb"); fwrite(out, 2, m, f); fclose(f);
    printf("%d samples -> %d bytes -> %d samples\n", N, n, m);
    return 0;
}
