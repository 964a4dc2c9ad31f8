package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/baresiptest"
)

// audioCase is one codec and SRTP policy of the baresip interop matrix.
type audioCase struct {
	name    string
	ours    string // our rtp.audio_codec_list
	theirs  string // baresip's audio_codecs
	decoder string // what baresip logs: "audio: Set audio decoder: <decoder>"
	srtp    bool   // sdes_mandatory here, srtp-mand there
	shared  bool   // our rtp.shared_sockets = 1
}

func audioCases() []audioCase {
	var out []audioCase
	for _, c := range []audioCase{
		{name: "PCMU", ours: "PCMU", theirs: baresiptest.CodecPCMU, decoder: "PCMU 8000Hz"},
		{name: "G722", ours: "G722", theirs: baresiptest.CodecG722, decoder: "G722 16000Hz"},
		{name: "opus", ours: "opus", theirs: baresiptest.CodecOpus, decoder: "opus 48000Hz"},
	} {
		out = append(out, c)
		c.srtp, c.name = true, c.name+" SRTP"
		out = append(out, c)
	}
	// Our side on shared sockets (rtp.shared_sockets), baresip with its
	// own port per call: its packets are routed to the call by address.
	out = append(out,
		audioCase{name: "PCMU shared sockets", ours: "PCMU", theirs: baresiptest.CodecPCMU, decoder: "PCMU 8000Hz", shared: true},
		audioCase{name: "opus SRTP shared sockets", ours: "opus", theirs: baresiptest.CodecOpus, decoder: "opus 48000Hz", srtp: true, shared: true})
	return out
}

