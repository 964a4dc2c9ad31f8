package codectest

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/codec"
)

// frames is how many packets the round trip runs (1 s at 20 ms).
const frames = 50

// Tone returns n samples of a sine of hz at rate with amplitude amp.
func Tone(hz float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return out
}

// Share is the share of the power of x at hz (Goertzel against the total):
// about 1 for a pure tone of hz, near 0 without it.
func Share(x []int16, rate int, hz float64) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	var re, im, total float64
	for i, v := range x {
		f := float64(v)
		re += f * math.Cos(w*float64(i))
		im -= f * math.Sin(w*float64(i))
		total += f * f
	}
	if total == 0 {
		return 0
	}
	return 2 * (re*re + im*im) / float64(len(x)) / total
}

// RMS is the root mean square of x.
func RMS(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / math.Max(1, float64(len(x))))
}

// toneHz is a tone well inside the codec's band.
func toneHz(info codec.Info) float64 { return math.Min(1000, float64(info.SampleRate)/8) }

// Run runs the conformance suite against c: each check is a subtest.
func Run(t *testing.T, c codec.Codec) {
	t.Helper()
	info := c.Info()
	t.Run("description", func(t *testing.T) {
		if err := info.Validate(); err != nil {
			t.Fatal(err)
		}
		if n := info.FrameSamples(); n <= 0 || n > codec.MaxIOSamples {
			t.Fatalf("%d samples per packet", n)
		}
		if info.TimestampStep() == 0 {
			t.Fatal("the RTP timestamp does not advance")
		}
	})
	t.Run("round trip", func(t *testing.T) { roundTrip(t, c) })
	t.Run("frame sizes", func(t *testing.T) { frameSizes(t, c) })
	t.Run("conceal", func(t *testing.T) { conceal(t, c) })
	t.Run("state isolation", func(t *testing.T) { isolation(t, c) })
}

func newPair(t *testing.T, c codec.Codec) (codec.Encoder, codec.Decoder) {
	t.Helper()
	enc, err := c.NewEncoder()
	if err != nil {
		t.Fatalf("NewEncoder: %v", err)
	}
	t.Cleanup(func() { _ = codec.Close(enc) })
	dec, err := c.NewDecoder()
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	t.Cleanup(func() { _ = codec.Close(dec) })
	return enc, dec
}

// encodeAll encodes pcm frame by frame.
func encodeAll(t *testing.T, enc codec.Encoder, pcm []int16, frame int) [][]byte {
	t.Helper()
	var out [][]byte
	for off := 0; off+frame <= len(pcm); off += frame {
		p, err := enc.Encode(pcm[off:off+frame], nil)
		if err != nil {
			t.Fatalf("encode frame at %d: %v", off, err)
		}
		out = append(out, p)
	}
	return out
}

func roundTrip(t *testing.T, c codec.Codec) {
	info := c.Info()
	n, hz := info.FrameSamples(), toneHz(info)
	in := Tone(hz, info.SampleRate, n*frames, 8000)
	enc, dec := newPair(t, c)
	var out []int16
	for i, p := range encodeAll(t, enc, in, n) {
		if len(p) == 0 {
			t.Fatalf("frame %d encoded to nothing", i)
		}
		before := len(out)
		var err error
		out, err = dec.Decode(p, out)
		if err != nil {
			t.Fatalf("decode frame %d: %v", i, err)
		}
		if got := len(out) - before; got != n {
			t.Fatalf("frame %d (%d bytes) decoded to %d samples, want %d", i, len(p), got, n)
		}
	}
	tail := out[len(out)/2:]
	if s := Share(tail, info.SampleRate, hz); s < 0.8 {
		t.Errorf("the %.0f Hz tone is %.2f of the decoded power, want most of it", hz, s)
	}
	if r := RMS(tail) / RMS(in[len(in)/2:]); r < 0.7 || r > 1.3 {
		t.Errorf("level out/in = %.2f, want about 1", r)
	}
}

// refused reports whether err is one of the refusals a codec may give for
// a block it cannot take.
func refused(err error) bool {
	return errors.Is(err, codec.ErrFrameSize) || errors.Is(err, codec.ErrCorruptPayload)
}

