package builtin

import (
	"bytes"
	"encoding/binary"
	"errors"
	codec "github.com/sipstreams/sipstreams/sdk/codec"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/hraban/opus.v2"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/spectrum"
)

func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// snrAligned returns the best signal-to-noise ratio in dB of got against
// want over lags 0..maxLag (codecs delay the signal), comparing want[i] with
// got[i+lag] from skip on.
func snrAligned(want, got []int16, skip, maxLag int) (best float64, bestLag int) {
	best = math.Inf(-1)
	for lag := 0; lag <= maxLag; lag++ {
		var sig, noise float64
		for i := skip; i+lag < len(got) && i < len(want); i++ {
			w, g := float64(want[i]), float64(got[i+lag])
			sig += w * w
			noise += (w - g) * (w - g)
		}
		snr := 10 * math.Log10(sig/math.Max(noise, 1e-9))
		if snr > best {
			best, bestLag = snr, lag
		}
	}
	return best, bestLag
}

// roundTrip encodes pcm frame by frame with c and decodes each payload.
func roundTrip(t testing.TB, c codec.Codec, pcm []int16) []int16 {
	t.Helper()
	enc, err := c.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	frame := c.Info().FrameSamples()
	var out []int16
	var payload []byte
	for off := 0; off+frame <= len(pcm); off += frame {
		payload, err = enc.Encode(pcm[off:off+frame], payload[:0])
		if err != nil {
			t.Fatalf("encode frame at %d: %v", off, err)
		}
		before := len(out)
		out, err = dec.Decode(payload, out)
		if err != nil {
			t.Fatalf("decode frame at %d: %v", off, err)
		}
		if got := len(out) - before; got != frame {
			t.Fatalf("frame at %d decoded to %d samples, want %d", off, got, frame)
		}
	}
	return out
}

func TestRoundTripSine(t *testing.T) {
	tests := []struct {
		name   string
		minSNR float64 // dB after aligning the codec delay
		maxLag int     // samples of codec delay to search
	}{
		{"PCMU", 40, 0},
		{"PCMA", 35, 0},
		{"G722", 40, 32},
		// Opus is a perceptual codec: its waveform follows the input
		// loosely (about 16 dB here), the spectrum and level closely.
		{"opus", 12, 400},
	}
	reg := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := reg.Lookup(tt.name)
			if !ok {
				t.Fatalf("Lookup(%q) failed", tt.name)
			}
			rate := c.Info().SampleRate
			in := sine(1000, rate, rate, 8000) // 1 s
			out := roundTrip(t, c, in)
			tail := out[len(out)/2:]
			freq, _ := spectrum.Dominant(tail, rate)
			if math.Abs(freq-1000) > 2 {
				t.Errorf("dominant frequency after round trip = %.2f Hz, want 1000", freq)
			}
			inRMS, outRMS := spectrum.RMS(in[len(in)/2:]), spectrum.RMS(tail)
			if r := outRMS / inRMS; r < 0.8 || r > 1.2 {
				t.Errorf("level ratio out/in = %.3f, want about 1", r)
			}
			// Little energy outside the tone: the 1 kHz component
			// carries almost all of the output.
			if g := spectrum.Goertzel(tail, rate, 1000); g < 0.9*8000 {
				t.Errorf("1 kHz component %.0f, want about 8000", g)
			}
			if snr, lag := snrAligned(in, out, rate/10, tt.maxLag); snr < tt.minSNR {
				t.Errorf("SNR = %.1f dB (lag %d), want >= %.0f", snr, lag, tt.minSNR)
			}
		})
	}
}

// TestRoundTripDualTone sends the DTMF digit 5 (770 + 1336 Hz) in band
// through every codec: both tones survive and a DTMF frequency that was not
// sent stays absent.
func TestRoundTripDualTone(t *testing.T) {
	for _, c := range Default().Codecs() {
		info := c.Info()
		t.Run(info.Name, func(t *testing.T) {
			rate := info.SampleRate
			in := sine(770, rate, rate/2, 6000)
			for i, s := range sine(1336, rate, rate/2, 6000) {
				in[i] += s
			}
			out := roundTrip(t, c, in)
			tail := out[len(out)/2:]
			for _, f := range []float64{770, 1336} {
				if g := spectrum.Goertzel(tail, rate, f); g < 5000 || g > 7000 {
					t.Errorf("%v Hz component %.0f, want about 6000", f, g)
				}
			}
			for _, f := range []float64{697, 1209, 1477} {
				if g := spectrum.Goertzel(tail, rate, f); g > 300 {
					t.Errorf("%v Hz (not sent) component %.0f, want < 300", f, g)
				}
			}
		})
	}
}

