package mixer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
)

// writeWAV writes samples to a new WAV file at rate Hz.
func writeWAV(t *testing.T, rate int, samples []int16) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.wav")
	w, err := wav.Create(path, rate)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readWAV(t *testing.T, path string) ([]int16, int) {
	t.Helper()
	r, err := wav.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []int16
	buf := make([]int16, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, r.SampleRate()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// play reads frames of 160 samples from p until n frames.
func play(p Source, n int) []int16 {
	var out []int16
	f := make([]int16, 160)
	for i := 0; i < n; i++ {
		p.ReadFrame(f)
		out = append(out, f...)
	}
	return out
}

func isDone(p *WAVPlayer) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

func TestWAVPlayer(t *testing.T) {
	// 200 samples numbered 1..200 at 8 kHz: 1.25 frames.
	content := make([]int16, 200)
	for i := range content {
		content[i] = int16(i + 1)
	}
	path := writeWAV(t, 8000, content)
	seq := func(parts ...[]int16) []int16 {
		var out []int16
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	silence := func(n int) []int16 { return make([]int16, n) }
	tests := []struct {
		name   string
		opts   []PlayerOption
		frames int
		want   []int16
		done   bool
	}{
		{"once", nil, 3, seq(content, silence(280)), true},
		{"twice back to back", []PlayerOption{WithLoopCount(2)}, 3, seq(content, content, silence(80)), true},
		{"pause between loops", []PlayerOption{WithLoopCount(2), WithPauseTime(5 * time.Millisecond)}, 3, seq(content, silence(40), content, silence(40)), true},
		{"initial delay", []PlayerOption{WithInitialDelay(10 * time.Millisecond)}, 1, seq(silence(80), content[:80]), false},
		{"initial delay then end", []PlayerOption{WithInitialDelay(10 * time.Millisecond)}, 2, seq(silence(80), content, silence(40)), true},
		{"forever", []PlayerOption{WithLoopCount(0)}, 5, seq(content, content, content, content), false},
		{"half volume", []PlayerOption{WithVolume(50)}, 1, func() []int16 {
			h := make([]int16, 160)
			for i := range h {
				h[i] = int16((i + 1 + 1) / 2)
			}
			return h
		}(), false},
	}
	cache := NewFileCache(0)
	for _, tt := range tests {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cached=%v", tt.name, cached), func(t *testing.T) {
				opts := tt.opts
				if cached {
					opts = append(slices.Clip(opts), WithCache(cache))
				}
				p, err := NewWAVPlayer(path, 8000, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				got := play(p, tt.frames)
				for i := range tt.want {
					if got[i] != tt.want[i] {
						t.Fatalf("sample %d = %d, want %d", i, got[i], tt.want[i])
					}
				}
				if isDone(p) != tt.done {
					t.Fatalf("done = %v, want %v", isDone(p), tt.done)
				}
				if p.Err() != nil {
					t.Fatalf("Err = %v", p.Err())
				}
			})
		}
	}
	if n := cache.Files(); n != 0 {
		t.Errorf("%d files left in the cache after every player closed", n)
	}
}

// TestFileCache: players of one file share its decoded samples and play
// exactly what a player without the cache plays; the file leaves the cache
// with its last player; a changed file is decoded anew; a file over the
// bound plays from disk.
func TestFileCache(t *testing.T) {
	content := sine(8000, 440, 10000, 0, 8000)
	path := writeWAV(t, 8000, content)
	plain, err := NewWAVPlayer(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	want := play(plain, 60)

	cache := NewFileCache(0)
	var players []*WAVPlayer
	for range 3 {
		p, err := NewWAVPlayer(path, 0, WithCache(cache))
		if err != nil {
			t.Fatal(err)
		}
		players = append(players, p)
	}
	if n := cache.Files(); n != 1 {
		t.Fatalf("3 players of one file: %d files cached, want 1", n)
	}
	for i, p := range players {
		if got := play(p, 60); !slices.Equal(got, want) {
			t.Fatalf("cached player %d plays other samples than the file's", i)
		}
	}
	if !isDone(players[0]) {
		t.Fatal("a cached player did not end with its file")
	}
	// Finished players let go of the file (the last one to finish).
	if n := cache.Files(); n != 0 {
		t.Fatalf("%d files cached after every player finished", n)
	}

	// A changed file (another size) is decoded anew, not played stale.
	holder, _ := NewWAVPlayer(path, 0, WithCache(cache), WithLoopCount(0))
	defer holder.Close()
	path2 := writeWAV(t, 8000, fill(400, 77))
	if err := os.Rename(path2, path); err != nil {
		t.Fatal(err)
	}
	fresh, err := NewWAVPlayer(path, 0, WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := play(fresh, 1); constant(t, got) != 77 {
		t.Fatal("the changed file played stale samples")
	}
	if n := cache.Files(); n != 2 {
		t.Fatalf("%d files cached, want the old one (still played) and the new one", n)
	}

	// Over the bound: from disk, nothing cached.
	small := NewFileCache(1000)
	big, err := NewWAVPlayer(writeWAV(t, 8000, content), 0, WithCache(small))
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	if got := play(big, 60); !slices.Equal(got, want) {
		t.Fatal("a file over the bound plays other samples")
	}
	if small.Files() != 0 {
		t.Fatal("a file over the bound was cached")
	}
}

func TestWAVPlayerPauseResumeClose(t *testing.T) {
	content := make([]int16, 480)
	for i := range content {
		content[i] = int16(i + 1)
	}
	p, err := NewWAVPlayer(writeWAV(t, 8000, content), 8000)
	if err != nil {
		t.Fatal(err)
	}
	first := play(p, 1)
	p.Pause()
	for _, v := range play(p, 2) {
		if v != 0 {
			t.Fatal("paused player not silent")
		}
	}
	p.Resume()
	if got := play(p, 1); got[0] != first[159]+1 {
		t.Fatalf("after Resume sample %d, want %d", got[0], first[159]+1)
	}
	p.Close()
	if !isDone(p) || p.Err() != nil {
		t.Fatalf("after Close done %v err %v", isDone(p), p.Err())
	}
	if p.Close() != nil {
		t.Fatal("second Close failed")
	}
}

// TestWAVPlayerResamples plays a 16 kHz file of 1 s on a 32 kHz mixer.
func TestWAVPlayerResamples(t *testing.T) {
	p, err := NewWAVPlayer(writeWAV(t, 16000, sine(16000, 440, 10000, 0, 16000)), 32000)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []int16
	f := make([]int16, 640)
	frames := 0
	for !isDone(p) && frames < 100 {
		p.ReadFrame(f)
		out = append(out, f...)
		frames++
	}
	if frames != 51 { // 50 frames of audio, the 51st finds the end
		t.Fatalf("played %d frames, want 51", frames)
	}
	if a := amplitude(out[:32000], 32000, 440); a < 9500 || a > 10500 {
		t.Fatalf("440 Hz amplitude %.0f after resampling", a)
	}
}

// TestWAVPlayerSoxFiles plays, on a 32 kHz mixer, 1 s of a 440 Hz tone at
// half of full scale written by sox in the formats it writes by default
// (its plain default first: 32-bit WAVE_FORMAT_EXTENSIBLE at 48 kHz) and at
// rates off the mixer's: every one plays 50 frames of 440 Hz at amplitude
// 16384.
func TestWAVPlayerSoxFiles(t *testing.T) {
	bin, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox is needed (.ci/deps installs it): %v", err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"sox default", nil},
		{"8-bit 11025 Hz", []string{"-r", "11025", "-b", "8", "-e", "unsigned-integer"}},
		{"24-bit stereo 44100 Hz", []string{"-r", "44100", "-b", "24", "-c", "2"}},
		{"float stereo 22050 Hz", []string{"-r", "22050", "-b", "32", "-e", "floating-point", "-c", "2"}},
		{"double 96000 Hz", []string{"-r", "96000", "-b", "64", "-e", "floating-point"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sox.wav")
			args := append(append([]string{"-n", "-D"}, tt.args...), path, "synth", "1", "sine", "440", "vol", "0.5")
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox %v: %v\n%s", args, err, out)
			}
			p, err := NewWAVPlayer(path, 32000)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var out []int16
			f := make([]int16, 640)
			frames := 0
			for !isDone(p) && frames < 100 {
				p.ReadFrame(f)
				out = append(out, f...)
				frames++
			}
			if frames != 51 {
				t.Fatalf("played %d frames, want 51", frames)
			}
			if a := amplitude(out[640:31360], 32000, 440); a < 15500 || a > 17200 {
				t.Fatalf("440 Hz amplitude %.0f, want about 16384", a)
			}
		})
	}
}

func TestWAVPlayerErrors(t *testing.T) {
	if _, err := NewWAVPlayer(filepath.Join(t.TempDir(), "missing.wav"), 8000); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := NewWAVPlayer(writeWAV(t, 8000, []int16{1}), -1); err == nil {
		t.Fatal("rate -1 accepted")
	}
	// Rate 0: the file's own, or the next supported one up.
	for _, c := range []struct{ file, want int }{{8000, 8000}, {11025, 16000}, {22050, 32000}, {44100, 44100}, {96000, 48000}} {
		p, err := NewWAVPlayer(writeWAV(t, c.file, []int16{1}), 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.SampleRate() != c.want {
			t.Errorf("%d Hz file plays at %d Hz, want %d", c.file, p.SampleRate(), c.want)
		}
		_ = p.Close()
	}
	// An empty file looping forever ends instead of spinning.
	p, err := NewWAVPlayer(writeWAV(t, 8000, nil), 8000, WithLoopCount(0))
	if err != nil {
		t.Fatal(err)
	}
	play(p, 1)
	if !isDone(p) {
		t.Fatal("empty file looping forever did not end")
	}
}

// TestWAVRecorderRecordsBothSides puts a recorder in a call's bridge: the
// file holds the microphone (440 Hz) and the remote party (1000 Hz).
func TestWAVRecorderRecordsBothSides(t *testing.T) {
	m := newTestMixer(t, WithSampleRate(16000))
	path := filepath.Join(t.TempDir(), "history", "call.wav")
	rec, err := NewWAVRecorder(path, m.SampleRate())
	if err != nil {
		t.Fatal(err)
	}
	remote, err := NewToneGenerator("call", m.SampleRate())
	if err != nil {
		t.Fatal(err)
	}
	remote.PlayTones(toneOf(1000, time.Hour))
	br := m.NewBridge()
	for _, p := range []Port{m.Device(), remote, rec} {
		if err := br.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	const frames = 50
	out := make([]int16, 320)
	var speaker []int16
	for i := 0; i < frames; i++ {
		m.ProcessFrame(sine(16000, 440, 8000, i*320, 320), out)
		speaker = append(speaker, out...)
	}
	if err := br.Remove(rec); err != nil {
		t.Fatal(err)
	}
	m.Remove(rec)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	got, rate := readWAV(t, path)
	if rate != 16000 || len(got)+int(rec.Dropped())*320 != frames*320 {
		t.Fatalf("recorded %d samples at %d Hz (%d frames dropped)", len(got), rate, rec.Dropped())
	}
	if a := amplitude(got, 16000, 440); a < 7000 {
		t.Errorf("microphone side (440 Hz) amplitude %.0f", a)
	}
	if a := amplitude(got, 16000, 1000); a < 10000 {
		t.Errorf("remote side (1000 Hz) amplitude %.0f", a)
	}
	// The speaker hears only the remote party, not the microphone.
	if a := amplitude(speaker, 16000, 440); a > 100 {
		t.Errorf("microphone echoed to the speaker: %.0f", a)
	}
	rec.WriteFrame(out) // ignored after Close
}

func TestWAVRecorderBadPath(t *testing.T) {
	file := writeWAV(t, 8000, nil)
	if _, err := NewWAVRecorder(filepath.Join(file, "sub", "x.wav"), 8000); err == nil {
		t.Fatal("recorder under a file path succeeded")
	}
}
