package baresiptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mix returns the sum of two sines plus uniform noise of amplitude noise.
func mix(rate int, seconds float64, hz1, amp1, hz2, amp2, noise float64) PCM {
	n := int(seconds * float64(rate))
	p := PCM{Rate: rate, Channels: 1, Samples: make([]int16, n)}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		t := float64(i) / float64(rate)
		v := amp1*math.Sin(2*math.Pi*hz1*t) + amp2*math.Sin(2*math.Pi*hz2*t) + noise*(2*r.Float64()-1)
		p.Samples[i] = int16(math.Round(32767 * math.Max(-1, math.Min(1, v))))
	}
	return p
}

func TestAnalyze(t *testing.T) {
	cases := []struct {
		name string
		in   PCM
		hz   float64 // want Dominant within 1 Hz
		err  error
	}{
		{"440 Hz at 8 kHz", Sine(440, 8000, 1, 1, 0.5), 440, nil},
		{"1000 Hz at 8 kHz", Sine(1000, 8000, 1, 2, 0.5), 1000, nil},
		{"1000 Hz at 16 kHz", Sine(1000, 16000, 1, 1, 0.5), 1000, nil},
		{"440 Hz at 48 kHz stereo", Sine(440, 48000, 2, 1, 0.5), 440, nil},
		{"between bins", Sine(1234.5, 8000, 1, 1, 0.5), 1234.5, nil},
		{"3400 Hz near Nyquist", Sine(3400, 8000, 1, 1, 0.5), 3400, nil},
		{"short window", Sine(1000, 8000, 1, 0.05, 0.5), 1000, nil},
		{"quiet tone", Sine(697, 8000, 1, 1, 0.001), 697, nil},
		{"stronger of two tones", mix(8000, 1, 440, 0.2, 1000, 0.5, 0), 1000, nil},
		{"stronger of two tones, other way", mix(8000, 1, 440, 0.5, 1000, 0.2, 0), 440, nil},
		{"tone in noise", mix(8000, 1, 1000, 0.3, 0, 0, 0.3), 1000, nil},
		{"silence", PCM{Rate: 8000, Channels: 1, Samples: make([]int16, 8000)}, 0, ErrSilent},
		{"too short", Sine(440, 8000, 1, 0.01, 0.5), 0, ErrTooShort},
		{"empty", PCM{Rate: 8000, Channels: 1}, 0, ErrTooShort},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Analyze(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Analyze: %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			tol := math.Max(1, a.Resolution/4)
			if math.Abs(a.Dominant-tc.hz) > tol {
				t.Errorf("Dominant = %.2f Hz, want %.2f ± %.2f (bins of %.2f Hz)", a.Dominant, tc.hz, tol, a.Resolution)
			}
		})
	}
}

func TestAnalyzeRMS(t *testing.T) {
	for _, amp := range []float64{0.01, 0.1, 0.5, 0.9} {
		a, err := Analyze(Sine(1000, 8000, 1, 1, amp))
		if err != nil {
			t.Fatal(err)
		}
		if want := amp / math.Sqrt2; math.Abs(a.RMS-want) > 0.001 {
			t.Errorf("amplitude %.2f: RMS %.4f, want %.4f", amp, a.RMS, want)
		}
	}
}

// soxPeak returns the frequency of the strongest bin of `sox FILE -n
// channels 1 stat -freq`. sox's stat effect reads the interleaved
// samples of a stereo file as one channel, so without the downmix a
// 1000 Hz tone in a 48 kHz stereo file (sndfile's recording of an opus
// call) peaks near 500 Hz.
func soxPeak(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("sox", path, "-n", "channels", "1", "stat", "-freq").CombinedOutput()
	if err != nil {
		t.Fatalf("sox stat -freq: %v\n%s", err, out)
	}
	best, bestPower := 0.0, -1.0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		hz, err1 := strconv.ParseFloat(f[0], 64)
		pw, err2 := strconv.ParseFloat(f[1], 64)
		if err1 == nil && err2 == nil && pw > bestPower {
			best, bestPower = hz, pw
		}
	}
	if bestPower < 0 {
		t.Fatalf("sox stat -freq printed no spectrum:\n%s", out)
	}
	return best
}

// TestDominantFrequencyAgreesWithSox makes tones with sox and checks
// DominantFrequency against the tone and against sox's own spectrum
// (whose bins are coarser: it is the check interop-notes.md describes).
func TestDominantFrequencyAgreesWithSox(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatalf("%v: install the Debian packages sox libsox-fmt-all (as root: bash .ci/deps)", err)
	}
	cases := []struct {
		rate, channels int
		hz             float64
	}{
		{8000, 1, 440},
		{8000, 1, 1000},
		{16000, 1, 700},
		{48000, 2, 1000},
		{44100, 1, 2500},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v Hz at %d x%d", tc.hz, tc.rate, tc.channels), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tone.wav")
			out, err := exec.Command("sox", "-n", "-r", strconv.Itoa(tc.rate), "-c", strconv.Itoa(tc.channels),
				"-b", "16", "-e", "signed", path, "synth", "1", "sine", strconv.FormatFloat(tc.hz, 'f', -1, 64), "vol", "0.5").CombinedOutput()
			if err != nil {
				t.Fatalf("sox synth: %v\n%s", err, out)
			}
			got, err := DominantFrequency(path)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.hz) > 1 {
				t.Errorf("DominantFrequency = %.2f Hz, want %v", got, tc.hz)
			}
			sox := soxPeak(t, path)
			if bin := float64(tc.rate) / 4096; math.Abs(sox-got) > bin { // sox's default DFT is 4096 points
				t.Errorf("DominantFrequency = %.2f Hz, sox's peak %.2f Hz (bins of %.1f Hz)", got, sox, bin)
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    PCM
	}{
		{"2s 8kHz mono", Sine(1000, 8000, 1, 2, 0.5)},
		{"2s 48kHz stereo", Sine(1000, 48000, 2, 2, 0.5)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Analyze(tc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
