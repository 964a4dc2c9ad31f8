package wav

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sox runs Debian's sox (installed by .ci/deps) with args.
func sox(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox is needed (.ci/deps installs it): %v", err)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// readFile reads a whole file with the package's Reader.
func readFile(t *testing.T, path string) ([]int16, Format) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	return readAll(t, r), r.Format()
}

// headerTag is the format tag as written in the file's fmt chunk (0xFFFE
// for WAVE_FORMAT_EXTENSIBLE), assuming the fmt chunk comes first, as sox
// writes it.
func headerTag(t *testing.T, path string) uint16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 22 || string(b[12:16]) != "fmt " {
		t.Fatalf("%s: no fmt chunk first (%v)", path, err)
	}
	return binary.LittleEndian.Uint16(b[20:])
}

// TestReaderMatchesSox: the files sox writes in each format it can write
// as WAV (sox's default 32-bit WAVE_FORMAT_EXTENSIBLE first, as the issue
// found it) read as sox's own 16-bit conversion of the same file reads:
// the same rate, channels and samples, exactly. Stereo files hold a
// different tone on each channel; a full-scale square wave checks
// saturation. (sox writes float as WAVE_FORMAT_IEEE_FLOAT, never
// extensible; TestReader covers extensible float.)
func TestReaderMatchesSox(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	// Two channels of float: 440 Hz left, 1000 Hz right, at 0.7 of full
	// scale, 0.1 s at 48 kHz; and a full-scale square.
	sox(t, "-n", "-D", "-r", "48000", "-c", "2", "-b", "32", "-e", "floating-point", src, "synth", "0.1", "sine", "440", "sine", "1000", "vol", "0.7")
	square := filepath.Join(dir, "square.wav")
	sox(t, "-n", "-D", "-r", "8000", "-c", "1", "-b", "32", "-e", "floating-point", square, "synth", "0.05", "square", "300")

	tests := []struct {
		name  string
		input string   // sox's input; "" for sox's default synth output
		args  []string // output options
		tag   uint16   // the tag in the file's header
		bits  int
	}{
		{"sox default (32-bit extensible, 48 kHz)", "", nil, TagExtensible, 32},
		{"8-bit unsigned mono 8 kHz", src, []string{"-b", "8", "-e", "unsigned-integer", "-c", "1", "-r", "8000"}, TagPCM, 8},
		{"16-bit stereo 44.1 kHz", src, []string{"-b", "16", "-e", "signed-integer", "-r", "44100"}, TagPCM, 16},
		{"24-bit stereo (extensible)", src, []string{"-b", "24", "-e", "signed-integer"}, TagExtensible, 24},
		{"24-bit mono (WAVE_FORMAT_PCM)", src, []string{"-t", "wavpcm", "-b", "24", "-e", "signed-integer", "-c", "1"}, TagPCM, 24},
		{"32-bit mono 16 kHz (WAVE_FORMAT_PCM)", src, []string{"-t", "wavpcm", "-b", "32", "-e", "signed-integer", "-c", "1", "-r", "16000"}, TagPCM, 32},
		{"32-bit float mono 22.05 kHz", src, []string{"-b", "32", "-e", "floating-point", "-c", "1", "-r", "22050"}, TagFloat, 32},
		{"32-bit float stereo", src, []string{"-b", "32", "-e", "floating-point"}, TagFloat, 32},
		{"64-bit float mono 96 kHz", src, []string{"-b", "64", "-e", "floating-point", "-c", "1", "-r", "96000"}, TagFloat, 64},
		{"float full-scale square", square, []string{"-b", "32", "-e", "floating-point"}, TagFloat, 32},
		{"32-bit full-scale square", square, []string{"-b", "32", "-e", "signed-integer"}, TagExtensible, 32},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, "in"+string(rune('a'+i))+".wav")
			if tt.input == "" {
				sox(t, "-n", "-D", file, "synth", "0.1", "sine", "440")
			} else {
				sox(t, append(append([]string{"-D", tt.input}, tt.args...), file)...)
			}
			if got := headerTag(t, file); got != tt.tag {
				t.Fatalf("sox wrote tag %#04x, want %#04x: the case does not test what it says", got, tt.tag)
			}
			ref := filepath.Join(dir, "ref"+string(rune('a'+i))+".wav")
			sox(t, "-D", file, "-t", "wavpcm", "-b", "16", "-e", "signed-integer", ref)

			got, f := readFile(t, file)
			want, rf := readFile(t, ref)
			if f.BitsPerSample != tt.bits || f.SampleRate != rf.SampleRate || f.Channels != rf.Channels {
				t.Fatalf("format %+v, want %d bits, %d Hz, %d channels", f, tt.bits, rf.SampleRate, rf.Channels)
			}
			if len(want) == 0 {
				t.Fatal("sox's reference is empty")
			}
			if !slices.Equal(got, want) {
				diff := 0
				for j := range min(len(got), len(want)) {
					if got[j] != want[j] {
						diff = j
						break
					}
				}
				t.Fatalf("%d samples, want %d; first difference at %d: %d, want %d", len(got), len(want), diff, got[diff], want[diff])
			}
		})
	}
}
