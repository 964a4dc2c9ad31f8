package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// build assembles a WAVE file from a fmt chunk body, extra chunks placed
// before the data chunk, and data.
func build(fmtBody []byte, extra [][]byte, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0)) // readers ignore it
	b.WriteString("WAVE")
	if fmtBody != nil {
		b.WriteString("fmt ")
		binary.Write(&b, binary.LittleEndian, uint32(len(fmtBody)))
		b.Write(fmtBody)
	}
	for _, c := range extra {
		b.Write(c)
	}
	if data != nil {
		b.WriteString("data")
		binary.Write(&b, binary.LittleEndian, uint32(len(data)))
		b.Write(data)
	}
	return b.Bytes()
}

func fmtChunk(tag uint16, channels, rate, blockAlign, bits int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, tag)
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*blockAlign))
	binary.Write(&b, binary.LittleEndian, uint16(blockAlign))
	binary.Write(&b, binary.LittleEndian, uint16(bits))
	return b.Bytes()
}

func extensible(channels, rate, bits int, sub uint16) []byte {
	b := fmtChunk(TagExtensible, channels, rate, channels*bits/8, bits)
	b = binary.LittleEndian.AppendUint16(b, 22)
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint16(b, sub)
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

func le(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func le32(samples ...int32) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	return b
}

func f32(samples ...float32) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
	}
	return b
}

func f64(samples ...float64) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s))
	}
	return b
}

func readAll(t *testing.T, r *Reader) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, 3) // small on purpose: several reads
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
}

