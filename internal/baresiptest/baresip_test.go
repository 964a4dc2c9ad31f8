package baresiptest

import (
	"context"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// callTimeout bounds each step of a call between two instances.
const callTimeout = 15 * time.Second

// pair starts A (tone toneA) and B (tone toneB, auto-answer), with the
// same codec list and media encryption.
func pair(t *testing.T, ctx context.Context, codecs []string, mediaEnc string, toneA, toneB int) (a, b *Baresip) {
	t.Helper()
	b = Start(t, ctx, Options{Name: "B", ToneHz: toneB, AutoAnswer: true, Codecs: codecs, MediaEnc: mediaEnc, Lifetime: 40 * time.Second})
	a = Start(t, ctx, Options{Name: "A", ToneHz: toneA, Codecs: codecs, MediaEnc: mediaEnc, Lifetime: 40 * time.Second})
	return a, b
}

// waitLog is WaitLog with a bounded context, failing the test on error.
func waitLog(t *testing.T, ctx context.Context, b *Baresip, pattern string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	line, err := b.WaitLog(ctx, pattern)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// waitLogN is WaitLogN with a bounded context, failing the test on error.
func waitLogN(t *testing.T, ctx context.Context, b *Baresip, pattern string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	lines, err := b.WaitLogN(ctx, pattern, n)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// recorded waits until each instance has recorded seconds of received
// and sent audio.
func recorded(t *testing.T, ctx context.Context, seconds float64, bs ...*Baresip) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	for _, b := range bs {
		if err := b.WaitRecorded(ctx, seconds); err != nil {
			t.Fatal(err)
		}
	}
}

// heard checks that the one recording of b received a tone of want Hz
// and sent one of sent Hz.
func heard(t *testing.T, b *Baresip, want, sent float64) {
	t.Helper()
	recs, err := b.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%s: %d recordings, want 1: %v", b.name, len(recs), recs)
	}
	for _, c := range []struct {
		what, path string
		want       float64
	}{
		{"received", recs[0].Received, want},
		{"sent", recs[0].Sent, sent},
	} {
		p, err := ReadWAV(c.path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Analyze(p)
		if err != nil {
			t.Fatalf("%s %s: %v", b.name, c.what, err)
		}
		t.Logf("%s %s: %.1f s at %d Hz x%d: %.1f Hz, RMS %.3f", b.name, c.what,
			float64(p.Frames())/float64(p.Rate), p.Rate, p.Channels, a.Dominant, a.RMS)
		if math.Abs(a.Dominant-c.want) > 5 {
			t.Errorf("%s %s %.1f Hz, want %.0f Hz (%s)", b.name, c.what, a.Dominant, c.want, c.path)
		}
		if secs := float64(p.Frames()) / float64(p.Rate); secs < 1 {
			t.Errorf("%s %s only %.2f s of audio, want at least 1 s", b.name, c.what, secs)
		}
	}
}

// TestCallBothWays is the self-test against the real baresip: A calls B,
// each sends its own sine, and each recording proves what the other
// sent was heard, per codec and with SRTP.
func TestCallBothWays(t *testing.T) {
	cases := []struct {
		name     string
		codecs   []string
		mediaEnc string
		codec    string // in "audio: Set audio decoder: ..."
	}{
		{"PCMU", []string{CodecPCMU}, "", "PCMU 8000Hz 1ch"},
		{"PCMU SRTP mandatory", []string{CodecPCMU}, "srtp-mand", "PCMU 8000Hz 1ch"},
		{"G722", []string{CodecG722}, "", "G722 16000Hz 1ch"},
		{"opus", []string{CodecOpus}, "", "opus 48000Hz 2ch"},
		{"opus SRTP mandatory", []string{CodecOpus}, "srtp-mand", "opus 48000Hz 2ch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			a, b := pair(t, ctx, tc.codecs, tc.mediaEnc, 440, 1000)
			if err := a.Dial(b.URI()); err != nil {
				t.Fatal(err)
			}
			waitLog(t, ctx, b, LogAnswering)
			waitLog(t, ctx, a, LogEstablished)
			waitLog(t, ctx, b, LogEstablished)
			for _, x := range []*Baresip{a, b} {
				if line := waitLog(t, ctx, x, `^audio: Set audio decoder: `); line != "audio: Set audio decoder: "+tc.codec {
					t.Errorf("%s: %q, want codec %s", x.name, line, tc.codec)
				}
				waitLog(t, ctx, x, LogRTPEstablished)
				_, srtp := x.out.find(regexp.MustCompile(LogSRTP))
				if want := tc.mediaEnc != ""; srtp != want {
					t.Errorf("%s: SRTP on: %v, want %v", x.name, srtp, want)
				}
			}
			recorded(t, ctx, 2, a, b)
			if err := a.Hangup(); err != nil {
				t.Fatal(err)
			}
			waitLog(t, ctx, a, LogTerminated)
			waitLog(t, ctx, b, LogPeerHangup)
			waitLog(t, ctx, b, LogTerminated)
			heard(t, a, 1000, 440)
			heard(t, b, 440, 1000)
		})
	}
}

// TestManualAnswerDTMFHold proves the commands: a call that waits for
// Accept, RFC 4733 DTMF from A to B, hold and resume from A, and a
// hangup from B.
func TestManualAnswerDTMFHold(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := Start(t, ctx, Options{Name: "B", ToneHz: 1000, Codecs: []string{CodecPCMU}, Lifetime: 40 * time.Second})
	a := Start(t, ctx, Options{Name: "A", ToneHz: 440, Codecs: []string{CodecPCMU}, Lifetime: 40 * time.Second})
	if err := a.Dial(b.URI()); err != nil {
		t.Fatal(err)
	}
	t.Logf("B: %s", waitLog(t, ctx, b, LogIncoming))
	t.Logf("A: %s", waitLog(t, ctx, a, LogRinging))
	if err := b.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Logf("B: %s", waitLog(t, ctx, b, LogAnswering))
	t.Logf("A: %s", waitLog(t, ctx, a, LogEstablished))
	t.Logf("B: %s", waitLog(t, ctx, b, LogEstablished))
	waitLog(t, ctx, b, LogRTPEstablished)

	// /sndcode is an in-call command of baresip 1.0's menu: /help
	// lists it only now.
	if err := a.Command("/help"); err != nil {
		t.Fatal(err)
	}
	t.Logf("A: %s", waitLog(t, ctx, a, `/sndcode`))

	const digits = "19*#"
	if err := a.SendDTMF(digits); err != nil {
		t.Fatal(err)
	}
	sent := waitLogN(t, ctx, a, LogDTMFSent, len(digits))
	got := waitLogN(t, ctx, b, `^received event: '.' \(end=1\)$`, len(digits))
	re := regexp.MustCompile(LogDTMFReceived)
	var heard string
	for _, l := range got {
		heard += re.FindStringSubmatch(l)[1]
	}
	t.Logf("A: %q\nB: %q", sent, got)
	if heard != digits {
		t.Errorf("B received DTMF %q, want %q", heard, digits)
	}
	if err := a.SendDTMF("12x"); err == nil {
		t.Error("SendDTMF(\"12x\") succeeded, want an error")
	}

	if err := a.Hold(); err != nil {
		t.Fatal(err)
	}
	t.Logf("A: %s", waitLog(t, ctx, a, LogHold))
	t.Logf("B: %s", waitLog(t, ctx, b, LogReINVITE))
	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	t.Logf("A: %s", waitLog(t, ctx, a, LogResume))
	t.Logf("B: %q", waitLogN(t, ctx, b, LogReINVITE, 2))

	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	t.Logf("B: %s", waitLog(t, ctx, b, LogTerminated))
	t.Logf("A: %s", waitLog(t, ctx, a, LogPeerHangup))
	t.Logf("A: %s", waitLog(t, ctx, a, LogTerminated))
}

// TestSRTPMandatoryRefusesPlain proves MediaEnc takes effect: B with
// SRTP mandatory refuses A's plain RTP offer.
func TestSRTPMandatoryRefusesPlain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := Start(t, ctx, Options{Name: "B", AutoAnswer: true, MediaEnc: "srtp-mand", Lifetime: 30 * time.Second})
	a := Start(t, ctx, Options{Name: "A", Lifetime: 30 * time.Second})
	if err := a.Dial(b.URI()); err != nil {
		t.Fatal(err)
	}
	line := waitLog(t, ctx, a, LogClosed)
	t.Logf("A: %s", line)
	if !strings.Contains(line, "488") {
		t.Errorf("A: %q, want a 488 refusal", line)
	}
	if l, ok := b.out.find(regexp.MustCompile(LogEstablished)); ok {
		t.Errorf("B established a plain call: %q", l)
	}
}

