/*
 * G.726 at 32 kbit/s (ITU-T G.726, 1990, with the 1994 corrections; RFC
 * 3551 §4.5.4, encoding name G726-32) as a sipstreams codec module.
 *
 * Adaptive differential PCM: each 14-bit linear sample (the 16-bit PCM
 * shifted right by two) is predicted by a 2-pole, 6-zero adaptive
 * predictor, and the difference is quantised to a 4-bit code with an
 * adaptive step size. The arithmetic follows the block diagram of the
 * Recommendation (§4: FMULT, ACCUM, SUBTA, LOG, QUAN, ADDA, ANTILOG,
 * RECONST, FILTD/FILTE, LIMB, FUNCTW, MIX, FILTA/FILTB, SUBTC, TRANS,
 * UPA1/UPA2/LIMC/LIMD, UPB, FLOATA/FLOATB, TONE, TRIGB) in integers,
 * bit-exact with the Recommendation's reference behaviour — what spandsp,
 * which passes the ITU test sequences, computes (see the package tests).
 *
 * Packing: by default RFC 3551's, the first codeword of an octet in its
 * four least significant bits. Built with -DG726_PACKING_AAL2, the first
 * codeword goes in the four most significant bits (ITU-T I.366.2, the
 * "AAL2-G726-32" order), which is what baresip 1.0's g726 module sends
 * under the name G726-32 (spandsp's G726_PACKING_LEFT).
 *
 * 20 ms packets: 160 samples, 80 octets. No concealment of its own: the
 * host repeats the last frame, fading.
 */
#include <stdlib.h>
#include <string.h>

#include "sipstreams_codec.h"

#ifndef G726_VERSION
#define G726_VERSION "1.0.0"
#endif
#ifdef G726_PACKING_AAL2
#define VERSION G726_VERSION "+aal2"
#else
#define VERSION G726_VERSION
#endif

#define DESCRIPTION "{\"name\":\"G726-32\",\"version\":\"" VERSION "\",\"payload_type\":-1,\"clock_rate\":8000,\"sample_rate\":8000,\"channels\":1,\"ptime_ms\":20}"

static uint8_t io[SIPSTREAMS_CODEC_IO_SIZE];

typedef struct {
	int32_t yl;    /* locked quantizer scale factor */
	int16_t yu;    /* unlocked quantizer scale factor */
	int16_t dms;   /* short-term average of F(I) */
	int16_t dml;   /* long-term average of F(I) */
	int16_t ap;    /* speed control parameter */
	int16_t a[2];  /* pole predictor coefficients */
	int16_t b[6];  /* zero predictor coefficients */
	int16_t pk[2]; /* signs of the last two partial reconstructed signals */
	int16_t dq[6]; /* last six quantized differences, floating format */
	int16_t sr[2]; /* last two reconstructed signals, floating format */
	int td;        /* tone detect */
} g726_state;

/* Quantizer decision levels (QUAN, table 4 of G.726 for 32 kbit/s). */
static const int16_t qtab[7] = {-124, 80, 178, 246, 300, 349, 400};
/* Log of the quantized difference per code (RECONST). */
static const int16_t dqlntab[16] = {-2048, 4, 135, 213, 273, 323, 373, 425, 425, 373, 323, 273, 213, 135, 4, -2048};
/* Scale factor multiplier W(I) per code (FUNCTW), times 32. */
static const int witab[16] = {-384, 576, 1312, 2048, 3584, 6336, 11360, 35904, 35904, 11360, 6336, 3584, 2048, 1312, 576, -384};
/* F(I) per code (FUNCTF). */
static const int16_t fitab[16] = {0, 0, 0, 0x200, 0x200, 0x200, 0x600, 0xE00, 0xE00, 0x600, 0x200, 0x200, 0x200, 0, 0, 0};

static void state_init(g726_state *s)
{
	memset(s, 0, sizeof(*s));
	s->yl = 34816;
	s->yu = 544;
	for (int i = 0; i < 2; i++)
		s->sr[i] = 32;
	for (int i = 0; i < 6; i++)
		s->dq[i] = 32;
}

/* bits returns the number of significant bits of v >= 0: the exponent the
 * Recommendation's LOG and FLOAT blocks compute. */
static int bits(int v)
{
	int n = 0;
	while (v > 0 && n < 15) {
		v >>= 1;
		n++;
	}
	return n;
}

/* fmult multiplies a predictor coefficient an by a signal in the
 * floating format srn (FMULT). */
static int fmult(int an, int srn)
{
	int anmag = (an > 0) ? an : ((-an) & 0x1FFF);
	int anexp = bits(anmag) - 6;
	int anmant = (anmag == 0) ? 32 : (anexp >= 0) ? (anmag >> anexp) : (anmag << -anexp);
	int wanexp = anexp + ((srn >> 6) & 0xF) - 13;
	int wanmant = (anmant * (srn & 0x3F) + 0x30) >> 4;
	int retval = (wanexp >= 0) ? ((wanmant << wanexp) & 0x7FFF) : (wanmant >> -wanexp);
	return ((an ^ srn) < 0) ? -retval : retval;
}