// audioConfig writes a config dir with the case's codec and SRTP policy.
func audioConfig(t *testing.T, c audioCase) string {
	t.Helper()
	dir := t.TempDir()
	policy := "disabled"
	if c.srtp {
		policy = "sdes_mandatory"
	}
	conf := fmt.Sprintf("rtp:\n    audio_codec_list = %s\n    srtp_encryption = %s\n", c.ours, policy)
	if c.shared {
		conf += "    shared_sockets = 1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// toneWAV writes seconds of a sine of hz at 8 kHz mono.
func toneWAV(t *testing.T, hz float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tone-%.0f.wav", hz))
	if err := baresiptest.WriteWAV(path, baresiptest.Sine(hz, 8000, 1, 10, 0.4)); err != nil {
		t.Fatal(err)
	}
	return path
}

// toneShare is the share of the power of a recording at hz (Goertzel over
// the whole file, against its total power): about 0.5 for each of two
// equally loud tones, near 0 for a tone that is not there.
func toneShare(t *testing.T, path string, hz float64) float64 {
	t.Helper()
	p, err := baresiptest.ReadWAV(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	x := p.Mono()
	if len(x) == 0 {
		t.Fatalf("%s is empty", path)
	}
	w := 2 * math.Pi * hz / float64(p.Rate)
	var re, im, total float64
	for i, v := range x {
		re += v * math.Cos(w*float64(i))
		im -= v * math.Sin(w*float64(i))
		total += v * v
	}
	if total == 0 {
		return 0
	}
	// A sine of amplitude A: |X|² = (A·N/2)², power A²·N/2.
	return 2 * (re*re + im*im) / float64(len(x)) / total
}

// checkHeard: our recording (both directions, mixed) holds our tone and
// baresip's; baresip's received recording is our tone.
func checkHeard(t *testing.T, b *baresiptest.Baresip, ours string, our, theirs float64) {
	t.Helper()
	for _, hz := range []float64{our, theirs} {
		if s := toneShare(t, ours, hz); s < 0.1 {
			t.Errorf("our recording has %.0f Hz at %.3f of its power: not heard", hz, s)
		}
	}
	recs, err := b.Recordings()
	if err != nil || len(recs) == 0 {
		t.Fatalf("baresip's recordings: %v %v", recs, err)
	}
	got, err := baresiptest.DominantFrequency(recs[len(recs)-1].Received)
	if err != nil || math.Abs(got-our) > 10 {
		t.Errorf("baresip heard %.1f Hz (%v), want our %.0f Hz", got, err, our)
	}
}

// checkCodec: baresip decodes the case's codec, and SRTP is on exactly
// when the case asks for it, on both sides.
func (f *flow) checkCodec(ctx context.Context, host *proc, b *baresiptest.Baresip, c audioCase) {
	f.t.Helper()
	if _, err := b.WaitLog(ctx, "^audio: Set audio decoder: "+regexp.QuoteMeta(c.decoder)); err != nil {
		f.t.Errorf("baresip does not decode %s: %v", c.decoder, err)
	}
	_, enabled := find(host.seen, "RTPStreamDidEnableEncryption")
	if enabled != c.srtp {
		f.t.Errorf("our RTPStreamDidEnableEncryption seen: %v, want %v", enabled, c.srtp)
	}
	if c.srtp {
		if _, err := b.WaitLog(ctx, baresiptest.LogSRTP); err != nil {
			f.t.Errorf("baresip did not enable SRTP: %v", err)
		}
	}
}

// awaitDTMF waits for our AudioStreamGotDTMF of each digit, in order.
func (f *flow) awaitDTMF(p *proc, digits string) {
	f.t.Helper()
	for _, d := range digits {
		l := f.awaitName(p, "AudioStreamGotDTMF")
		if l.Data["digit"] != string(d) {
			f.t.Errorf("%s got DTMF %v, want %c", p.who, l.Data["digit"], d)
		}
	}
}

// awaitSessionHold waits for our session's hold state change.
func (f *flow) awaitSessionHold(p *proc, originator string, onHold bool) {
	f.t.Helper()
	f.await(p, fmt.Sprintf("%s hold %v", originator, onHold), func(l jsonLine) bool {
		return l.Name == "SIPSessionDidChangeHoldState" && l.Data["originator"] == originator && l.Data["on_hold"] == onHold
	})
}

// TestBaresipInterop: the host's audio plugin with the real baresip, both
// directions, PCMU, G722 and opus, plain and with SRTP mandatory: each side
// sends a tone of its own and the recordings prove each heard the other;
// DTMF both ways; hold and unhold from each side.
func TestBaresipInterop(t *testing.T) {
	our, theirs := 440.0, 1000.0
	// Built before baresip starts: under load a build can outlast
	// baresip's lifetime (it then never answers).
	plugins := mediaPlugins(t)
	for _, c := range audioCases() {
		t.Run("host calls baresip "+c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			enc := ""
			if c.srtp {
				enc = "srtp-mand"
			}
			b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: int(theirs), AutoAnswer: true, Codecs: []string{c.theirs}, MediaEnc: enc})
			rec := filepath.Join(t.TempDir(), "host.wav")
			f := &flow{t: t, tc: udp4}
			f.c = startProc(t, "host", "call", b.URI(), "--audio", "--json", "--user", "alice", "--plugin-dir", plugins,
				"--config-dir", audioConfig(t, c), "--play", toneWAV(t, our), "--record", rec)
			f.awaitName(f.c, "SIPSessionDidStart")
			if err := b.WaitRecorded(ctx, 2); err != nil {
				f.fatalf("baresip recorded no media: %v", err)
			}
			f.checkCodec(ctx, f.c, b, c)
			f.send(f.c, "/dtmf 19")
			if _, err := b.WaitLogN(ctx, `^received event: '9' \(end=1\)$`, 1); err != nil {
				f.t.Errorf("baresip did not get our DTMF: %v", err)
			}
			if err := b.SendDTMF("37"); err != nil {
				t.Fatal(err)
			}
			f.awaitDTMF(f.c, "37")
			f.send(f.c, "/hold")
			f.awaitSessionHold(f.c, "local", true)
			f.send(f.c, "/unhold")
			f.awaitSessionHold(f.c, "local", false)
			if _, err := b.WaitLogN(ctx, baresiptest.LogReINVITE, 2); err != nil {
				f.t.Errorf("baresip saw no hold/unhold: %v", err)
			}
			_ = b.Hold()
			f.awaitSessionHold(f.c, "remote", true)
			_ = b.Resume()
			f.awaitSessionHold(f.c, "remote", false)
			f.send(f.c, "/end")
			if err := f.waitExit(f.c); err != nil {
				f.fatalf("host exit: %v", err)
			}
			if _, err := b.WaitLog(ctx, baresiptest.LogClosed); err != nil {
				f.t.Errorf("baresip did not see the end: %v", err)
			}
			checkHeard(t, b, rec, our, theirs)
			if t.Failed() {
				t.Log(f.dump())
			}
		})
		t.Run("baresip calls host "+c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			enc := ""
			if c.srtp {
				enc = "srtp-mand"
			}
			rec := filepath.Join(t.TempDir(), "host.wav")
			f := &flow{t: t, tc: udp4}
			uri := startMediaListener(t, f, "--config-dir", audioConfig(t, c), "--play", toneWAV(t, our), "--record", rec)
			b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: int(theirs), Codecs: []string{c.theirs}, MediaEnc: enc})
			if err := b.Dial(uri); err != nil {
				t.Fatal(err)
			}
			f.awaitName(f.l, "SIPSessionDidStart")
			if err := b.WaitRecorded(ctx, 2); err != nil {
				f.fatalf("baresip recorded no media: %v", err)
			}
			f.checkCodec(ctx, f.l, b, c)
			if err := b.SendDTMF("5*"); err != nil {
				t.Fatal(err)
			}
			f.awaitDTMF(f.l, "5*")
			f.send(f.l, "/dtmf 8")
			if _, err := b.WaitLogN(ctx, `^received event: '8' \(end=1\)$`, 1); err != nil {
				f.t.Errorf("baresip did not get our DTMF: %v", err)
			}
			_ = b.Hold()
			f.awaitSessionHold(f.l, "remote", true)
			_ = b.Resume()
			f.awaitSessionHold(f.l, "remote", false)
			f.send(f.l, "/hold")
			f.awaitSessionHold(f.l, "local", true)
			f.send(f.l, "/unhold")
			f.awaitSessionHold(f.l, "local", false)
			if _, err := b.WaitLogN(ctx, baresiptest.LogReINVITE, 2); err != nil {
				f.t.Errorf("baresip saw no hold/unhold: %v", err)
			}
			_ = b.Hangup()
			f.awaitName(f.l, "SIPSessionDidEnd")
			// The plugin's notifications and the session's come by two
			// paths: the recording's end may print before or after.
			if _, ok := find(f.l.seen, "AudioStreamDidStopRecording"); !ok {
				f.awaitName(f.l, "AudioStreamDidStopRecording")
			}
			if _, err := b.WaitLog(ctx, baresiptest.LogTerminated); err != nil {
				f.t.Errorf("baresip did not end the call: %v", err)
			}
			checkHeard(t, b, rec, our, theirs)
			f.quit()
		})
	}
}

