package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/baresiptest"
	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
)

// Codec module sources, relative to this package; built with the flags
// make builds them with (codectest.CFlags).
const (
	g726Source = "../../plugins/audio/codecs/g726/g726.c"
	g711Source = "../../plugins/audio/codecs/g711/g711.c"
)

// moduleCase is a codec of the baresip interop matrix that the host's
// audio plugin takes from a codec module.
type moduleCase struct {
	audioCase
	file string   // the module's file in the codec directory
	args []string // clang's arguments: flags and source
}

// moduleCases: G.726-32 from the module with the packing baresip 1.0
// sends (make's extra/g726-32-aal2.wasm), and PCMU from the G.711 module
// (make's extra/pcmu.wasm), which overrides the built-in PCMU.
func moduleCases() []moduleCase {
	return []moduleCase{
		{audioCase{name: "G726-32", ours: "G726-32", theirs: baresiptest.CodecG726, decoder: "G726-32 8000Hz"}, "g726-32.wasm", []string{"-DG726_PACKING_AAL2", g726Source}},
		{audioCase{name: "PCMU", ours: "PCMU", theirs: baresiptest.CodecPCMU, decoder: "PCMU 8000Hz"}, "pcmu.wasm", []string{g711Source}},
	}
}

// buildModule builds a case's module.
func (c moduleCase) build(t *testing.T) string {
	t.Helper()
	return codectest.BuildC(t, c.file, c.args...)
}

// installModule copies the module at path into dir as file, written
// under another name and renamed, as a vendor installs one.
func installModule(t *testing.T, dir, file, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, file+".part")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, file)); err != nil {
		t.Fatal(err)
	}
}

// moduleConfig writes a config dir whose codec list is codecs, SRTP off,
// and whose audio.codec_directory is codecDir.
func moduleConfig(t *testing.T, codecs, codecDir string) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("rtp:\n    audio_codec_list = %s\n    srtp_encryption = disabled\naudio:\n    codec_directory = %s\n", codecs, codecDir)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkModule asks p for /stats: its audio stream is on codec, from the
// codec module file.
func (f *flow) checkModule(p *proc, codec, file string) {
	f.t.Helper()
	f.send(p, "/stats")
	l := f.awaitName(p, "statistics")
	if l.Attributes["codec"] != codec || l.Attributes["codec_module"] != file || l.Attributes["codec_version"] == nil {
		f.t.Errorf("%s: on %v from module %v version %v, want %s from %s", p.who, l.Attributes["codec"], l.Attributes["codec_module"], l.Attributes["codec_version"], codec, file)
	}
}

// TestBaresipModuleCodecs: the host with G.726-32, then PCMU, from codec
// modules calls baresip and baresip calls the host: baresip decodes the
// codec, the host's stream reports the module, and each side hears the
// other's tone.
func TestBaresipModuleCodecs(t *testing.T) {
	our, theirs := 440.0, 1000.0
	// Built before baresip starts: a build can outlast its lifetime.
	plugins := mediaPlugins(t)
	for _, c := range moduleCases() {
		codecDir := t.TempDir()
		installModule(t, codecDir, c.file, c.build(t))
		t.Run("host calls baresip "+c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: int(theirs), AutoAnswer: true, Codecs: []string{c.theirs}})
			rec := filepath.Join(t.TempDir(), "host.wav")
			f := &flow{t: t, tc: udp4}
			f.c = startProc(t, "host", "call", b.URI(), "--audio", "--json", "--user", "alice", "--plugin-dir", plugins,
				"--config-dir", moduleConfig(t, c.ours, codecDir), "--play", toneWAV(t, our), "--record", rec)
			f.awaitName(f.c, "SIPSessionDidStart")
			if err := b.WaitRecorded(ctx, 2); err != nil {
				f.fatalf("baresip recorded no media: %v", err)
			}
			f.checkCodec(ctx, f.c, b, c.audioCase)
			f.checkModule(f.c, c.name, c.file)
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
			rec := filepath.Join(t.TempDir(), "host.wav")
			f := &flow{t: t, tc: udp4}
			uri := startMediaListener(t, f, "--config-dir", moduleConfig(t, c.ours, codecDir), "--play", toneWAV(t, our), "--record", rec)
			b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: int(theirs), Codecs: []string{c.theirs}})
			if err := b.Dial(uri); err != nil {
				t.Fatal(err)
			}
			f.awaitName(f.l, "SIPSessionDidStart")
			if err := b.WaitRecorded(ctx, 2); err != nil {
				f.fatalf("baresip recorded no media: %v", err)
			}
			f.checkCodec(ctx, f.l, b, c.audioCase)
			f.checkModule(f.l, c.name, c.file)
			_ = b.Hangup()
			f.awaitName(f.l, "SIPSessionDidEnd")
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

