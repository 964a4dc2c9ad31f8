package builtin

import (
	"fmt"

	codec "github.com/sipstreams/sipstreams/sdk/codec"
)

// G.722 (ITU-T G.722, RFC 3551 §4.5.2) at 64 kbit/s: 16 kHz PCM split by a
// 24-tap QMF into two 8 kHz sub-bands, the low band coded with 6-bit and
// the high band with 2-bit adaptive differential PCM; one byte carries one
// pair of sub-band samples (two PCM samples). The RTP clock is 8000 although
// the PCM is sampled at 16000, an error in RFC 1890 kept for compatibility.
//
// The arithmetic follows the block diagram of the standard (SUBTRA, QUANTL,
// INVQAL, LOGSCL, SCALEL, and the shared predictor of block 4: RECONS,
// PARREC, UPPOL1/2, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC) in 32-bit
// integers with the standard's 16-bit saturation.

// G722 returns the G.722 codec (static payload type 9).
func G722() codec.Codec {
	return &staticCodec{
		info: codec.Info{Name: "G722", PayloadType: 9, ClockRate: 8000, SampleRate: 16000, Channels: 1},
		newEnc: func(codec.Info) (codec.Encoder, error) {
			return newG722Encoder(), nil
		},
		newDec: func(i codec.Info) (codec.Decoder, error) {
			return &g722Decoder{state: newG722State(), fader: codec.Fader{Frame: i.FrameSamples()}}, nil
		},
	}
}

// sat16 saturates v to the int16 range, as the standard's LIMIT does.
func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// g722Band is the adaptive predictor and quantiser scale state of one
// sub-band.
type g722Band struct {
	s   int32    // predicted signal
	sp  int32    // pole section of the prediction
	sz  int32    // zero section of the prediction
	r   [3]int32 // reconstructed signal, now and two past
	a   [3]int32 // pole predictor coefficients a1, a2
	ap  [3]int32
	p   [3]int32 // partial reconstructed signal, now and two past
	d   [7]int32 // quantised difference signal, now and six past
	b   [7]int32 // zero predictor coefficients b1..b6
	bp  [7]int32
	sg  [7]int32 // signs
	nb  int32    // log scale factor
	det int32    // quantiser scale factor
}