func readPCM(t *testing.T, name string) []int16 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)/2)
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestG722MatchesReference checks bit exactness against spandsp (the G.722
// that baresip uses), on the vectors testdata/g722ref/gen.c wrote.
func TestG722MatchesReference(t *testing.T) {
	in := readPCM(t, "g722ref/input.pcm")
	wantCode := readGolden(t, "g722ref/encoded.g722")
	wantPCM := readPCM(t, "g722ref/decoded.pcm")

	enc, _ := G722().NewEncoder()
	var code []byte
	var err error
	for off := 0; off < len(in); off += 320 {
		if code, err = enc.Encode(in[off:min(off+320, len(in))], code); err != nil {
			t.Fatal(err)
		}
	}
	if i := firstDiff(code, wantCode); i >= 0 {
		t.Fatalf("encoded byte %d of %d differs: got %#02x, want %#02x", i, len(wantCode), at(code, i), at(wantCode, i))
	}

	dec, _ := G722().NewDecoder()
	var pcm []int16
	for off := 0; off < len(wantCode); off += 160 {
		if pcm, err = dec.Decode(wantCode[off:min(off+160, len(wantCode))], pcm); err != nil {
			t.Fatal(err)
		}
	}
	if len(pcm) != len(wantPCM) {
		t.Fatalf("decoded %d samples, want %d", len(pcm), len(wantPCM))
	}
	// spandsp 0.0.6 casts the receive QMF output to int16 without the
	// limiter, so full-scale peaks wrap around there; this decoder
	// saturates as the standard says. Those samples, and only those, may
	// differ.
	wrapped := 0
	for i, got := range pcm {
		want := wantPCM[i]
		switch {
		case got == want:
		case got == 32767 && want < 0, got == -32768 && want > 0:
			wrapped++
		default:
			t.Fatalf("decoded sample %d of %d differs: got %d, want %d", i, len(wantPCM), got, want)
		}
	}
	if wrapped > len(pcm)/40 {
		t.Fatalf("%d saturated samples, more than the square wave section explains", wrapped)
	}
}

func firstDiff[T comparable](a, b []T) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func at[T any](s []T, i int) T {
	var zero T
	if i < len(s) {
		return s[i]
	}
	return zero
}

func TestG722Stable(t *testing.T) {
	tests := []struct {
		name   string
		in     []int16
		maxAbs int16   // largest output sample in the second half; 0 skips
		minSNR float64 // dB; 0 skips
	}{
		{"silence", make([]int16, 16000*5), 4, 0},
		{"quiet 300 Hz", sine(300, 16000, 16000*5, 50), 0, 18},
		{"1 kHz", sine(1000, 16000, 16000*5, 8000), 0, 40},
		{"6 kHz high band", sine(6000, 16000, 16000*5, 8000), 0, 22},
		{"near full scale 440 Hz", sine(440, 16000, 16000*5, 30000), 0, 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := roundTrip(t, G722(), tt.in)
			half := len(out) / 2
			if tt.maxAbs > 0 {
				for i, s := range out[half:] {
					if s > tt.maxAbs || s < -tt.maxAbs {
						t.Fatalf("sample %d = %d, want |s| <= %d", half+i, s, tt.maxAbs)
					}
				}
			}
			if tt.minSNR > 0 {
				if snr, lag := snrAligned(tt.in, out, half, 64); snr < tt.minSNR {
					t.Fatalf("SNR over the last half = %.1f dB (lag %d), want >= %.0f", snr, lag, tt.minSNR)
				}
			}
		})
	}
}

