package audiostream_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// Module sources, relative to this package.
const (
	g726Source = "../../codecs/g726/g726.c"
	badSource  = "../../../../sdk/codec/module/testdata/bad.c"
)

// builtModule builds a test module: "g726-v1", "g726-v2", "good-l16" or
// a flag of bad.c such as "BAD_TRAP".
func builtModule(t *testing.T, name string) string {
	t.Helper()
	switch name {
	case "g726-v1":
		return codectest.BuildC(t, name+".wasm", `-DG726_VERSION="1.0.0"`, g726Source)
	case "g726-v2":
		return codectest.BuildC(t, name+".wasm", `-DG726_VERSION="2.0.0"`, g726Source)
	case "good-l16":
		return codectest.BuildC(t, name+".wasm", badSource)
	}
	return codectest.BuildC(t, name+".wasm", "-D"+name, badSource)
}

// install copies a module into dir as file, the way a vendor should:
// written under another name, then renamed.
func install(t *testing.T, dir, file, module string) {
	t.Helper()
	data, err := os.ReadFile(module)
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

// newModuleHarness runs the plugin in-process with a codec directory.
func newModuleHarness(t *testing.T, opts ...audiostream.Option) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	lp, err := sdk.NewProvider(audiostream.Plugin("test", append([]audiostream.Option{audiostream.WithCodecDirectory(dir)}, opts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWith(t, lp), dir
}

// codecs lists the plugin's codecs.
func (h *harness) codecs(t *testing.T) sdkaudio.CodecList {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	l, err := sdkaudio.ListCodecs(ctx, h.lp, "")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// entry finds a listed codec by file (or, for built-ins, name) and state.
func entry(l sdkaudio.CodecList, key, state string) (sdkaudio.CodecInfo, bool) {
	for _, c := range l.Codecs {
		if (c.File == key || (c.File == "" && c.Name == key)) && c.State == state {
			return c, true
		}
	}
	return sdkaudio.CodecInfo{}, false
}

// attrsCodec is the codec a stream uses.
func attrsCodec(t *testing.T, s sdk.Stream) string {
	t.Helper()
	return attrsOf(t, s).Codec
}

// attrsOf are a stream's audio attributes.
func attrsOf(t *testing.T, s sdk.Stream) sdkaudio.Attributes {
	t.Helper()
	_, attrs, err := sdkaudio.ReadAttributes(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return attrs
}

// onModule checks that the streams use the codec of module file at version.
func onModule(t *testing.T, codec, file, version string, streams ...*sdk.Opened) {
	t.Helper()
	for _, o := range streams {
		a := attrsOf(t, o.Stream)
		if a.Codec != codec || a.CodecModule != file || a.CodecVersion != version {
			t.Fatalf("stream %d on %s from %q version %q, want %s from %s version %s", o.Handle, a.Codec, a.CodecModule, a.CodecVersion, codec, file, version)
		}
	}
}

// played waits until a stream has played n more frames than it had.
func played(t *testing.T, s sdk.Stream, n uint64) {
	t.Helper()
	base := stats(t, s).RX.Played
	waitFor(t, "media", func() bool { return stats(t, s).RX.Played >= base+n })
}

// TestCodecModuleHotSwap: a G.726 module dropped into the codec directory
// while the plugin runs is used by the next call, which carries each
// side's tone; a new version replaces it mid-call (the running call keeps
// the old one, through a re-offer too; a new call gets the new one);
// removed, new offers no longer list it; a running call renegotiates onto
// it once it is back.
func TestCodecModuleHotSwap(t *testing.T) {
	h, dir := newModuleHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "G726-32,PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}

	// Nothing installed: built-ins only, G726-32 not offered.
	l := h.codecs(t)
	if len(l.Codecs) != 4 || l.Directory != dir {
		t.Fatalf("listing of an empty directory: %+v", l)
	}
	first := h.open(account("a", settings), account("b", settings))
	if mLineHas(first.offer, "a=rtpmap:96 G726-32") {
		t.Fatalf("G726-32 offered before any module:\n%s", first.offer)
	}
	first.start(first.answer)
	if a := attrsOf(t, first.a.Stream); a.Codec != "PCMU" || a.CodecModule != "" || a.CodecVersion != "" {
		t.Fatalf("first call on %+v, want the built-in PCMU", a)
	}

	// Dropped in: the next call uses it, and carries audio both ways.
	install(t, dir, "g726-32.wasm", builtModule(t, "g726-v1"))
	c := h.open(account("c", settings), account("d", settings))
	if !mLineHas(c.offer, "a=rtpmap:96 G726-32/8000") || !mLineHas(c.answer, "a=rtpmap:96 G726-32/8000") {
		t.Fatalf("G726-32 not negotiated:\noffer:\n%s\nanswer:\n%s", c.offer, c.answer)
	}
	c.start(c.answer)
	onModule(t, "G726-32", "g726-32.wasm", "1.0.0", c.a, c.b)
	recA, recB := exchange(t, c, false)
	hears(t, "A over G.726", recA, toneB)
	hears(t, "B over G.726", recB, toneA)
	v1, ok := entry(h.codecs(t), "g726-32.wasm", sdkaudio.CodecLoaded)
	if !ok || v1.Version != "1.0.0" || v1.Streams != 4 || len(v1.SHA256) != 64 {
		t.Fatalf("v1 listed as %+v (%v), want loaded, version 1.0.0, 4 states", v1, ok)
	}

	// Replaced mid-call: the running call keeps v1, a new call gets v2.
	install(t, dir, "g726-32.wasm", builtModule(t, "g726-v2"))
	l = h.codecs(t)
	old, okOld := entry(l, "g726-32.wasm", sdkaudio.CodecRetired)
	cur, okCur := entry(l, "g726-32.wasm", sdkaudio.CodecLoaded)
	if !okOld || !okCur || old.Version != "1.0.0" || old.Streams != 4 || cur.Version != "2.0.0" || cur.Streams != 0 || cur.SHA256 == old.SHA256 {
		t.Fatalf("after the replacement: %+v", l.Codecs)
	}
	played(t, c.a.Stream, 25) // the running call goes on, on v1
	onModule(t, "G726-32", "g726-32.wasm", "1.0.0", c.a, c.b)
	// A re-offer (a session refresh, a hold) does not move it onto the
	// new module of its codec either.
	c.reoffer(c.b, c.a)
	onModule(t, "G726-32", "g726-32.wasm", "1.0.0", c.a, c.b)
	played(t, c.b.Stream, 25)
	e := h.open(account("e", settings), account("f", settings))
	e.start(e.answer)
	onModule(t, "G726-32", "g726-32.wasm", "2.0.0", e.a, e.b)
	played(t, e.b.Stream, 25)
	if cur, _ := entry(h.codecs(t), "g726-32.wasm", sdkaudio.CodecLoaded); cur.Version != "2.0.0" || cur.Streams != 4 {
		t.Fatalf("v2 after a new call: %+v", cur)
	}
	// The first G.726 call ends: v1 is released.
	for _, o := range []*sdk.Opened{c.a, c.b} {
		mustCall(t, "end", func(ctx context.Context) error { return o.Stream.End(ctx) })
	}
	if _, ok := entry(h.codecs(t), "g726-32.wasm", sdkaudio.CodecRetired); ok {
		t.Fatal("v1 still listed after its streams ended")
	}

	// Removed: new offers no longer list it; the call on v2 goes on.
	if err := os.Remove(filepath.Join(dir, "g726-32.wasm")); err != nil {
		t.Fatal(err)
	}
	g := h.open(account("g", settings), account("h", settings))
	if mLineHas(g.offer, "a=rtpmap:96 G726-32") {
		t.Fatalf("G726-32 offered after its removal:\n%s", g.offer)
	}
	played(t, e.a.Stream, 25)

	// Back again: the first call (on PCMU) renegotiates onto it.
	install(t, dir, "g726-32.wasm", builtModule(t, "g726-v1"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	got, err := sdkaudio.RefreshCodecs(ctx, first.a.Stream)
	if err != nil || !got.Changed || strings.Join(got.Codecs, ",") != "G726-32,PCMU" {
		t.Fatalf("RefreshCodecs = %+v, %v", got, err)
	}
	first.reoffer(first.a, first.b)
	onModule(t, "G726-32", "g726-32.wasm", "1.0.0", first.a, first.b)
	for _, o := range []*sdk.Opened{first.a, first.b} {
		ch := h.postedAsPair(o, sdkaudio.DidChangeRTPParameters, sdkaudio.RTPDidChangeRTPParameters, 1)
		if !strings.Contains(string(ch[0].Data), `"codec":"G726-32"`) {
			t.Errorf("stream %d: %s", o.Handle, ch[0].Data)
		}
	}
	played(t, first.b.Stream, 25)
	recA, recB = exchange(t, first, false)
	hears(t, "A after renegotiation", recA, toneB)
	hears(t, "B after renegotiation", recB, toneA)
}

// TestBadCodecModules: each bad module is refused at load with its reason
// (and never offered), or, failing at run time, fails only the streams
// that use it with MediaStreamDidFail while a call on a built-in codec goes
// on; a good call follows.
func TestBadCodecModules(t *testing.T) {
	tests := []struct {
		module  string
		refused string // the reason's text, for modules refused at load
		failure string // MediaStreamDidFail's reason, for run-time failures
	}{
		{module: "not-wasm", refused: "not a WebAssembly module"},
		{module: "BAD_ABI", refused: "unsupported codec ABI version"},
		{module: "BAD_NO_DECODE", refused: "missing or mistyped export: sipstreams_codec_decode"},
		{module: "BAD_TRAP", failure: "module trapped"},
		{module: "BAD_LOOP", failure: "module call ran past its loop budget"},
		{module: "BAD_GROW", failure: "module reached its memory limit"},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			// A small loop budget: the endless loop holds the mixer
			// clock only briefly.
			h, dir := newModuleHarness(t, audiostream.WithModuleOptions(module.WithCallBudget(1<<22), module.WithMemoryLimit(4<<20)))
			plain := map[string]string{sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}
			withModule := map[string]string{sdkaudio.SettingCodecList: "L16,PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}
			// A call on a built-in codec, running throughout.
			bystander := h.open(account("x", plain), account("y", plain))
			bystander.start(bystander.answer)

			if tt.module == "not-wasm" {
				if err := os.WriteFile(filepath.Join(dir, "l16.wasm"), []byte("MZ\x90\x00 not a module"), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				install(t, dir, "l16.wasm", builtModule(t, tt.module))
			}
			l := h.codecs(t)
			if tt.refused != "" {
				e, ok := entry(l, "l16.wasm", sdkaudio.CodecRefused)
				if !ok || !strings.Contains(e.Reason, tt.refused) || len(e.SHA256) != 64 {
					t.Fatalf("listing %+v, want l16.wasm refused for %q", l.Codecs, tt.refused)
				}
				c := h.open(account("a", withModule), account("b", withModule))
				if mLineHas(c.offer, "a=rtpmap:96 L16") {
					t.Fatalf("a refused module offered:\n%s", c.offer)
				}
			} else {
				if _, ok := entry(l, "l16.wasm", sdkaudio.CodecLoaded); !ok {
					t.Fatalf("listing %+v, want l16.wasm loaded", l.Codecs)
				}
				c := h.open(account("a", withModule), account("b", withModule))
				c.start(c.answer)
				if got := attrsCodec(t, c.a.Stream); got != "L16" {
					t.Fatalf("the call is on %s, want L16", got)
				}
				for _, o := range []*sdk.Opened{c.a, c.b} {
					f := h.waitNotification(o, sdk.MediaStreamDidFail, 1)
					if !strings.Contains(string(f[0].Data), tt.failure) {
						t.Errorf("stream %d failed with %s, want %q", o.Handle, f[0].Data, tt.failure)
					}
				}
				if e, _ := entry(h.codecs(t), "l16.wasm", sdkaudio.CodecLoaded); e.Failures == 0 {
					t.Errorf("listing after the failure: %+v", e)
				}
			}
			// The bystander never failed and still has media.
			played(t, bystander.b.Stream, 25)
			for _, o := range []*sdk.Opened{bystander.a, bystander.b} {
				if f := h.notifications(o, sdk.MediaStreamDidFail); len(f) > 0 {
					t.Fatalf("the call on PCMU failed: %s", f[0].Data)
				}
			}
			// And a good call afterwards carries audio both ways.
			good := h.open(account("c", plain), account("d", plain))
			good.start(good.answer)
			recA, recB := exchange(t, good, false)
			hears(t, "A", recA, toneB)
			hears(t, "B", recB, toneA)
		})
	}
}