// TestAudioICE: two hosts (separate processes) calling from and answering
// as SIP accounts with ICE enabled (the peer-to-peer account never uses
// ICE, as the reference's Bonjour account) and SRTP mandatory: ICE
// succeeds on both sides (host candidates on loopback), SRTP is on, and
// each recording holds the other side's tone. The callee's account is
// found from the Request-URI.
func TestAudioICE(t *testing.T) {
	cfg := func(user string) string {
		dir := t.TempDir()
		conf := fmt.Sprintf("rtp:\n    srtp_encryption = sdes_mandatory\naccounts:\n    %s@127.0.0.1:\n        sip:\n            register = no\n        nat_traversal:\n            use_ice = yes\n", user)
		if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := t.TempDir()
	recA, recB := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--config-dir", cfg("bob"), "--play", toneWAV(t, 1000), "--record", recB)
	f.c = startProc(t, "caller", "call", uri, "--audio", "--json", "--account", "alice@127.0.0.1", "--plugin-dir", mediaPlugins(t),
		"--config-dir", cfg("alice"), "--play", toneWAV(t, 440), "--record", recA)
	for _, p := range []*proc{f.c, f.l} {
		f.awaitName(p, "SIPSessionDidStart")
		for _, name := range []string{"RTPStreamICENegotiationDidSucceed", "RTPStreamDidEnableEncryption"} {
			if _, ok := find(p.seen, name); !ok {
				f.t.Errorf("%s: no %s before the session started", p.who, name)
			}
		}
	}
	// Media for a while, measured by each side's own clock: /stats until
	// 75 packets (1.5 s) came in on both sides (each side's recording must
	// hold the other's tone; a busy machine may start one side later).
	for _, p := range []*proc{f.c, f.l} {
		deadline := time.Now().Add(flowWait)
		for {
			f.send(p, "/stats")
			l := f.awaitName(p, "statistics")
			rx, _ := l.Statistics["rx"].(map[string]any)
			if n, _ := rx["packets"].(float64); n >= 75 {
				break
			}
			if time.Now().After(deadline) {
				f.fatalf("%s: no media over ICE: %v", p.who, l.Statistics)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	f.endByCaller() // waits for the listener's SIPSessionDidEnd too
	if _, ok := find(f.l.seen, "AudioStreamDidStopRecording"); !ok {
		f.awaitName(f.l, "AudioStreamDidStopRecording")
	}
	f.quit()
	for _, x := range []struct {
		path  string
		heard float64
	}{{recA, 1000}, {recB, 440}} {
		if s := toneShare(t, x.path, x.heard); s < 0.1 {
			t.Errorf("%s has %.0f Hz at %.3f of its power: the other side was not heard", x.path, x.heard, s)
		}
	}
}