/* The predictors' sums, and the signals built from them below, are 16-bit
 * registers in the Recommendation: they wrap, they do not saturate. */
static int16_t predictor_zero(const g726_state *s)
{
	int sezi = 0;
	for (int i = 0; i < 6; i++)
		sezi += fmult(s->b[i] >> 2, s->dq[i]);
	return (int16_t)sezi;
}

static int16_t predictor_pole(const g726_state *s)
{
	return (int16_t)(fmult(s->a[1] >> 2, s->sr[1]) + fmult(s->a[0] >> 2, s->sr[0]));
}

/* step_size mixes the fast and slow scale factors (MIX). */
static int step_size(const g726_state *s)
{
	if (s->ap >= 256)
		return s->yu;
	int y = s->yl >> 6;
	int dif = s->yu - y;
	int al = s->ap >> 2;
	if (dif > 0)
		y += (dif * al) >> 6;
	else if (dif < 0)
		y += (dif * al + 0x3F) >> 6;
	return y;
}

/* quantize gives the 4-bit code of the difference d at step size y (LOG,
 * SUBTB, QUAN). */
static int quantize(int d, int y)
{
	int dqm = d < 0 ? -d : d;
	int exp = bits(dqm >> 1);
	int mant = ((dqm << 7) >> exp) & 0x7F;
	int dl = (exp << 7) + mant;
	int dln = dl - (y >> 2);
	int i = 0;
	while (i < 7 && dln >= qtab[i])
		i++;
	if (d < 0)
		return 15 - i;
	if (i == 0)
		return 15; /* the 1994 correction: no code 0 for d >= 0 */
	return i;
}

/* reconstruct gives the quantized difference, sign and magnitude, from
 * its log dqln (ADDA, ANTILOG). */
static int reconstruct(int sign, int dqln, int y)
{
	int dql = dqln + (y >> 2);
	if (dql < 0)
		return sign ? -0x8000 : 0;
	int dex = (dql >> 7) & 15;
	int dqt = 128 + (dql & 127);
	int dq = (dqt << 7) >> (14 - dex);
	return sign ? (dq - 0x8000) : dq;
}

/* floating converts a magnitude to the 4-bit exponent, 6-bit mantissa
 * format of FLOATA/FLOATB. */
static int16_t floating(int mag, int negative)
{
	int exp = bits(mag);
	int v = (exp << 6) + ((mag << 6) >> exp);
	return (int16_t)(negative ? v - 0x400 : v);
}

/* update adapts the state after a sample (blocks 3 to 6). */
static void update(g726_state *s, int y, int wi, int fi, int dq, int sr, int dqsez)
{
	int pk0 = dqsez < 0;
	int mag = dq & 0x7FFF;

	/* TRANS: a transition from a partial band signal. */
	int ylint = s->yl >> 15;
	int ylfrac = (s->yl >> 10) & 0x1F;
	int thr1 = (32 + ylfrac) << ylint;
	int thr2 = (ylint > 9) ? 31 << 10 : thr1;
	int dqthr = (thr2 + (thr2 >> 1)) >> 1;
	int tr = s->td != 0 && mag > dqthr;

	/* FUNCTW, FILTD, LIMB, FILTE. */
	int yu = y + ((wi - y) >> 5);
	if (yu < 544)
		yu = 544;
	else if (yu > 5120)
		yu = 5120;
	s->yu = (int16_t)yu;
	s->yl += yu + ((-s->yl) >> 6);

	int a2p = 0;
	if (tr) {
		s->a[0] = s->a[1] = 0;
		for (int i = 0; i < 6; i++)
			s->b[i] = 0;
	} else {
		int pks1 = pk0 ^ s->pk[0];
		/* UPA2 */
		a2p = s->a[1] - (s->a[1] >> 7);
		if (dqsez != 0) {
			int fa1 = pks1 ? s->a[0] : -s->a[0];
			if (fa1 < -8191)
				a2p -= 0x100;
			else if (fa1 > 8191)
				a2p += 0xFF;
			else
				a2p += fa1 >> 5;
			if (pk0 ^ s->pk[1]) {
				/* LIMC */
				if (a2p <= -12160)
					a2p = -12288;
				else if (a2p >= 12416)
					a2p = 12288;
				else
					a2p -= 0x80;
			} else if (a2p <= -12416)
				a2p = -12288;
			else if (a2p >= 12160)
				a2p = 12288;
			else
				a2p += 0x80;
		}
		s->a[1] = (int16_t)a2p;
		/* UPA1, LIMD */
		int a1 = s->a[0] - (s->a[0] >> 8);
		if (dqsez != 0)
			a1 += pks1 ? -192 : 192;
		int a1ul = 15360 - a2p;
		if (a1 < -a1ul)
			a1 = -a1ul;
		else if (a1 > a1ul)
			a1 = a1ul;
		s->a[0] = (int16_t)a1;
		/* UPB */
		for (int i = 0; i < 6; i++) {
			int b = s->b[i] - (s->b[i] >> 8);
			if (mag != 0)
				b += ((dq ^ s->dq[i]) >= 0) ? 128 : -128;
			s->b[i] = (int16_t)b;
		}
	}

	/* DELAY and FLOATA: the quantized difference. */
	for (int i = 5; i > 0; i--)
		s->dq[i] = s->dq[i - 1];
	if (mag == 0)
		s->dq[0] = (int16_t)((dq >= 0) ? 0x20 : 0xFC20);
	else
		s->dq[0] = floating(mag, dq < 0);

	/* FLOATB: the reconstructed signal. */
	s->sr[1] = s->sr[0];
	if (sr == 0)
		s->sr[0] = 0x20;
	else if (sr > 0)
		s->sr[0] = floating(sr, 0);
	else if (sr > -32768)
		s->sr[0] = floating(-sr, 1);
	else
		s->sr[0] = (int16_t)0xFC20;

	s->pk[1] = s->pk[0];
	s->pk[0] = (int16_t)pk0;

	/* TONE, TRIGB */
	s->td = !tr && a2p < -11776;

	/* FILTA, FILTB, SUBTC, speed control. */
	s->dms = (int16_t)(s->dms + ((fi - s->dms) >> 5));
	s->dml = (int16_t)(s->dml + (((fi << 2) - s->dml) >> 7));
	int dif = (s->dms << 2) - s->dml;
	if (dif < 0)
		dif = -dif;
	if (tr)
		s->ap = 256;
	else if (y < 1536 || s->td || dif >= (s->dml >> 3))
		s->ap = (int16_t)(s->ap + ((0x200 - s->ap) >> 4));
	else
		s->ap = (int16_t)(s->ap + ((-s->ap) >> 4));
}

