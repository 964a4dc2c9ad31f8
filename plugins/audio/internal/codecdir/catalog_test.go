package codecdir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/codecdir"
	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// Module sources, relative to this package.
const (
	l16Source  = "../../../../sdk/codec/module/testdata/bad.c" // without a flag: a good L16
	g711Source = "../../codecs/g711/g711.c"
)

// copyTo writes the module at src into dir as name, by a rename.
func copyTo(t *testing.T, dir, name, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, name+".part")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// listed finds a listing's entry by file (or, for built-ins, name).
func listed(l audio.CodecList, key string) []audio.CodecInfo {
	var out []audio.CodecInfo
	for _, c := range l.Codecs {
		if c.File == key || (c.File == "" && c.Name == key) {
			out = append(out, c)
		}
	}
	return out
}

// state is the one listing entry of key, which must be in state want.
func state(t *testing.T, l audio.CodecList, key, want string) audio.CodecInfo {
	t.Helper()
	got := listed(l, key)
	if len(got) != 1 || got[0].State != want {
		t.Fatalf("%s listed as %+v, want one entry %s\n%+v", key, got, want, l.Codecs)
	}
	return got[0]
}

// TestCatalog drives a catalog through what a codec directory sees: no
// directory; modules added, one duplicating another's codec, one named
// like a built-in, a refused file, files that are not modules; a file
// touched without change; a module replaced while a stream uses it;
// removals.
func TestCatalog(t *testing.T) {
	ctx := context.Background()
	l16 := codectest.BuildC(t, "l16.wasm", l16Source)
	l16b := codectest.BuildC(t, "l16b.wasm", "-O1", l16Source) // the same codec, other bytes
	pcmu := codectest.BuildC(t, "pcmu.wasm", g711Source)

	// No directory: the built-ins, and why the directory was not read.
	missing := codecdir.New(filepath.Join(t.TempDir(), "nope"), builtin.Codecs())
	l := missing.List(ctx)
	if l.DirectoryError == "" || len(l.Codecs) != 4 {
		t.Fatalf("listing of a missing directory: %+v", l)
	}
	for _, name := range codec.DefaultOrder() {
		state(t, l, name, audio.CodecBuiltIn)
	}

	dir := t.TempDir()
	c := codecdir.New(dir, builtin.Codecs(), codecdir.WithModuleOptions(module.WithMemoryLimit(8<<20)))
	t.Cleanup(c.Close)
	copyTo(t, dir, "a.wasm", l16)
	copyTo(t, dir, "b.wasm", l16)
	copyTo(t, dir, "pcmu.wasm", pcmu)
	for name, data := range map[string]string{"junk.wasm": "not a module", "notes.txt": "ignored", "a.wasm.part": "half"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.wasm"), 0o755); err != nil {
		t.Fatal(err)
	}
	l = c.List(ctx)
	if l.DirectoryError != "" || l.Directory != dir {
		t.Fatalf("listing: %+v", l)
	}
	a := state(t, l, "a.wasm", audio.CodecLoaded)
	if a.Name != "L16" || a.Version != "0.0.1" || a.PayloadType != codec.DynamicPayloadType || len(a.SHA256) != 64 {
		t.Errorf("a.wasm: %+v", a)
	}
	if b := state(t, l, "b.wasm", audio.CodecRefused); b.Reason != "codec L16 is already provided by a.wasm" {
		t.Errorf("b.wasm: %+v", b)
	}
	if j := state(t, l, "junk.wasm", audio.CodecRefused); !strings.Contains(j.Reason, "not a WebAssembly module") {
		t.Errorf("junk.wasm: %+v", j)
	}
	if p := state(t, l, "PCMU", audio.CodecOverridden); p.Reason != "replaced by pcmu.wasm" {
		t.Errorf("built-in PCMU: %+v", p)
	}
	state(t, l, "pcmu.wasm", audio.CodecLoaded)
	for _, f := range []string{"notes.txt", "a.wasm.part", "sub.wasm"} {
		if got := listed(l, f); len(got) != 0 {
			t.Errorf("%s listed: %+v", f, got)
		}
	}
	reg := c.Registry(ctx)
	mod, ok := reg.Lookup("L16")
	if !ok {
		t.Fatal("L16 not in the registry")
	}
	if p, _ := reg.Lookup("PCMU"); !isModule(p, "pcmu.wasm") {
		t.Errorf("PCMU in the registry is %T, want the module", p)
	}
	if got := len(reg.Ordered(codec.DefaultOrder())); got != 4 {
		t.Errorf("the default order resolves to %d codecs", got)
	}

	// Touched, not changed: the same module.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "a.wasm"), later, later); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Registry(ctx).Lookup("L16"); again != mod {
		t.Error("a touched file was loaded again")
	}

	// Replaced while a stream uses it: the new module for new streams,
	// the old one listed as retired until its stream ends.
	enc, err := mod.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	copyTo(t, dir, "a.wasm", l16b)
	reg = c.Registry(ctx)
	if cur, _ := reg.Lookup("L16"); cur == mod {
		t.Fatal("the replaced module is still the registry's")
	}
	l = c.List(ctx)
	entries := listed(l, "a.wasm")
	if len(entries) != 2 || entries[0].State != audio.CodecLoaded || entries[1].State != audio.CodecRetired ||
		entries[1].Streams != 1 || entries[0].SHA256 == entries[1].SHA256 || entries[1].SHA256 != a.SHA256 {
		t.Fatalf("a.wasm after the replacement: %+v", entries)
	}
	if _, err := enc.Encode(make([]int16, 160), nil); err != nil {
		t.Fatalf("the stream on the replaced module: %v", err)
	}
	if err := codec.Close(enc); err != nil {
		t.Fatal(err)
	}
	state(t, c.List(ctx), "a.wasm", audio.CodecLoaded)

	// Removed: the duplicate takes over; the built-in PCMU is back.
	for _, f := range []string{"a.wasm", "pcmu.wasm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	l = c.List(ctx)
	state(t, l, "b.wasm", audio.CodecLoaded)
	state(t, l, "PCMU", audio.CodecBuiltIn)
	if got := listed(l, "a.wasm"); len(got) != 0 {
		t.Errorf("a.wasm after its removal: %+v", got)
	}
	if p, ok := c.Registry(ctx).Lookup("PCMU"); !ok || isModule(p, "pcmu.wasm") {
		t.Errorf("PCMU after the module's removal is %T", p)
	}
}