// update runs block 4 of the standard with the quantised difference d:
// reconstruct, adapt the pole and zero predictors, shift the delay lines and
// compute the next prediction s.
func (b *g722Band) update(d int32) {
	// RECONS and PARREC.
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2: second pole coefficient.
	for i := 0; i < 3; i++ {
		b.sg[i] = b.p[i] >> 15
	}
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if b.sg[0] == b.sg[1] {
		wd2 = -wd1
	}
	if wd2 > 32767 {
		wd2 = 32767
	}
	wd3 := wd2 >> 7
	if b.sg[0] == b.sg[2] {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	wd3 += (b.a[2] * 32512) >> 15
	wd3 = min(max(wd3, -12288), 12288)
	b.ap[2] = wd3

	// UPPOL1: first pole coefficient, limited by the second.
	b.sg[0] = b.p[0] >> 15
	b.sg[1] = b.p[1] >> 15
	wd1 = -192
	if b.sg[0] == b.sg[1] {
		wd1 = 192
	}
	wd2 = (b.a[1] * 32640) >> 15
	b.ap[1] = sat16(wd1 + wd2)
	wd3 = sat16(15360 - b.ap[2])
	b.ap[1] = min(max(b.ap[1], -wd3), wd3)

	// UPZERO: sign-sign adaptation of the six zero coefficients.
	wd1 = 128
	if d == 0 {
		wd1 = 0
	}
	b.sg[0] = d >> 15
	for i := 1; i < 7; i++ {
		b.sg[i] = b.d[i] >> 15
		wd2 = -wd1
		if b.sg[i] == b.sg[0] {
			wd2 = wd1
		}
		wd3 = (b.b[i] * 32640) >> 15
		b.bp[i] = sat16(wd2 + wd3)
	}

	// DELAYA.
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP: pole section.
	wd1 = sat16(b.r[1] + b.r[1])
	wd1 = (b.a[1] * wd1) >> 15
	wd2 = sat16(b.r[2] + b.r[2])
	wd2 = (b.a[2] * wd2) >> 15
	b.sp = sat16(wd1 + wd2)

	// FILTEZ: zero section.
	var sz int32
	for i := 6; i > 0; i-- {
		wd1 = sat16(b.d[i] + b.d[i])
		sz += (b.b[i] * wd1) >> 15
	}
	b.sz = sat16(sz)

	// PREDIC.
	b.s = sat16(b.sp + b.sz)
}

// scale turns the log scale factor nb into the linear det (SCALEL with
// shift 8 for the low band, SCALEH with shift 10 for the high band).
func g722Scale(nb, shift int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := shift - (nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = g722ILB[wd1] << -wd2
	} else {
		wd3 = g722ILB[wd1] >> wd2
	}
	return wd3 << 2
}

// adaptLow runs INVQAL, LOGSCL, SCALEL and block 4 for the low band with the
// 4 most significant bits of the 6-bit code (shared by coder and decoder).
func (b *g722Band) adaptLow(ril int32) {
	dlow := (b.det * g722QM4[ril]) >> 15
	nb := (b.nb*127)>>7 + g722WL[g722RL42[ril]]
	b.nb = min(max(nb, 0), 18432)
	b.det = g722Scale(b.nb, 8)
	b.update(dlow)
}

// adaptHigh runs INVQAH, LOGSCH, SCALEH and block 4 for the high band and
// returns the quantised difference dhigh.
func (b *g722Band) adaptHigh(ihigh int32) int32 {
	dhigh := (b.det * g722QM2[ihigh]) >> 15
	nb := (b.nb*127)>>7 + g722WH[g722RH2[ihigh]]
	b.nb = min(max(nb, 0), 22528)
	b.det = g722Scale(b.nb, 10)
	b.update(dhigh)
	return dhigh
}

// g722State is the state shared by coder and decoder: the QMF delay line and
// the two bands.
type g722State struct {
	x    [24]int32
	band [2]g722Band
}

func newG722State() g722State {
	var s g722State
	s.band[0].det = 32
	s.band[1].det = 8
	return s
}

type g722Encoder struct {
	state g722State
}

func newG722Encoder() *g722Encoder {
	return &g722Encoder{state: newG722State()}
}

// Encode codes pairs of 16 kHz samples into one byte each; len(pcm) must be
// even.
func (e *g722Encoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	if len(pcm)%2 != 0 {
		return dst, fmt.Errorf("g722: encode %d samples (must be even): %w", len(pcm), codec.ErrFrameSize)
	}
	s := &e.state
	for j := 0; j < len(pcm); j += 2 {
		// Transmit QMF: shift in two samples, split into bands.
		copy(s.x[:22], s.x[2:])
		s.x[22] = int32(pcm[j])
		s.x[23] = int32(pcm[j+1])
		var sumOdd, sumEven int32
		for i := 0; i < 12; i++ {
			sumOdd += s.x[2*i] * g722QMF[i]
			sumEven += s.x[2*i+1] * g722QMF[11-i]
		}
		xlow := (sumEven + sumOdd) >> 14
		xhigh := (sumEven - sumOdd) >> 14

		// Low band: SUBTRA and QUANTL.
		lo := &s.band[0]
		el := sat16(xlow - lo.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		i := 1
		for ; i < 30; i++ {
			if wd < (g722Q6[i]*lo.det)>>12 {
				break
			}
		}
		ilow := g722ILP[i]
		if el < 0 {
			ilow = g722ILN[i]
		}
		lo.adaptLow(ilow >> 2)

		// High band: SUBTRA and QUANTH.
		hi := &s.band[1]
		eh := sat16(xhigh - hi.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*hi.det)>>12 {
			mih = 2
		}
		ihigh := g722IHP[mih]
		if eh < 0 {
			ihigh = g722IHN[mih]
		}
		hi.adaptHigh(ihigh)

		dst = append(dst, byte(ihigh<<6|ilow))
	}
	return dst, nil
}

type g722Decoder struct {
	state g722State
	fader codec.Fader
}

// Decode expands each byte into two 16 kHz samples.
func (d *g722Decoder) Decode(payload []byte, dst []int16) ([]int16, error) {
	start := len(dst)
	s := &d.state
	for _, code := range payload {
		ilow := int32(code & 0x3F)
		ihigh := int32(code>>6) & 0x03

		// Low band: INVQBL with all six bits, RECONS, LIMIT; then adapt
		// with the four most significant bits as the coder did.
		lo := &s.band[0]
		rlow := lo.s + (lo.det*g722QM6[ilow])>>15
		rlow = min(max(rlow, -16384), 16383)
		lo.adaptLow(ilow >> 2)

		// High band: INVQAH, RECONS, LIMIT, adapt.
		hi := &s.band[1]
		dhigh := hi.adaptHighPreview(ihigh)
		rhigh := hi.s + dhigh
		rhigh = min(max(rhigh, -16384), 16383)
		hi.adaptHigh(ihigh)

		// Receive QMF.
		copy(s.x[:22], s.x[2:])
		s.x[22] = rlow + rhigh
		s.x[23] = rlow - rhigh
		var out1, out2 int32
		for i := 0; i < 12; i++ {
			out2 += s.x[2*i] * g722QMF[i]
			out1 += s.x[2*i+1] * g722QMF[11-i]
		}
		dst = append(dst, int16(sat16(out1>>11)), int16(sat16(out2>>11)))
	}
	d.fader.Remember(dst[start:])
	return dst, nil
}

// adaptHighPreview returns the quantised high-band difference for ihigh
// without changing the state.
func (b *g722Band) adaptHighPreview(ihigh int32) int32 {
	return (b.det * g722QM2[ihigh]) >> 15
}

func (d *g722Decoder) Conceal(dst []int16) ([]int16, error) {
	return d.fader.Conceal(dst), nil
}
