package baresiptest

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// chunk returns a RIFF chunk: id, little-endian size, body, pad byte.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riff returns a RIFF/WAVE file of the chunks.
func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return chunk("RIFF", body)
}

// fmtChunk returns a fmt chunk's body.
func fmtChunk(format, channels uint16, rate uint32, bits uint16) []byte {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], format)
	le.PutUint16(b[2:], channels)
	le.PutUint32(b[4:], rate)
	le.PutUint32(b[8:], rate*uint32(channels)*uint32(bits)/8)
	le.PutUint16(b[12:], channels*bits/8)
	le.PutUint16(b[14:], bits)
	return b
}

// extensible returns a WAVE_FORMAT_EXTENSIBLE fmt body with sub-format
// sub.
func extensible(channels uint16, rate uint32, sub uint16) []byte {
	b := fmtChunk(wavFormatExtensible, channels, rate, 16)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22) // cbSize
	binary.LittleEndian.PutUint16(ext[8:], sub)
	return append(b, ext...)
}

func samples(s ...int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestParseWAV(t *testing.T) {
	truncated := riff(chunk("fmt ", fmtChunk(1, 1, 8000, 16)), chunk("data", samples(1, 2, 3, 4)))
	binary.LittleEndian.PutUint32(truncated[40:], 1000) // data size past the end
	cases := []struct {
		name string
		in   []byte
		want PCM
		err  error
	}{
		{"mono", riff(chunk("fmt ", fmtChunk(1, 1, 8000, 16)), chunk("data", samples(1, -2, 32767, -32768))),
			PCM{Rate: 8000, Channels: 1, Samples: []int16{1, -2, 32767, -32768}}, nil},
		{"stereo drops a partial frame", riff(chunk("fmt ", fmtChunk(1, 2, 48000, 16)), chunk("data", samples(1, 2, 3))),
			PCM{Rate: 48000, Channels: 2, Samples: []int16{1, 2}}, nil},
		{"extensible PCM", riff(chunk("fmt ", extensible(1, 16000, 1)), chunk("data", samples(5))),
			PCM{Rate: 16000, Channels: 1, Samples: []int16{5}}, nil},
		{"odd chunk before data is padded", riff(chunk("fmt ", fmtChunk(1, 1, 8000, 16)), chunk("LIST", []byte("abc")), chunk("data", samples(7, 8))),
			PCM{Rate: 8000, Channels: 1, Samples: []int16{7, 8}}, nil},
		{"data still being written", truncated,
			PCM{Rate: 8000, Channels: 1, Samples: []int16{1, 2, 3, 4}}, nil},
		{"empty data", riff(chunk("fmt ", fmtChunk(1, 1, 8000, 16)), chunk("data", nil)),
			PCM{Rate: 8000, Channels: 1, Samples: []int16{}}, nil},
		{"empty", nil, PCM{}, ErrNotWAV},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), PCM{}, ErrNotWAV},
		{"8 bit", riff(chunk("fmt ", fmtChunk(1, 1, 8000, 8)), chunk("data", []byte{1, 2})), PCM{}, ErrNotWAV},
		{"float", riff(chunk("fmt ", fmtChunk(3, 1, 8000, 16)), chunk("data", samples(1))), PCM{}, ErrNotWAV},
		{"extensible float", riff(chunk("fmt ", extensible(1, 8000, 3)), chunk("data", samples(1))), PCM{}, ErrNotWAV},
		{"no channels", riff(chunk("fmt ", fmtChunk(1, 0, 8000, 16)), chunk("data", samples(1))), PCM{}, ErrNotWAV},
		{"short fmt", riff(chunk("fmt ", make([]byte, 10)), chunk("data", samples(1))), PCM{}, ErrNotWAV},
		{"data before fmt", riff(chunk("data", samples(1)), chunk("fmt ", fmtChunk(1, 1, 8000, 16))), PCM{}, ErrNotWAV},
		{"no data", riff(chunk("fmt ", fmtChunk(1, 1, 8000, 16))), PCM{}, ErrNotWAV},
		{"no fmt", riff(chunk("LIST", []byte("ab"))), PCM{}, ErrNotWAV},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWAV(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseWAV: %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got.Rate != tc.want.Rate || got.Channels != tc.want.Channels || !slices.Equal(got.Samples, tc.want.Samples) {
				t.Errorf("ParseWAV = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	for _, p := range []PCM{
		Sine(440, 8000, 1, 0.1, 0.5),
		Sine(1000, 48000, 2, 0.05, 0.9),
		{Rate: 16000, Channels: 1, Samples: []int16{}},
	} {
		got, err := ParseWAV(EncodeWAV(p))
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != p.Rate || got.Channels != p.Channels || !slices.Equal(got.Samples, p.Samples) {
			t.Errorf("round trip of %d Hz x%d, %d samples: got %d Hz x%d, %d samples",
				p.Rate, p.Channels, len(p.Samples), got.Rate, got.Channels, len(got.Samples))
		}
	}
}

// TestReadWAVRecording reads a recording of baresip's sndfile module
// (testdata/sndfile-pcmu-dec.wav: 0.5 s of a 440 Hz tone received over
// PCMU) and a file of sox (testdata/sox-440-16k.wav: sox -n -r 16000 -c 1 -b 16 -e signed
// sox-440-16k.wav synth 0.5 sine 440 vol 0.5).
func TestReadWAVRecording(t *testing.T) {
	cases := []struct {
		file           string
		rate, channels int
		hz             float64
	}{
		{"sndfile-pcmu-dec.wav", 8000, 1, 440},
		{"sox-440-16k.wav", 16000, 1, 440},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			p, err := ReadWAV(path)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.rate || p.Channels != tc.channels {
				t.Errorf("%d Hz x%d, want %d Hz x%d", p.Rate, p.Channels, tc.rate, tc.channels)
			}
			hz, err := DominantFrequency(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := hz - tc.hz; d < -2 || d > 2 {
				t.Errorf("DominantFrequency = %.2f Hz, want %.0f", hz, tc.hz)
			}
		})
	}
	if _, err := ReadWAV(filepath.Join("testdata", "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadWAV(missing): %v, want os.ErrNotExist", err)
	}
}

// FuzzParseWAV checks that ParseWAV never panics and that what it
// accepts is consistent and survives EncodeWAV.
func FuzzParseWAV(f *testing.F) {
	for _, name := range []string{"sndfile-pcmu-dec.wav", "sox-440-16k.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(EncodeWAV(Sine(440, 8000, 2, 0.01, 0.5)))
	f.Add(riff(chunk("fmt ", extensible(1, 16000, 1)), chunk("LIST", []byte("abc")), chunk("data", samples(5, 6))))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseWAV(b)
		if err != nil {
			if !errors.Is(err, ErrNotWAV) {
				t.Fatalf("error %v is not ErrNotWAV", err)
			}
			return
		}
		if p.Rate <= 0 || p.Channels <= 0 || len(p.Samples)%p.Channels != 0 || len(p.Samples) > len(b)/2 {
			t.Fatalf("inconsistent PCM: %d Hz x%d, %d samples from %d bytes", p.Rate, p.Channels, len(p.Samples), len(b))
		}
		q, err := ParseWAV(EncodeWAV(p))
		if err != nil || q.Rate != p.Rate || q.Channels != p.Channels || !slices.Equal(q.Samples, p.Samples) {
			t.Fatalf("EncodeWAV round trip: %v", err)
		}
	})
}

func TestRecordedSeconds(t *testing.T) {
	dir := t.TempDir()
	growing := EncodeWAV(Sine(440, 8000, 2, 0.5, 0.5))
	binary.LittleEndian.PutUint32(growing[40:], 0) // header not completed yet
	cases := []struct {
		name string
		in   []byte
		want float64
		err  error
	}{
		{"complete", EncodeWAV(Sine(440, 8000, 1, 1, 0.5)), 1, nil},
		{"header not completed", growing, 0.5, nil},
		{"48 kHz stereo", EncodeWAV(Sine(440, 48000, 2, 0.25, 0.5)), 0.25, nil},
		{"not WAV", []byte("hello"), 0, ErrNotWAV},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".wav")
			if err := os.WriteFile(path, tc.in, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := RecordedSeconds(path)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("RecordedSeconds = %v, %v, want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