// isModule tells whether c is the codec module of file.
func isModule(c codec.Codec, file string) bool {
	m, ok := c.(*module.Module)
	return ok && m.Name() == file
}

// TestCatalogReusesListing: every new stream asks for the registry, so a
// directory unchanged since a listing old enough to trust is not listed
// again and the registry is reused — yet a module added, one rewritten in
// place (the directory's stamp unchanged) and one added within the same
// tick of a coarse file system clock are all seen by the next stream.
func TestCatalogReusesListing(t *testing.T) {
	ctx := context.Background()
	l16 := codectest.BuildC(t, "l16.wasm", l16Source)
	l16b := codectest.BuildC(t, "l16b.wasm", "-O1", l16Source)
	pcmu := codectest.BuildC(t, "pcmu.wasm", g711Source)
	dir := t.TempDir()
	c := codecdir.New(dir, builtin.Codecs())
	t.Cleanup(c.Close)
	setDirTime := func(at time.Time) {
		t.Helper()
		if err := os.Chtimes(dir, at, at); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour)

	copyTo(t, dir, "a.wasm", l16)
	setDirTime(past)
	reg := c.Registry(ctx)
	first, ok := reg.Lookup("L16")
	if !ok {
		t.Fatal("L16 not in the registry")
	}
	if again := c.Registry(ctx); again != reg {
		t.Error("an unchanged directory gave a new registry")
	}

	// Added: the directory's stamp changes.
	copyTo(t, dir, "pcmu.wasm", pcmu)
	if p, _ := c.Registry(ctx).Lookup("PCMU"); !isModule(p, "pcmu.wasm") {
		t.Errorf("PCMU after pcmu.wasm was added is %T, want the module", p)
	}

	// Rewritten in place, the directory's stamp as it was.
	setDirTime(past)
	reg = c.Registry(ctx)
	data, err := os.ReadFile(l16b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.wasm"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	setDirTime(past)
	reg2 := c.Registry(ctx)
	if cur, _ := reg2.Lookup("L16"); cur == first || reg2 == reg {
		t.Error("a.wasm rewritten in place: the registry still has the old module")
	}

	// Added in the tick of the last listing: the stamp is the same, but a
	// listing that recent is not trusted.
	now := time.Now()
	setDirTime(now)
	c.Registry(ctx)
	copyTo(t, dir, "b.wasm", l16)
	setDirTime(now)
	state(t, c.List(ctx), "b.wasm", audio.CodecRefused) // a duplicate of a.wasm's L16, but seen
}

// TestCatalogDirectoryCreated: a missing directory (as the default one
// often is) is not listed again while it stays missing, and its creation
// with a module in it is seen by the next stream.
func TestCatalogDirectoryCreated(t *testing.T) {
	ctx := context.Background()
	pcmu := codectest.BuildC(t, "pcmu.wasm", g711Source)
	dir := filepath.Join(t.TempDir(), "codecs")
	c := codecdir.New(dir, builtin.Codecs())
	t.Cleanup(c.Close)
	reg := c.Registry(ctx)
	if again := c.Registry(ctx); again != reg {
		t.Error("a directory still missing gave a new registry")
	}
	if l := c.List(ctx); l.DirectoryError == "" {
		t.Errorf("listing of the missing directory: %+v", l)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyTo(t, dir, "pcmu.wasm", pcmu)
	if p, _ := c.Registry(ctx).Lookup("PCMU"); !isModule(p, "pcmu.wasm") {
		t.Errorf("PCMU once the directory was made is %T, want the module", p)
	}
	if l := c.List(ctx); l.DirectoryError != "" {
		t.Errorf("listing once the directory was made: %+v", l)
	}
}

// BenchmarkCatalogRegistry is what each new audio stream pays to learn its
// codecs: a directory unchanged for an hour, empty or missing.
func BenchmarkCatalogRegistry(b *testing.B) {
	for _, name := range []string{"empty", "missing"} {
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			if name == "missing" {
				dir = filepath.Join(dir, "codecs")
			} else {
				past := time.Now().Add(-time.Hour)
				if err := os.Chtimes(dir, past, past); err != nil {
					b.Fatal(err)
				}
			}
			c := codecdir.New(dir, builtin.Codecs())
			b.Cleanup(c.Close)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c.Registry(ctx)
			}
		})
	}
}