// TestWAVSource proves Options.WAV: A sends a WAV file of a 700 Hz tone
// (aufile) instead of a sine, and B hears it.
func TestWAVSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wav := filepath.Join(t.TempDir(), "tone.wav")
	// Longer than the test: when aufile reaches the end of the file,
	// baresip hangs up ("aufile: end of file", "menu: audio error
	// (0,end of file)").
	if err := WriteWAV(wav, Sine(700, 8000, 1, 30, 0.5)); err != nil {
		t.Fatal(err)
	}
	b := Start(t, ctx, Options{Name: "B", ToneHz: 1000, AutoAnswer: true, Codecs: []string{CodecPCMU}, Lifetime: 30 * time.Second})
	a := Start(t, ctx, Options{Name: "A", WAV: wav, Codecs: []string{CodecPCMU}, Lifetime: 30 * time.Second})
	if err := a.Dial(b.URI()); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, a, LogEstablished)
	waitLog(t, ctx, b, LogRTPEstablished)
	t.Logf("A: %s", waitLog(t, ctx, a, `^audio tx pipeline: `))
	recorded(t, ctx, 2, a, b)
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, a, LogTerminated)
	waitLog(t, ctx, b, LogTerminated)
	heard(t, a, 1000, 700)
	heard(t, b, 700, 1000)
}