/* encode_sample codes one 16-bit sample. */
static int encode_sample(g726_state *s, int16_t amp)
{
	int sl = amp >> 2; /* 14-bit linear */
	int sezi = predictor_zero(s);
	int se = (int16_t)(sezi + predictor_pole(s)) >> 1;
	int d = (int16_t)(sl - se);
	int y = step_size(s);
	int i = quantize(d, y);
	int dq = reconstruct(i & 8, dqlntab[i], y);
	int sr = (int16_t)((dq < 0) ? se - (dq & 0x3FFF) : se + dq);
	int dqsez = (int16_t)(sr + (sezi >> 1) - se);
	update(s, y, witab[i], fitab[i], dq, sr, dqsez);
	return i;
}

/* decode_code gives the 16-bit sample of one code. */
static int16_t decode_code(g726_state *s, int i)
{
	i &= 0x0F;
	int sezi = predictor_zero(s);
	int se = (int16_t)(sezi + predictor_pole(s)) >> 1;
	int y = step_size(s);
	int dq = reconstruct(i & 8, dqlntab[i], y);
	int sr = (int16_t)((dq < 0) ? se - (dq & 0x3FFF) : se + dq);
	int dqsez = (int16_t)(sr + (sezi >> 1) - se);
	update(s, y, witab[i], fitab[i], dq, sr, dqsez);
	return (int16_t)(sr << 2);
}

int32_t sipstreams_codec_abi(void) { return SIPSTREAMS_CODEC_ABI; }
const char *sipstreams_codec_describe(void) { return DESCRIPTION; }
void *sipstreams_codec_io(void) { return io; }

static void *state_new(void)
{
	g726_state *s = malloc(sizeof(g726_state));
	if (s)
		state_init(s);
	return s;
}

void *sipstreams_codec_encoder_new(void) { return state_new(); }
void sipstreams_codec_encoder_free(void *state) { free(state); }
void *sipstreams_codec_decoder_new(void) { return state_new(); }
void sipstreams_codec_decoder_free(void *state) { free(state); }

/* Two samples per octet: an odd number of samples is refused. */
int32_t sipstreams_codec_encode(void *state, const int16_t *pcm, int32_t samples, uint8_t *out, int32_t capacity)
{
	g726_state *s = state;
	if (samples % 2 != 0 || samples / 2 > capacity)
		return SIPSTREAMS_CODEC_FRAME_SIZE;
	for (int32_t i = 0; i < samples; i += 2) {
		int first = encode_sample(s, pcm[i]);
		int second = encode_sample(s, pcm[i + 1]);
#ifdef G726_PACKING_AAL2
		out[i / 2] = (uint8_t)((first << 4) | second);
#else
		out[i / 2] = (uint8_t)((second << 4) | first);
#endif
	}
	return samples / 2;
}

int32_t sipstreams_codec_decode(void *state, const uint8_t *payload, int32_t length, int16_t *pcm, int32_t capacity)
{
	g726_state *s = state;
	if (length * 2 > capacity)
		return SIPSTREAMS_CODEC_CORRUPT_PAYLOAD;
	for (int32_t i = 0; i < length; i++) {
#ifdef G726_PACKING_AAL2
		pcm[2 * i] = decode_code(s, payload[i] >> 4);
		pcm[2 * i + 1] = decode_code(s, payload[i] & 0x0F);
#else
		pcm[2 * i] = decode_code(s, payload[i] & 0x0F);
		pcm[2 * i + 1] = decode_code(s, payload[i] >> 4);
#endif
	}
	return length * 2;
}