// TestRefreshCodecsMovesCallToModule: the host calls baresip, offering
// G726-32 then PCMU with no G.726 module installed, so the call is on
// PCMU. The module is dropped into the codec directory during the call and
// /refresh-codecs re-offers: the re-INVITE moves both sides onto G726-32,
// and a recording made after the move holds baresip's tone.
func TestRefreshCodecsMovesCallToModule(t *testing.T) {
	// Built before baresip starts: a build can outlast its lifetime.
	plugins := mediaPlugins(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	g726 := moduleCases()[0]
	module := g726.build(t)
	codecDir := t.TempDir()
	our, theirs := 440.0, 1000.0
	b := baresiptest.Start(t, ctx, baresiptest.Options{ToneHz: int(theirs), AutoAnswer: true, Codecs: []string{baresiptest.CodecG726, baresiptest.CodecPCMU}})
	f := &flow{t: t, tc: udp4}
	f.c = startProc(t, "host", "call", b.URI(), "--audio", "--json", "--user", "alice", "--plugin-dir", plugins,
		"--config-dir", moduleConfig(t, "G726-32,PCMU", codecDir), "--play", toneWAV(t, our), "--trace-sip")
	f.awaitName(f.c, "SIPSessionDidStart")
	if _, err := b.WaitLog(ctx, `^audio: Set audio decoder: PCMU 8000Hz`); err != nil {
		f.fatalf("baresip is not on PCMU: %v", err)
	}
	f.awaitPlayed(f.c, 25) // the call is up, on PCMU

	installModule(t, codecDir, g726.file, module)
	f.send(f.c, "/refresh-codecs")
	if l := f.awaitName(f.c, "codecs"); !l.Changed || strings.Join(l.Codecs, ",") != "G726-32,PCMU" {
		f.fatalf("/refresh-codecs: codecs %v, changed %v; want G726-32,PCMU, changed", l.Codecs, l.Changed)
	}
	// The call's INVITE transaction came before SIPSessionDidStart: this
	// one is the re-INVITE's.
	tr := f.await(f.c, "the re-INVITE's transaction", func(l jsonLine) bool {
		return l.Name == "SIPSessionDidProcessTransaction" && l.Data["method"] == "INVITE" && l.Data["originator"] == "local"
	})
	if tr.Data["code"] != float64(200) {
		f.fatalf("re-INVITE answered %v", tr.Data)
	}
	// The stream's notification and the session's come by two paths:
	// the move may print before or after the transaction.
	moved := func(l jsonLine) bool {
		return l.Name == "AudioStreamDidChangeRTPParameters" && l.Data["codec"] == "G726-32"
	}
	if !slices.ContainsFunc(f.c.seen, moved) {
		f.await(f.c, "the move onto G726-32", moved)
	}
	if _, err := b.WaitLog(ctx, `^audio: Set audio decoder: G726-32 8000Hz`); err != nil {
		f.t.Errorf("baresip did not move onto G726-32: %v", err)
	}
	f.checkModule(f.c, "G726-32", g726.file)

	// What the host hears from now on comes over G.726.
	rec := filepath.Join(t.TempDir(), "after.wav")
	f.send(f.c, "/record "+rec)
	f.awaitName(f.c, "AudioStreamDidStartRecording")
	f.awaitPlayed(f.c, 100)
	f.send(f.c, "/stop-recording")
	f.awaitName(f.c, "AudioStreamDidStopRecording")
	if s := toneShare(t, rec, theirs); s < 0.1 {
		t.Errorf("the recording after the move has %.0f Hz at %.3f of its power: baresip not heard over G.726", theirs, s)
	}
	f.send(f.c, "/end")
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("host exit: %v", err)
	}
	if t.Failed() {
		t.Log(f.dump())
	}
}

// awaitPlayed polls p's /stats until n more received frames were decoded
// and played.
func (f *flow) awaitPlayed(p *proc, n float64) {
	f.t.Helper()
	played := func() float64 {
		f.send(p, "/stats")
		l := f.awaitName(p, "statistics")
		m, _ := l.Statistics["rx"].(map[string]any)
		v, _ := m["played"].(float64)
		return v
	}
	base := played()
	deadline := time.Now().Add(flowWait)
	for played() < base+n {
		if time.Now().After(deadline) {
			f.fatalf("%s: fewer than %.0f frames played within %v", p.who, n, flowWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAudioCodecsCommand: `sipstreams audio codecs` lists, through the
// real audio plugin, the built-in codecs, a module with its version, file
// and SHA-256, and a refused file with the reason; --json gives the same.
func TestAudioCodecsCommand(t *testing.T) {
	dir := t.TempDir()
	installModule(t, dir, "g726-32.wasm", codectest.BuildC(t, "g726-32.wasm", g726Source))
	if err := os.WriteFile(filepath.Join(dir, "broken.wasm"), []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "audio", "codecs", "--plugin-dir", mediaPlugins(t), "--codec-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^codec directory ` + regexp.QuoteMeta(dir) + `$`,
		`(?m)^NAME +VERSION +PT +RATE +STATE +STREAMS +FILE +SHA-256$`,
		`(?m)^PCMU +- +0 +8000 +built-in +0 +- +-$`,
		`(?m)^opus +- +dyn +48000 +built-in `,
		`(?m)^G726-32 +1\.0\.0 +dyn +8000 +loaded +0 +g726-32\.wasm +[0-9a-f]{64}$`,
		`(?m)^- +- +dyn +- +refused +0 +broken\.wasm +[0-9a-f]{64}$`,
		`(?m)^broken\.wasm refused: not a WebAssembly module`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
	code, out, errOut = runCLI(t, "audio", "codecs", "--json", "--plugin-dir", mediaPlugins(t), "--codec-dir", dir)
	if code != 0 {
		t.Fatalf("--json exit %d: %s", code, errOut)
	}
	var list audio.CodecList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	states := map[string]string{}
	for _, c := range list.Codecs {
		states[c.Name+"/"+c.File] = c.State
	}
	want := map[string]string{"opus/": "built-in", "G722/": "built-in", "PCMU/": "built-in", "PCMA/": "built-in", "G726-32/g726-32.wasm": "loaded", "/broken.wasm": "refused"}
	if fmt.Sprint(states) != fmt.Sprint(want) || list.Directory != dir {
		t.Errorf("--json listing %+v, want states %v", list, want)
	}
}
