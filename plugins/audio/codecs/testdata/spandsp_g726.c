#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
typedef void *(*init_f)(void *, int, int, int);
typedef int (*enc_f)(void *, uint8_t *, const int16_t *, int);
typedef int (*dec_f)(void *, int16_t *, const uint8_t *, int);
int main(int argc, char **argv) {
	void *h = dlopen("libspandsp.so.2", RTLD_NOW);
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
	init_f init = (init_f)dlsym(h, "g726_init");
	enc_f enc = (enc_f)dlsym(h, "g726_encode");
	dec_f dec = (dec_f)dlsym(h, "g726_decode");
	int packing = atoi(argv[1]);
	/* stdin: int16 PCM; stdout: encoded bytes then decoded int16 of those bytes */
	static int16_t pcm[1<<20]; static uint8_t code[1<<20]; static int16_t out[1<<20];
	int n = fread(pcm, 2, 1<<20, stdin);
	void *es = init(NULL, 32000, 0, packing), *ds = init(NULL, 32000, 0, packing);
	int nb = enc(es, code, pcm, n);
	int ns = dec(ds, out, code, nb);
	fwrite(code, 1, nb, stdout); fwrite(out, 2, ns, stdout);
	return 0;
}
