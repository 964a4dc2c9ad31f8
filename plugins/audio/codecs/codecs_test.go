package codecs

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// Module sources and flags, as the Makefile builds them.
var modules = []struct {
	file string
	args []string
	name string
}{
	{"pcmu.wasm", []string{"g711/g711.c"}, "PCMU"},
	{"pcma.wasm", []string{"-DG711_ALAW", "g711/g711.c"}, "PCMA"},
	{"g726-32.wasm", []string{"g726/g726.c"}, "G726-32"},
	{"g726-32-aal2.wasm", []string{"-DG726_PACKING_AAL2", "g726/g726.c"}, "G726-32"},
}

// TestMakefileBuildsTheModules: make builds each module above from the
// same source with the same flags (and the flags codectest builds with),
// so that what the tests check is what make ships.
func TestMakefileBuildsTheModules(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`(?m)^CODEC_CFLAGS\s*:=\s*(.*)$`).FindSubmatch(mk)
	if flags == nil || strings.Join(strings.Fields(string(flags[1])), " ") != strings.Join(codectest.CFlags()[:len(codectest.CFlags())-2], " ")+" -I sdk/codec/include" {
		t.Errorf("the Makefile's CODEC_CFLAGS %q differ from codectest.CFlags %q", flags, codectest.CFlags())
	}
	for _, m := range modules {
		found := false
		for _, line := range strings.Split(string(mk), "\n") {
			f := strings.Fields(line)
			if !slices.Contains(f, "$(CLANG)") || !slices.ContainsFunc(f, func(s string) bool { return strings.HasSuffix(s, "/"+m.file) }) {
				continue
			}
			found = true
			for _, a := range m.args {
				if strings.HasSuffix(a, ".c") {
					a = "$(CODEC_SRC)/" + a
				}
				if !slices.Contains(f, a) {
					t.Errorf("the Makefile builds %s without %s: %s", m.file, a, line)
				}
			}
		}
		if !found {
			t.Errorf("the Makefile does not build %s", m.file)
		}
	}
}

func build(t testing.TB, file string) string {
	t.Helper()
	for _, m := range modules {
		if m.file == file {
			return codectest.BuildC(t, file, m.args...)
		}
	}
	t.Fatalf("no module %s", file)
	return ""
}

func TestConformance(t *testing.T) {
	for _, m := range modules {
		t.Run(m.file, func(t *testing.T) {
			mod := codectest.Load(t, build(t, m.file))
			if got := mod.Info().Name; got != m.name {
				t.Fatalf("name %q, want %q", got, m.name)
			}
			codectest.Run(t, mod)
		})
	}
}

// TestG711MatchesBuiltin: the G.711 modules compand every 16-bit sample
// and expand every code exactly as the built-in PCMU and PCMA.
func TestG711MatchesBuiltin(t *testing.T) {
	all := make([]int16, 65536)
	for i := range all {
		all[i] = int16(i - 32768)
	}
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	for _, c := range []struct {
		file    string
		builtin codec.Codec
	}{{"pcmu.wasm", builtin.PCMU()}, {"pcma.wasm", builtin.PCMA()}} {
		t.Run(c.file, func(t *testing.T) {
			mod := codectest.Load(t, build(t, c.file))
			for _, k := range []codec.Codec{mod, c.builtin} {
				if k.Info() != c.builtin.Info() {
					t.Fatalf("module describes %+v, built-in %+v", mod.Info(), c.builtin.Info())
				}
			}
			want, got := run(t, c.builtin, all, codes), run(t, mod, all, codes)
			if !bytes.Equal(got.payload, want.payload) {
				t.Fatal("the module compands differently from the built-in codec")
			}
			if !slices.Equal(got.pcm, want.pcm) {
				t.Fatal("the module expands differently from the built-in codec")
			}
		})
	}
}

type output struct {
	payload []byte
	pcm     []int16
}