func TestG711Golden(t *testing.T) {
	tests := []struct {
		name           string
		compress       func(int16) byte
		expand         func(byte) int16
		encode, decode string
	}{
		{"ulaw", LinearToUlaw, UlawToLinear, "g711_ulaw_encode.golden", "g711_ulaw_decode.golden"},
		{"alaw", LinearToAlaw, AlawToLinear, "g711_alaw_encode.golden", "g711_alaw_decode.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := readGolden(t, tt.encode)
			for v := -32768; v <= 32767; v++ {
				if got, want := tt.compress(int16(v)), enc[v+32768]; got != want {
					t.Fatalf("compress(%d) = %#02x, want %#02x", v, got, want)
				}
			}
			dec := readPCM(t, tt.decode)
			for c := 0; c < 256; c++ {
				if got, want := tt.expand(byte(c)), dec[c]; got != want {
					t.Fatalf("expand(%#02x) = %d, want %d", c, got, want)
				}
			}
		})
	}
}

func TestG711KnownValues(t *testing.T) {
	// Values from ITU-T G.711 Tables 1a/2a: the code for zero, the
	// largest magnitudes, and the first decision steps.
	tests := []struct {
		in         int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{1, 0xFF, 0xD5},
		{-1, 0x7E, 0x55},
		{100, 0xF2, 0xD3},
		{-100, 0x72, 0x53},
		{1000, 0xCE, 0xFA},
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
	}
	for _, tt := range tests {
		if got := LinearToUlaw(tt.in); got != tt.ulaw {
			t.Errorf("LinearToUlaw(%d) = %#02x, want %#02x", tt.in, got, tt.ulaw)
		}
		if got := LinearToAlaw(tt.in); got != tt.alaw {
			t.Errorf("LinearToAlaw(%d) = %#02x, want %#02x", tt.in, got, tt.alaw)
		}
	}
	expand := []struct {
		code       byte
		ulaw, alaw int16
	}{
		{0x00, -32124, -5504},
		{0x80, 32124, 5504},
		{0xFF, 0, 848},
		{0x7F, 0, -848},
		{0xD5, 716, 8},
		{0x55, -716, -8},
		{0x2A, -5372, -32256},
		{0xAA, 5372, 32256},
	}
	for _, tt := range expand {
		if got := UlawToLinear(tt.code); got != tt.ulaw {
			t.Errorf("UlawToLinear(%#02x) = %d, want %d", tt.code, got, tt.ulaw)
		}
		if got := AlawToLinear(tt.code); got != tt.alaw {
			t.Errorf("AlawToLinear(%#02x) = %d, want %d", tt.code, got, tt.alaw)
		}
	}
}

