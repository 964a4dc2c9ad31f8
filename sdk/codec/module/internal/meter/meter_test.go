package meter

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// buildLoops compiles testdata/loops.c for wasm32 without libc, unoptimised
// so that the loops and the recursion stay as written.
func buildLoops(t testing.TB) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "loops.wasm")
	cmd := exec.Command("clang", "--target=wasm32", "-O0", "-nostdlib", "-Wl,--no-entry", "-o", out, "testdata/loops.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s(make deps installs clang and lld)", err, b)
	}
	return readFile(t, out)
}

// endless is a hand-written module: (func (export "f") (loop (br 0))).
var endless = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
	0x03, 0x02, 0x01, 0x00, // function 0 of type 0
	0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00, // export "f" func 0
	0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0 end end
}

// instance instantiates wasm (instrumented when meter) and returns it with
// its fuel global (nil when not metered).
func instance(t *testing.T, wasm []byte) (api.Module, api.MutableGlobal) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	fuel, _ := mod.ExportedGlobal(Global).(api.MutableGlobal)
	return mod, fuel
}

func metered(t *testing.T, wasm []byte) []byte {
	t.Helper()
	out, err := Instrument(wasm)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return out
}

// TestLoopsSpendFuel: an instrumented function computes what the original
// does, spending one unit per loop iteration begun; with too little fuel
// it traps and leaves the fuel at 0; an endless loop traps too.
// Recursion is not metered.
func TestLoopsSpendFuel(t *testing.T) {
	wasm := buildLoops(t)
	plain, _ := instance(t, wasm)
	mod, fuel := instance(t, metered(t, wasm))
	if fuel == nil {
		t.Fatalf("no exported mutable global %s", Global)
	}
	ctx := context.Background()
	tests := []struct {
		fn    string
		arg   uint64
		spent uint64 // at least (loop iterations begun)
	}{
		{"count", 1000, 1000},
		{"nested", 50, 50 * 51},
		{"recurse", 15, 0},
	}
	for _, tt := range tests {
		want, err := plain.ExportedFunction(tt.fn).Call(ctx, tt.arg)
		if err != nil {
			t.Fatal(err)
		}
		const full = 1 << 20
		fuel.Set(full)
		got, err := mod.ExportedFunction(tt.fn).Call(ctx, tt.arg)
		if err != nil || got[0] != want[0] {
			t.Fatalf("%s(%d) = %v, %v; the original gives %v", tt.fn, tt.arg, got, err, want)
		}
		spent := full - fuel.Get()
		if spent < tt.spent || spent > tt.spent+tt.spent/10+2 {
			t.Errorf("%s(%d) spent %d, want about %d", tt.fn, tt.arg, spent, tt.spent)
		}
		if tt.spent > 0 {
			fuel.Set(tt.spent / 2)
			if _, err := mod.ExportedFunction(tt.fn).Call(ctx, tt.arg); err == nil || fuel.Get() != 0 {
				t.Errorf("%s(%d) with half the fuel: %v, fuel %d; want a trap with no fuel left", tt.fn, tt.arg, err, fuel.Get())
			}
		}
	}
	fuel.Set(1 << 16)
	if _, err := mod.ExportedFunction("forever").Call(ctx); err == nil || fuel.Get() != 0 {
		t.Fatalf("forever: %v, fuel %d; want a trap with no fuel left", err, fuel.Get())
	}
}

// TestEndlessHandWritten: a loop of the smallest module traps when its
// fuel is spent, with no global or export section to add to beforehand.
func TestEndlessHandWritten(t *testing.T) {
	mod, fuel := instance(t, metered(t, endless))
	fuel.Set(1000)
	if _, err := mod.ExportedFunction("f").Call(context.Background()); err == nil || fuel.Get() != 0 {
		t.Fatalf("f: %v, fuel %d", err, fuel.Get())
	}
}

// TestRefused: what Instrument cannot read or does not know is refused
// with ErrMalformed, never a panic.
func TestRefused(t *testing.T) {
	withExport := func(name string) []byte {
		b := append([]byte(nil), endless...)
		// Replace the export "f" with name.
		i := bytes.Index(b, []byte{0x07, 0x05, 0x01, 0x01, 'f'})
		exp := append([]byte{0x01, byte(len(name))}, name...)
		exp = append(exp, 0x00, 0x00)
		out := append(append(append([]byte(nil), b[:i]...), 0x07, byte(len(exp))), exp...)
		return append(out, b[i+7:]...)
	}
	withBody := func(body ...byte) []byte {
		b := append([]byte(nil), endless[:26]...)
		fn := append([]byte{0x00}, body...)
		code := append([]byte{0x01, byte(len(fn))}, fn...)
		return append(append(b, 0x0a, byte(len(code))), code...)
	}
	tests := []struct {
		name string
		wasm []byte
	}{
		{"empty", nil},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00")},
		{"section past the end", append(append([]byte(nil), endless[:8]...), 0x01, 0x7f, 0x01)},
		{"unknown section", append(append([]byte(nil), endless...), 0x20, 0x00)},
		{"LEB128 too long", append(append([]byte(nil), endless[:8]...), 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"exports the fuel", withExport(Global)},
		{"atomics", withBody(0xfe, 0x00, 0x00, 0x00, 0x0b)},
		{"unknown opcode", withBody(0x27, 0x0b)},
		{"unbalanced end", withBody(0x03, 0x40, 0x0b)},
		{"bytes after the end", withBody(0x0b, 0x01)},
		{"bad 0xFC", withBody(0xfc, 0x7f, 0x0b)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Instrument(tt.wasm); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Instrument = %v, want ErrMalformed", err)
			}
		})
	}
	// The helper makes valid modules when given valid parts.
	if _, err := Instrument(withExport("g")); err != nil {
		t.Fatalf("a module exporting g: %v", err)
	}
}

// FuzzInstrument: any input is instrumented or refused, never a panic;
// and a module the runtime compiles still compiles once instrumented,
// with the fuel exported.
func FuzzInstrument(f *testing.F) {
	f.Add(endless)
	f.Add(buildLoops(f))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := Instrument(wasm)
		if err != nil {
			return
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			return
		}
		_ = orig.Close(ctx)
		m, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("the module compiles, its instrumented copy does not: %v", err)
		}
		defer m.Close(ctx)
		if !exportedGlobals(out)[Global] {
			t.Fatal("no fuel exported")
		}
	})
}

// exportedGlobals lists the names of an instrumented module's global
// exports (read back with the package's own reader).
func exportedGlobals(wasm []byte) map[string]bool {
	out := map[string]bool{}
	r := &reader{b: wasm, pos: 8}
	for r.pos < len(r.b) && r.err == nil {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if id != secExport {
			continue
		}
		er := &reader{b: body}
		n := er.u32()
		for i := uint32(0); i < n && er.err == nil; i++ {
			name, _ := er.name()
			kind := er.byte()
			er.u32()
			if kind == kindGlobal {
				out[name] = true
			}
		}
	}
	return out
}
