package audiostream_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/spectrum"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// Frequencies each side sends.
const (
	toneA = 440.0
	toneB = 1000.0
)

// playedFrames is how much received audio (20 ms frames) a test waits for.
const playedFrames = 100

// exchange runs a call where A sends a 440 Hz tone file and B a 1000 Hz
// one, each records, and returns the recordings once each side has played
// playedFrames more frames of the other's audio (or, when failA, once A
// counted as many more SRTP failures): counted from the start of the
// recordings, so that a call that ran before records as long as a new one.
func exchange(t *testing.T, c *call, failA bool) (recA, recB string) {
	t.Helper()
	baseA, baseB := stats(t, c.a.Stream), stats(t, c.b.Stream)
	dir := t.TempDir()
	fileA := writeTone(t, dir, toneA, 16000, 10)
	fileB := writeTone(t, dir, toneB, 16000, 10)
	recA, recB = filepath.Join(dir, "a", "rec.wav"), filepath.Join(dir, "b", "rec.wav")
	mustCall(t, "set_input A", func(ctx context.Context) error { return sdkaudio.SetInput(ctx, c.a.Stream, fileA, 0) })
	mustCall(t, "set_input B", func(ctx context.Context) error { return sdkaudio.SetInput(ctx, c.b.Stream, fileB, 0) })
	for _, r := range []struct {
		s    sdk.Stream
		file string
	}{{c.a.Stream, recA}, {c.b.Stream, recB}} {
		mustCall(t, "start_recording", func(ctx context.Context) error {
			got, err := sdkaudio.StartRecording(ctx, r.s, r.file)
			if err == nil && got != r.file {
				t.Errorf("recording to %q, want %q", got, r.file)
			}
			return err
		})
	}
	waitFor(t, "signal levels", func() bool {
		_, attrs, err := sdkaudio.ReadAttributes(context.Background(), c.b.Stream)
		return err == nil && attrs.SignalLevel[0] > 0 && (failA || attrs.SignalLevel[1] > 0)
	})
	waitFor(t, "audio both ways", func() bool {
		sa, sb := stats(t, c.a.Stream), stats(t, c.b.Stream)
		heardB := sb.RX.Played >= baseB.RX.Played+playedFrames
		if failA {
			return sa.RX.SRTPFailures >= baseA.RX.SRTPFailures+playedFrames && heardB
		}
		return sa.RX.Played >= baseA.RX.Played+playedFrames && heardB
	})
	for _, s := range []sdk.Stream{c.a.Stream, c.b.Stream} {
		mustCall(t, "stop_recording", func(ctx context.Context) error { _, err := sdkaudio.StopRecording(ctx, s); return err })
	}
	// Each recording event under the seed's name and the reference's.
	pairs := [][2]string{
		{sdkaudio.WillStartRecordingAudio, sdkaudio.WillStartRecording},
		{sdkaudio.DidStartRecordingAudio, sdkaudio.DidStartRecording},
		{sdkaudio.WillStopRecordingAudio, sdkaudio.WillStopRecording},
		{sdkaudio.DidStopRecordingAudio, sdkaudio.DidStopRecording},
	}
	for _, o := range []*sdk.Opened{c.a, c.b} {
		for _, p := range pairs {
			if n := len(c.h.postedAsPair(o, p[0], p[1], 1)); n != 1 {
				t.Errorf("stream %d posted %s %d times, want once", o.Handle, p[0], n)
			}
			if n := len(c.h.notifications(o, p[1])); n != 1 {
				t.Errorf("stream %d posted %s %d times, want once", o.Handle, p[1], n)
			}
		}
	}
	return recA, recB
}

// tail returns the last second of a recording, skipping the start-up.
func tail(t *testing.T, path string) ([]int16, int) {
	t.Helper()
	samples, rate := readWAV(t, path)
	if len(samples) < rate {
		t.Fatalf("%s holds %d samples at %d Hz, want at least a second", path, len(samples), rate)
	}
	return samples[len(samples)-rate:], rate
}

// hears checks that a recording's dominant frequency is want.
// hears checks that the recording at path holds the remote's tone want.
// A recording has both directions (the remote and what the stream sends),
// so the remote's tone is measured on its own (Goertzel), not as the
// dominant one.
func hears(t *testing.T, who, path string, want float64) {
	t.Helper()
	samples, rate := tail(t, path)
	amp := spectrum.Goertzel(samples, rate, want)
	f, mag := spectrum.Dominant(samples, rate)
	t.Logf("%s recorded %.0f Hz at amplitude %.0f (dominant %.1f Hz at %.0f)", who, want, amp, f, mag)
	if amp < 1000 {
		t.Errorf("%s recorded %.0f Hz at amplitude %.0f: not heard (dominant %.1f Hz, RMS %.0f)", who, want, amp, f, spectrum.RMS(samples))
	}
}

func TestAudioExchange(t *testing.T) {
	tests := []struct {
		codec string
		srtp  string
	}{
		{"PCMU", sdkaudio.SRTPDisabled},
		{"G722", sdkaudio.SRTPDisabled},
		{"opus", sdkaudio.SRTPDisabled},
		{"PCMU", sdkaudio.SRTPMandatory},
		{"G722", sdkaudio.SRTPMandatory},
		{"opus", sdkaudio.SRTPMandatory},
	}
	for _, tt := range tests {
		t.Run(tt.codec+"/"+tt.srtp, func(t *testing.T) {
			h := newHarness(t)
			settings := map[string]string{sdkaudio.SettingCodecList: tt.codec, sdkaudio.SettingSRTP: tt.srtp}
			c := h.open(account("a", settings), account("b", settings))
			wantProto := "RTP/AVP"
			if tt.srtp == sdkaudio.SRTPMandatory {
				wantProto = "RTP/SAVP"
			}
			for _, m := range []string{c.offer, c.answer} {
				if !strings.Contains(m, "m=audio ") || !strings.Contains(m, " "+wantProto+" ") {
					t.Fatalf("media is not %s:\n%s", wantProto, m)
				}
			}
			c.start(c.answer)
			for _, o := range []*sdk.Opened{c.a, c.b} {
				_, attrs, err := sdkaudio.ReadAttributes(context.Background(), o.Stream)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.EqualFold(attrs.Codec, tt.codec) || attrs.SRTPActive != (tt.srtp == sdkaudio.SRTPMandatory) {
					t.Errorf("stream %d attributes %+v", o.Handle, attrs)
				}
				enc := h.notifications(o, sdkaudio.DidEnableEncryption)
				if (len(enc) == 1) != (tt.srtp == sdkaudio.SRTPMandatory) {
					t.Errorf("stream %d posted %s %d times", o.Handle, sdkaudio.DidEnableEncryption, len(enc))
				}
			}
			recA, recB := exchange(t, c, false)
			hears(t, "A", recA, toneB)
			hears(t, "B", recB, toneA)
			if st := stats(t, c.a.Stream); st.RX.SRTPFailures != 0 {
				t.Errorf("A counted %d SRTP failures", st.RX.SRTPFailures)
			}
		})
	}
}