func TestConceal(t *testing.T) {
	for _, c := range Default().Codecs() {
		info := c.Info()
		t.Run(info.Name, func(t *testing.T) {
			frame := info.FrameSamples()
			dec, err := c.NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			// Before any packet: one frame (silence for the faders).
			out, err := dec.Conceal(nil)
			if err != nil || len(out) != frame {
				t.Fatalf("Conceal before any packet: %d samples, %v; want %d", len(out), err, frame)
			}
			enc, _ := c.NewEncoder()
			in := sine(1000, info.SampleRate, frame*10, 8000)
			var payload []byte
			for off := 0; off < len(in); off += frame {
				payload, _ = enc.Encode(in[off:off+frame], payload[:0])
				if _, err := dec.Decode(payload, nil); err != nil {
					t.Fatal(err)
				}
			}
			var levels []float64
			for i := 0; i < codec.FadeFrames+1; i++ {
				out, err := dec.Conceal(nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != frame {
					t.Fatalf("concealed frame %d has %d samples, want %d", i, len(out), frame)
				}
				levels = append(levels, spectrum.RMS(out))
			}
			if levels[0] < 1000 {
				t.Errorf("first concealed frame RMS %.0f: want the tone continued", levels[0])
			}
			for i := 1; i < len(levels); i++ {
				if levels[i] > levels[i-1]+1 {
					t.Errorf("concealment level rose from %.0f to %.0f at frame %d", levels[i-1], levels[i], i)
				}
			}
			if info.Name != "opus" && levels[codec.FadeFrames] != 0 {
				t.Errorf("after %d concealed frames RMS = %.0f, want silence", codec.FadeFrames, levels[codec.FadeFrames])
			}
		})
	}
}

func TestOpusFEC(t *testing.T) {
	c := Opus()
	enc, _ := c.NewEncoder()
	d, _ := c.NewDecoder()
	dec, ok := d.(codec.FECDecoder)
	if !ok {
		t.Fatal("opus decoder does not implement codec.FECDecoder")
	}
	in := sine(1000, 48000, 48000, 8000)
	var packets [][]byte
	for off := 0; off < len(in); off += 960 {
		p, err := enc.Encode(in[off:off+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, p)
	}
	// Lose every fifth packet and rebuild it from the next one.
	var out []int16
	var err error
	for i, p := range packets {
		if i%5 == 4 && i+1 < len(packets) {
			out, err = dec.DecodeFEC(packets[i+1], out)
		} else {
			out, err = dec.Decode(p, out)
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if len(out) != 960*len(packets) {
		t.Fatalf("decoded %d samples, want %d", len(out), 960*len(packets))
	}
	if f, _ := spectrum.Dominant(out[24000:], 48000); math.Abs(f-1000) > 2 {
		t.Fatalf("dominant frequency with FEC = %.1f Hz", f)
	}
}

func TestFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		c    codec.Codec
		pcm  []int16
	}{
		{"G722 odd", G722(), make([]int16, 321)},
		{"opus 7 ms", Opus(), make([]int16, 336)},
		{"opus empty", Opus(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, _ := tt.c.NewEncoder()
			if _, err := enc.Encode(tt.pcm, nil); !errors.Is(err, codec.ErrFrameSize) {
				t.Fatalf("Encode error = %v, want codec.ErrFrameSize", err)
			}
		})
	}
	dec, _ := Opus().NewDecoder()
	// TOC code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5).
	for _, p := range [][]byte{nil, {0x03, 0x00}} {
		if _, err := dec.Decode(p, nil); !errors.Is(err, codec.ErrCorruptPayload) {
			t.Errorf("Decode(%x) error = %v, want codec.ErrCorruptPayload", p, err)
		}
	}
}

func TestInfo(t *testing.T) {
	tests := []struct {
		c                  codec.Codec
		rtpmap             string
		pt, frame          int
		step               uint32
		fmtpHas            string
		ptime              time.Duration
		clockRate, pcmRate int
	}{
		{PCMU(), "PCMU/8000", 0, 160, 160, "", 20 * time.Millisecond, 8000, 8000},
		{PCMA(), "PCMA/8000", 8, 160, 160, "", 20 * time.Millisecond, 8000, 8000},
		{G722(), "G722/8000", 9, 320, 160, "", 20 * time.Millisecond, 8000, 16000},
		{Opus(), "opus/48000/2", codec.DynamicPayloadType, 960, 960, "useinbandfec=1", 20 * time.Millisecond, 48000, 48000},
	}
	for _, tt := range tests {
		i := tt.c.Info()
		t.Run(i.Name, func(t *testing.T) {
			if err := i.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := i.RTPMap(); got != tt.rtpmap {
				t.Errorf("RTPMap = %q, want %q", got, tt.rtpmap)
			}
			if i.PayloadType != tt.pt {
				t.Errorf("PayloadType = %d, want %d", i.PayloadType, tt.pt)
			}
			if got := i.FrameSamples(); got != tt.frame {
				t.Errorf("FrameSamples = %d, want %d", got, tt.frame)
			}
			if got := i.TimestampStep(); got != tt.step {
				t.Errorf("TimestampStep = %d, want %d", got, tt.step)
			}
			if got := i.Packet(); got != tt.ptime {
				t.Errorf("Packet = %v, want %v", got, tt.ptime)
			}
			if i.ClockRate != tt.clockRate || i.SampleRate != tt.pcmRate {
				t.Errorf("rates %d/%d, want %d/%d", i.ClockRate, i.SampleRate, tt.clockRate, tt.pcmRate)
			}
			if !strings.Contains(i.FMTP, tt.fmtpHas) {
				t.Errorf("FMTP = %q, want it to contain %q", i.FMTP, tt.fmtpHas)
			}
		})
	}
}

func benchmarkCodec(b *testing.B, c codec.Codec) {
	info := c.Info()
	pcm := sine(1000, info.SampleRate, info.FrameSamples(), 8000)
	b.Run("encode", func(b *testing.B) {
		enc, _ := c.NewEncoder()
		var out []byte
		for b.Loop() {
			out, _ = enc.Encode(pcm, out[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		enc, _ := c.NewEncoder()
		payload, _ := enc.Encode(pcm, nil)
		dec, _ := c.NewDecoder()
		var out []int16
		for b.Loop() {
			out, _ = dec.Decode(payload, out[:0])
		}
	})
}

func BenchmarkPCMU(b *testing.B) { benchmarkCodec(b, PCMU()) }
func BenchmarkPCMA(b *testing.B) { benchmarkCodec(b, PCMA()) }
func BenchmarkG722(b *testing.B) { benchmarkCodec(b, G722()) }
func BenchmarkOpus(b *testing.B) { benchmarkCodec(b, Opus()) }

// TestOpusDecodesStereoPackets: a peer may send stereo Opus on
// opus/48000/2 (baresip does by default); the decoder downmixes to mono.
func TestOpusDecodesStereoPackets(t *testing.T) {
	enc, err := opus.NewEncoder(48000, 2, opus.AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Opus().NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	mono := sine(1000, 48000, 48000, 8000)
	stereo := make([]int16, 2*len(mono))
	for i, s := range mono {
		stereo[2*i], stereo[2*i+1] = s, s
	}
	buf := make([]byte, 4000)
	var out []int16
	for off := 0; off < len(stereo); off += 2 * 960 {
		n, err := enc.Encode(stereo[off:off+2*960], buf)
		if err != nil {
			t.Fatal(err)
		}
		before := len(out)
		if out, err = dec.Decode(buf[:n], out); err != nil {
			t.Fatal(err)
		}
		if len(out)-before != 960 {
			t.Fatalf("stereo packet decoded to %d samples, want 960 mono", len(out)-before)
		}
	}
	tail := out[len(out)/2:]
	if f, _ := spectrum.Dominant(tail, 48000); math.Abs(f-1000) > 2 {
		t.Fatalf("dominant %.1f Hz, want 1000", f)
	}
	if r := spectrum.RMS(tail) / spectrum.RMS(mono); r < 0.8 || r > 1.2 {
		t.Fatalf("level ratio %.2f, want about 1", r)
	}
}

// The G.711 tables give what the arithmetic gives, for every sample and
// every byte.
func TestG711Tables(t *testing.T) {
	for _, tt := range []struct {
		name     string
		c        codec.Codec
		compress func(int16) byte
		expand   func(byte) int16
	}{
		{"PCMU", PCMU(), LinearToUlaw, UlawToLinear},
		{"PCMA", PCMA(), LinearToAlaw, AlawToLinear},
	} {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := tt.c.NewEncoder()
			if err != nil {
				t.Fatal(err)
			}
			dec, err := tt.c.NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			pcm := make([]int16, 1<<16)
			for i := range pcm {
				pcm[i] = int16(i - 1<<15)
			}
			got, err := enc.Encode(pcm, []byte{0xAA})
			if err != nil || len(got) != 1+len(pcm) || got[0] != 0xAA {
				t.Fatalf("Encode: %d bytes, %v", len(got), err)
			}
			for i, s := range pcm {
				if want := tt.compress(s); got[1+i] != want {
					t.Fatalf("Encode(%d) = %#02x, want %#02x", s, got[1+i], want)
				}
			}
			all := make([]byte, 256)
			for i := range all {
				all[i] = byte(i)
			}
			samples, err := dec.Decode(all, []int16{7})
			if err != nil || len(samples) != 257 || samples[0] != 7 {
				t.Fatalf("Decode: %d samples, %v", len(samples), err)
			}
			for b := range 256 {
				if want := tt.expand(byte(b)); samples[1+b] != want {
					t.Fatalf("Decode(%#02x) = %d, want %d", b, samples[1+b], want)
				}
			}
		})
	}
}