func frameSizes(t *testing.T, c codec.Codec) {
	info := c.Info()
	n := info.FrameSamples()
	enc, dec := newPair(t, c)
	// A whole frame, appended after what dst holds.
	prefix := []byte{0xA5}
	p, err := enc.Encode(Tone(toneHz(info), info.SampleRate, n, 4000), prefix)
	if err != nil || len(p) < 2 || p[0] != 0xA5 {
		t.Fatalf("Encode(frame, prefix) = %d bytes, %v: want the prefix then a payload", len(p), err)
	}
	payload := p[1:]
	pcm, err := dec.Decode(payload, []int16{7})
	if err != nil || len(pcm) != 1+n || pcm[0] != 7 {
		t.Fatalf("Decode(payload, prefix) = %d samples, %v: want the prefix then %d", len(pcm), err, n)
	}
	// Odd blocks and payloads: refused or taken, never a failed codec.
	for _, m := range []int{0, 1, n - 1, n + 1, n / 2} {
		if m < 0 {
			continue
		}
		if _, err := enc.Encode(make([]int16, m), nil); err != nil && !refused(err) {
			t.Errorf("Encode(%d samples) = %v, want success or codec.ErrFrameSize", m, err)
		}
	}
	for _, b := range [][]byte{nil, {0x00}, payload[:len(payload)-1], append(slices.Clone(payload), 0xFF), make([]byte, 3*len(payload))} {
		if _, err := dec.Decode(b, nil); err != nil && !refused(err) {
			t.Errorf("Decode(%d bytes) = %v, want success or codec.ErrCorruptPayload", len(b), err)
		}
	}
	// The codec still works after the odd calls.
	if _, err := enc.Encode(make([]int16, n), nil); err != nil {
		t.Errorf("Encode(frame) after odd blocks: %v", err)
	}
	if _, err := dec.Decode(payload, nil); err != nil {
		t.Errorf("Decode(payload) after odd payloads: %v", err)
	}
}

func conceal(t *testing.T, c codec.Codec) {
	info := c.Info()
	n := info.FrameSamples()
	enc, dec := newPair(t, c)
	// Before anything was decoded, and after a frame.
	if pcm, err := dec.Conceal(nil); err != nil || len(pcm) != n {
		t.Errorf("Conceal before any packet = %d samples, %v; want %d", len(pcm), err, n)
	}
	for _, p := range encodeAll(t, enc, Tone(toneHz(info), info.SampleRate, 3*n, 6000), n) {
		if _, err := dec.Decode(p, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < codec.FadeFrames+1; i++ {
		if pcm, err := dec.Conceal([]int16{7}); err != nil || len(pcm) != 1+n || pcm[0] != 7 {
			t.Fatalf("Conceal %d = %d samples, %v; want the prefix then %d", i, len(pcm), err, n)
		}
	}
}

// isolation: two states of each kind used in turn give what one alone
// gives, so no state is shared between streams.
func isolation(t *testing.T, c codec.Codec) {
	info := c.Info()
	n := info.FrameSamples()
	a := Tone(toneHz(info), info.SampleRate, 10*n, 7000)
	b := Tone(toneHz(info)/2, info.SampleRate, 10*n, 12000)
	for i := range b {
		b[i] ^= int16(i * 7919 % 251) // not a pure tone
	}
	alone := func(pcm []int16) ([][]byte, []int16) {
		enc, dec := newPair(t, c)
		ps := encodeAll(t, enc, pcm, n)
		var out []int16
		for _, p := range ps {
			var err error
			if out, err = dec.Decode(p, out); err != nil {
				t.Fatal(err)
			}
		}
		return ps, out
	}
	wantA, outA := alone(a)
	wantB, outB := alone(b)

	encA, decA := newPair(t, c)
	encB, decB := newPair(t, c)
	var gotOutA, gotOutB []int16
	for i := 0; i < 10; i++ {
		pa, err := encA.Encode(a[i*n:(i+1)*n], nil)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := encB.Encode(b[i*n:(i+1)*n], nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pa, wantA[i]) || !slices.Equal(pb, wantB[i]) {
			t.Fatalf("frame %d: two encoders used in turn differ from one alone: the encoders share state", i)
		}
		if gotOutB, err = decB.Decode(pb, gotOutB); err != nil {
			t.Fatal(err)
		}
		if gotOutA, err = decA.Decode(pa, gotOutA); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(gotOutA, outA) || !slices.Equal(gotOutB, outB) {
		t.Fatal("two decoders used in turn differ from one alone: the decoders share state")
	}
}
