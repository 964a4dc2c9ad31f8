package tone

import (
	"errors"
	"math"
	"testing"
	"time"
)

// amplitude returns the amplitude of freq in x by the Goertzel algorithm.
func amplitude(x []int16, rate int, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(s1*s1+s2*s2-c*s1*s2) / float64(len(x))
}

func render(t *testing.T, g *Generator, frames int) []int16 {
	t.Helper()
	n := g.SampleRate() / 50
	out := make([]int16, 0, frames*n)
	frame := make([]int16, n)
	for i := 0; i < frames; i++ {
		g.Fill(frame)
		out = append(out, frame...)
	}
	return out
}

func TestDTMF(t *testing.T) {
	tests := []struct {
		digit  rune
		f1, f2 float64
	}{
		{'1', 697, 1209}, {'2', 697, 1336}, {'3', 697, 1477}, {'A', 697, 1633},
		{'4', 770, 1209}, {'5', 770, 1336}, {'6', 770, 1477}, {'B', 770, 1633},
		{'7', 852, 1209}, {'8', 852, 1336}, {'9', 852, 1477}, {'C', 852, 1633},
		{'*', 941, 1209}, {'0', 941, 1336}, {'#', 941, 1477}, {'D', 941, 1633},
		{'d', 941, 1633},
	}
	for _, tt := range tests {
		got, err := DTMF(tt.digit)
		if err != nil || got.F1 != tt.f1 || got.F2 != tt.f2 || got.Duration != DTMFDuration {
			t.Errorf("DTMF(%q) = %+v, %v; want %v+%v", tt.digit, got, err, tt.f1, tt.f2)
		}
	}
	for _, bad := range []rune{'E', 'x', ' ', '+'} {
		if _, err := DTMF(bad); !errors.Is(err, ErrInvalidDigit) {
			t.Errorf("DTMF(%q) = %v, want ErrInvalidDigit", bad, err)
		}
	}
}

func TestGeneratorFrequencies(t *testing.T) {
	tests := []struct {
		name    string
		rate    int
		tone    Tone
		present []float64
		absent  []float64
	}{
		{"440 at 8k", 8000, Tone{F1: 440, Duration: time.Second}, []float64{440}, []float64{880, 1000}},
		{"pair at 32k", 32000, Tone{F1: 350, F2: 440, Duration: time.Second}, []float64{350, 440}, []float64{1000}},
		{"dtmf 5 at 48k", 48000, Tone{F1: 770, F2: 1336, Duration: time.Second}, []float64{770, 1336}, []float64{697, 1209}},
		{"F2 only at 16k", 16000, Tone{F2: 1000, Duration: time.Second}, []float64{1000}, []float64{440}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := NewGenerator(tt.rate, WithVolume(100))
			g.Play(tt.tone)
			out := render(t, g, 40) // 800 ms, inside the tone
			want := 32767.0 / float64(len(tt.present))
			for _, f := range tt.present {
				if a := amplitude(out, tt.rate, f); math.Abs(a-want) > want*0.05 {
					t.Errorf("%v Hz amplitude %.0f, want about %.0f", f, a, want)
				}
			}
			for _, f := range tt.absent {
				if a := amplitude(out, tt.rate, f); a > 200 {
					t.Errorf("%v Hz amplitude %.0f, want about 0", f, a)
				}
			}
		})
	}
}

func TestGeneratorSequence(t *testing.T) {
	g, _ := NewGenerator(8000)
	g.Play(FromMillis([3]float64{440, 0, 40}, [3]float64{0, 0, 40}, [3]float64{1000, 0, 40})...)
	if !g.Playing() {
		t.Fatal("not playing after Play")
	}
	out := render(t, g, 7) // 140 ms: tone, pause, tone, 20 ms silence
	if g.Playing() {
		t.Error("still playing after the queue ran out")
	}
	parts := []struct {
		from, to int
		f        float64
		silent   bool
	}{
		{0, 320, 440, false}, {320, 640, 0, true}, {640, 960, 1000, false}, {960, 1120, 0, true},
	}
	for _, p := range parts {
		seg := out[p.from:p.to]
		if p.silent {
			for i, v := range seg {
				if v != 0 {
					t.Fatalf("sample %d = %d in a pause", p.from+i, v)
				}
			}
			continue
		}
		if a := amplitude(seg, 8000, p.f); a < 10000 {
			t.Errorf("samples %d..%d: %v Hz amplitude %.0f", p.from, p.to, p.f, a)
		}
	}
	// Fades: every tone starts and ends at zero.
	for _, i := range []int{0, 319, 640, 959} {
		if out[i] != 0 {
			t.Errorf("sample %d = %d, want 0 at a tone edge", i, out[i])
		}
	}
}

func TestGeneratorVolumeAndStop(t *testing.T) {
	g, _ := NewGenerator(16000, WithVolume(100))
	g.Play(Tone{F1: 500, Duration: time.Minute})
	loud := amplitude(render(t, g, 10), 16000, 500)
	g.SetVolume(25)
	quiet := amplitude(render(t, g, 10), 16000, 500)
	if r := quiet / loud; math.Abs(r-0.25) > 0.02 {
		t.Errorf("volume 25/100 gives amplitude ratio %.3f", r)
	}
	g.Stop()
	if g.Playing() {
		t.Error("Playing after Stop")
	}
	for i, v := range render(t, g, 2) {
		if v != 0 {
			t.Fatalf("sample %d = %d after Stop", i, v)
		}
	}
}

func TestPlayDTMF(t *testing.T) {
	g, _ := NewGenerator(8000)
	if err := g.PlayDTMF("1x"); !errors.Is(err, ErrInvalidDigit) || g.Playing() {
		t.Fatalf("PlayDTMF(1x) = %v, playing %v", err, g.Playing())
	}
	if err := g.PlayDTMF("#"); err != nil {
		t.Fatal(err)
	}
	out := render(t, g, 8) // 100 ms tone + 50 ms pause + 10 ms
	if g.Playing() {
		t.Error("still playing")
	}
	if a := amplitude(out[:800], 8000, 941); a < 5000 {
		t.Errorf("941 Hz amplitude %.0f", a)
	}
	if a := amplitude(out[:800], 8000, 1477); a < 5000 {
		t.Errorf("1477 Hz amplitude %.0f", a)
	}
	if _, err := NewGenerator(0); !errors.Is(err, ErrInvalidRate) {
		t.Errorf("NewGenerator(0) = %v", err)
	}
}

func BenchmarkFill(b *testing.B) {
	g, _ := NewGenerator(48000)
	frame := make([]int16, 960)
	for i := 0; i < b.N; i++ {
		if !g.Playing() {
			g.Play(Tone{F1: 350, F2: 440, Duration: time.Hour})
		}
		g.Fill(frame)
	}
}