func TestReader(t *testing.T) {
	odd := append([]byte("LIST"), 3, 0, 0, 0, 'a', 'b', 'c', 0) // odd size, padded
	tests := []struct {
		name     string
		file     []byte
		rate     int
		channels int
		want     []int16
	}{
		{"mono", build(fmtChunk(TagPCM, 1, 8000, 2, 16), nil, le(1, -2, 3, 32767, -32768)), 8000, 1, []int16{1, -2, 3, 32767, -32768}},
		{"stereo mixdown", build(fmtChunk(TagPCM, 2, 44100, 4, 16), nil, le(100, 300, -32768, -32768, 32767, 32767, 10, -10)), 44100, 2, []int16{200, -32768, 32767, 0}},
		{"extensible stereo", build(extensible(2, 48000, 16, TagPCM), nil, le(4, 8)), 48000, 2, []int16{6}},
		{"skips other chunks", build(fmtChunk(TagPCM, 1, 16000, 2, 16), [][]byte{odd}, le(7, 8)), 16000, 1, []int16{7, 8}},
		{"partial frame dropped", build(fmtChunk(TagPCM, 2, 8000, 4, 16), nil, append(le(2, 4), 1, 2)), 8000, 2, []int16{3}},
		{"empty", build(fmtChunk(TagPCM, 1, 8000, 2, 16), nil, []byte{}), 8000, 1, nil},
		{"fmt with cbSize", build(append(fmtChunk(TagPCM, 1, 32000, 2, 16), 0, 0), nil, le(5)), 32000, 1, []int16{5}},
		{"8-bit unsigned", build(fmtChunk(TagPCM, 1, 8000, 1, 8), nil, []byte{0, 128, 255, 129}), 8000, 1, []int16{-32768, 0, 32512, 256}},
		{"24-bit, rounded half up", build(fmtChunk(TagPCM, 1, 48000, 3, 24), nil, []byte{
			0xff, 0xff, 0x7f, 0x00, 0x00, 0x80, 0x56, 0x34, 0x12, 0x80, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0xff, 0xff,
		}), 48000, 1, []int16{32767, -32768, 4660, 1, 0, 0, -1}},
		{"32-bit", build(fmtChunk(TagPCM, 1, 48000, 4, 32), nil, le32(0x12348000, 0x7fffffff, -0x80000000, -0x8000, -0x8001)), 48000, 1, []int16{4661, 32767, -32768, 0, -1}},
		{"float", build(fmtChunk(TagFloat, 1, 44100, 4, 32), nil, f32(0.5, 1, -1, 2, -0.25, float32(math.NaN()))), 44100, 1, []int16{16384, 32767, -32768, 32767, -8192, 0}},
		{"float 64", build(fmtChunk(TagFloat, 1, 96000, 8, 64), nil, f64(0.25, -3)), 96000, 1, []int16{8192, -32768}},
		{"extensible float stereo", build(extensible(2, 48000, 32, TagFloat), nil, f32(0.5, 0.25)), 48000, 2, []int16{12288}},
		{"extensible 24-bit stereo", build(extensible(2, 48000, 24, TagPCM), nil, []byte{0, 0, 1, 0, 0, 3}), 48000, 2, []int16{512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if r.SampleRate() != tt.rate || r.Format().Channels != tt.channels {
				t.Errorf("format = %+v, want %d Hz %d channels", r.Format(), tt.rate, tt.channels)
			}
			if got := readAll(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("samples = %v, want %v", got, tt.want)
			}
			if err := r.Rewind(); err != nil {
				t.Fatalf("Rewind: %v", err)
			}
			if got := readAll(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("after Rewind: samples = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty input", nil, ErrNotWAV},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), ErrNotWAV},
		{"not WAVE", []byte("RIFF\x00\x00\x00\x00AVI "), ErrNotWAV},
		{"no fmt", build(nil, nil, le(1)), ErrMissingChunk},
		{"no data", build(fmtChunk(TagPCM, 1, 8000, 2, 16), nil, nil), ErrMissingChunk},
		{"short fmt", build([]byte{1, 0, 1, 0}, nil, le(1)), ErrMissingChunk},
		{"12-bit", build(fmtChunk(TagPCM, 1, 8000, 2, 12), nil, []byte{1, 2}), ErrUnsupportedFormat},
		{"64-bit integer", build(fmtChunk(TagPCM, 1, 8000, 8, 64), nil, make([]byte, 8)), ErrUnsupportedFormat},
		{"16-bit float", build(fmtChunk(TagFloat, 1, 8000, 2, 16), nil, []byte{1, 2}), ErrUnsupportedFormat},
		{"mu-law", build(fmtChunk(7, 1, 8000, 1, 8), nil, []byte{1}), ErrUnsupportedFormat},
		{"extensible mu-law", build(extensible(1, 8000, 8, 7), nil, []byte{1}), ErrUnsupportedFormat},
		{"extensible without extension", build(fmtChunk(TagExtensible, 1, 8000, 2, 16), nil, le(1)), ErrUnsupportedFormat},
		{"24-bit block align", build(fmtChunk(TagPCM, 1, 8000, 4, 24), nil, []byte{1, 2, 3, 4}), ErrUnsupportedFormat},
		{"zero channels", build(fmtChunk(TagPCM, 0, 8000, 0, 16), nil, le(1)), ErrUnsupportedFormat},
		{"zero rate", build(fmtChunk(TagPCM, 1, 0, 2, 16), nil, le(1)), ErrUnsupportedFormat},
		{"bad block align", build(fmtChunk(TagPCM, 2, 8000, 2, 16), nil, le(1)), ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.file))
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewReader = %v, want %v", err, tt.want)
			}
			var fe *FormatError
			if errors.Is(tt.want, ErrUnsupportedFormat) && !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
		})
	}
	r, err := NewReader(io.MultiReader(bytes.NewReader(build(fmtChunk(TagPCM, 1, 8000, 2, 16), nil, le(1)))))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rewind(); !errors.Is(err, ErrNotSeekable) {
		t.Fatalf("Rewind on a plain reader = %v, want ErrNotSeekable", err)
	}
}

func TestWriterGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.wav")
	w, err := Create(path, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{0, 1, -1, 32767, -32768}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
	got, _ := os.ReadFile(path)
	golden := filepath.Join("testdata", "mono-8000.wav")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file =\n%x\nwant\n%x", got, want)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "rec.wav") // parents are created
	w, err := Create(path, 48000)
	if err != nil {
		t.Fatal(err)
	}
	var want []int16
	for i := 0; i < 1000; i++ {
		frame := []int16{int16(i), int16(-i), int16(i * 7)}
		want = append(want, frame...)
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if d := w.Duration(); d != 62500*time.Microsecond {
		t.Errorf("Duration = %v, want 62.5ms", d)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.SampleRate() != 48000 {
		t.Errorf("rate = %d", r.SampleRate())
	}
	if got := readAll(t, r); !slices.Equal(got, want) {
		t.Fatalf("read back %d samples, want %d", len(got), len(want))
	}
}

// TestWriterPeriodicPatch leaves a Writer unclosed, as a killed process
// would, and reads what is on disk.
func TestWriterPeriodicPatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "killed.wav")
	w, err := Create(path, 8000, WithPatchInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, 160) // 20 ms
	for i := 0; i < 7; i++ {    // 140 ms: one patch at 100 ms
		frame[0] = int16(i + 1)
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAll(t, r)
	if len(got) != 5*160 || got[4*160] != 5 {
		t.Fatalf("unclosed file holds %d samples, want the 800 patched at 100 ms", len(got))
	}
}

func TestNewWriterBadRate(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := NewWriter(f, 0); !errors.Is(err, ErrUnsupportedFormat) {
		t.Fatalf("NewWriter(rate 0) = %v", err)
	}
}

// FuzzReader checks that any input either fails with one of the package's
// errors or reads without panicking, delivering no more samples than the
// input has blocks for, and reads again after Rewind. Seeds: the golden
// file, hand-built headers of every format, and small files sox wrote
// (testdata/sox-*.wav: `sox -n -D sox-default.wav synth 0.004 sine 440`,
// 8-bit unsigned, 24-bit stereo extensible, 32-bit float).
func FuzzReader(f *testing.F) {
	golden, _ := os.ReadFile(filepath.Join("testdata", "mono-8000.wav"))
	f.Add(golden)
	f.Add(build(fmtChunk(TagPCM, 2, 44100, 4, 16), nil, le(1, 2, 3, 4)))
	f.Add(build(extensible(2, 48000, 16, TagPCM), [][]byte{[]byte("LIST\x01\x00\x00\x00x\x00")}, le(4, 8)))
	f.Add(build(fmtChunk(TagPCM, 1, 8000, 1, 8), nil, []byte{0, 128, 255}))
	f.Add(build(fmtChunk(TagPCM, 2, 48000, 6, 24), nil, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(build(extensible(1, 48000, 32, TagPCM), [][]byte{[]byte("fact\x04\x00\x00\x00\x01\x00\x00\x00")}, le32(1<<30, -1)))
	f.Add(build(fmtChunk(TagFloat, 1, 44100, 4, 32), nil, f32(0.5, float32(math.Inf(1)))))
	f.Add(build(extensible(2, 48000, 32, TagFloat), nil, f32(0.5, -0.5)))
	f.Add(build(fmtChunk(TagFloat, 1, 96000, 8, 64), nil, f64(0.25, math.NaN())))
	sox, _ := filepath.Glob(filepath.Join("testdata", "sox-*.wav"))
	for _, p := range sox {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrMissingChunk) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		var total int
		block := r.Format().BlockAlign
		buf := make([]int16, 64)
		for {
			n, err := r.Read(buf)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
		}
		if total*block > len(b) {
			t.Fatalf("%d samples of %d bytes from %d bytes", total, block, len(b))
		}
		if err := r.Rewind(); err != nil {
			t.Fatalf("Rewind: %v", err)
		}
		if n, err := r.Read(buf); total > 0 && (n == 0 || err != nil) {
			t.Fatalf("after Rewind: %d samples, %v", n, err)
		}
	})
}

func BenchmarkReadStereo(b *testing.B) {
	data := make([]byte, 4*960)
	file := build(fmtChunk(TagPCM, 2, 48000, 4, 16), nil, data)
	buf := make([]int16, 960)
	for i := 0; i < b.N; i++ {
		r, _ := NewReader(bytes.NewReader(file))
		r.Read(buf)
	}
}