// run encodes pcm (in blocks of up to 4000 samples) and decodes codes with
// fresh states of c.
func run(t *testing.T, c codec.Codec, pcm []int16, codes []byte) output {
	t.Helper()
	enc, err := c.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	defer codec.Close(enc)
	dec, err := c.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer codec.Close(dec)
	var o output
	for off := 0; off < len(pcm); off += 4000 {
		if o.payload, err = enc.Encode(pcm[off:min(off+4000, len(pcm))], o.payload); err != nil {
			t.Fatal(err)
		}
	}
	for off := 0; off < len(codes); off += 2000 {
		if o.pcm, err = dec.Decode(codes[off:min(off+2000, len(codes))], o.pcm); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// testSignal is 60 s at 8 kHz that visits the whole range of the ADPCM
// state: tones from 50 Hz to 3.9 kHz at levels from -60 dBFS to full scale,
// sweeps, white noise, clipping square waves, steps and silence.
func testSignal() []int16 {
	const rate = 8000
	r := rand.New(rand.NewPCG(726, 32))
	var out []int16
	add := func(n int, f func(i int) float64) {
		for i := 0; i < n; i++ {
			v := math.Round(f(i))
			out = append(out, int16(max(-32768, min(32767, v))))
		}
	}
	for _, amp := range []float64{32767, 16000, 4000, 1000, 100, 30} {
		for _, hz := range []float64{50, 300, 1000, 2200, 3400, 3900} {
			add(rate/4, func(i int) float64 { return amp * math.Sin(2*math.Pi*hz*float64(i)/rate) })
		}
		add(rate, func(i int) float64 { // sweep 100 Hz to 3.9 kHz
			t := float64(i) / rate
			return amp * math.Sin(2*math.Pi*(100*t+1900*t*t))
		})
		add(rate/2, func(int) float64 { return amp * (2*r.Float64() - 1) })
		add(rate/4, func(i int) float64 {
			if (i/20)%2 == 0 {
				return amp
			}
			return -amp
		})
	}
	add(rate, func(int) float64 { return 0 })
	add(rate/2, func(i int) float64 { return float64((i/400)*3000%65536) - 32768 })
	add(2*rate, func(i int) float64 { // speech-like: a 2-tone envelope with noise
		t := float64(i) / rate
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		return env * (9000*math.Sin(2*math.Pi*440*t) + 5000*math.Sin(2*math.Pi*1320*t) + 2000*(2*r.Float64()-1))
	})
	return out
}

// spandsp encodes pcm with spandsp's G.726-32 (G726_PACKING_LEFT=1,
// RIGHT=2) through a helper built with gcc, and decodes what it encoded.
func spandsp(t *testing.T, pcm []int16, packing int) ([]byte, []int16) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spandsp-g726")
	if out, err := exec.Command("gcc", "-O2", "-o", bin, "testdata/spandsp_g726.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	var in bytes.Buffer
	_ = binary.Write(&in, binary.LittleEndian, pcm)
	cmd := exec.Command(bin, strconv.Itoa(packing))
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("spandsp helper (libspandsp2 comes with baresip-core): %v", err)
	}
	n := len(pcm) / 2
	if len(out) != n+2*len(pcm) {
		t.Fatalf("spandsp helper wrote %d bytes, want %d", len(out), n+2*len(pcm))
	}
	dec := make([]int16, len(pcm))
	_ = binary.Read(bytes.NewReader(out[n:]), binary.LittleEndian, dec)
	return out[:n], dec
}

// TestG726MatchesSpandsp: on a long varied signal, the G.726-32 modules
// give exactly spandsp's codes, in each packing, and decode them to exactly
// spandsp's samples.
func TestG726MatchesSpandsp(t *testing.T) {
	pcm := testSignal()
	for _, c := range []struct {
		file    string
		packing int // spandsp's: 1 left (AAL2), 2 right (RFC 3551)
	}{{"g726-32.wasm", 2}, {"g726-32-aal2.wasm", 1}} {
		t.Run(c.file, func(t *testing.T) {
			wantCodes, wantPCM := spandsp(t, pcm, c.packing)
			mod := codectest.Load(t, build(t, c.file))
			got := run(t, mod, pcm, wantCodes)
			if i := firstDiff(got.payload, wantCodes); i >= 0 {
				t.Fatalf("codes differ from spandsp's from byte %d of %d (sample %d)", i, len(wantCodes), 2*i)
			}
			if i := firstDiff(got.pcm, wantPCM); i >= 0 {
				t.Fatalf("decoded samples differ from spandsp's from sample %d of %d: %d, want %d", i, len(wantPCM), got.pcm[i], wantPCM[i])
			}
		})
	}
}

func firstDiff[T comparable](a, b []T) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

var _ = module.ErrTrap
