package module_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// bad builds testdata/bad.c with a -D flag ("" for the good module).
func bad(t testing.TB, flag string) string {
	t.Helper()
	args := []string{"testdata/bad.c"}
	if flag != "" {
		args = append([]string{"-D" + flag}, args...)
	}
	if flag == "BAD_COMMAND" {
		// A command: clang's default exec model, not a reactor.
		out := filepath.Join(t.TempDir(), "command.wasm")
		flags := []string{"--target=wasm32-wasi", "-O2", "-I", codectest.IncludeDir(), "-D" + flag, "-o", out, "testdata/bad.c"}
		return buildWith(t, out, flags)
	}
	return codectest.BuildC(t, "bad.wasm", args...)
}

func buildWith(t testing.TB, out string, flags []string) string {
	t.Helper()
	if b, err := execCommand("clang", flags...); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	return out
}

func write(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.wasm")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRefusedAtLoad: each bad module is refused at load with the reason.
func TestRefusedAtLoad(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		want error
	}{
		{"not wasm", func(t *testing.T) string { return write(t, []byte("#!/bin/sh\necho not a codec\n")) }, module.ErrNotWasm},
		{"empty", func(t *testing.T) string { return write(t, nil) }, module.ErrNotWasm},
		{"wasm version 2", func(t *testing.T) string { return write(t, []byte("\x00asm\x02\x00\x00\x00")) }, module.ErrNotWasm},
		{"truncated", func(t *testing.T) string {
			b, err := os.ReadFile(bad(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			return write(t, b[:len(b)/2])
		}, module.ErrInvalidModule},
		{"wrong ABI version", func(t *testing.T) string { return bad(t, "BAD_ABI") }, module.ErrABIVersion},
		{"missing export", func(t *testing.T) string { return bad(t, "BAD_NO_DECODE") }, module.ErrMissingExport},
		{"foreign import", func(t *testing.T) string { return bad(t, "BAD_IMPORT") }, module.ErrInvalidModule},
		{"command, not reactor", func(t *testing.T) string { return bad(t, "BAD_COMMAND") }, module.ErrInvalidModule},
		{"bad description", func(t *testing.T) string { return bad(t, "BAD_DESCRIPTION") }, module.ErrDescription},
		{"trap in encode", func(t *testing.T) string { return bad(t, "BAD_TRAP_AT_LOAD") }, module.ErrLoadCheck},
		{"endless loop in describe", func(t *testing.T) string { return bad(t, "BAD_LOOP_AT_LOAD") }, module.ErrLoadCheck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			start := time.Now()
			m, err := module.LoadFile(context.Background(), path, module.WithCallBudget(1<<24))
			if err == nil {
				m.Close()
				t.Fatal("loaded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
	t.Run("memory above the limit", func(t *testing.T) {
		_, err := module.LoadFile(context.Background(), bad(t, ""), module.WithMemoryLimit(64<<10))
		if !errors.Is(err, module.ErrInvalidModule) {
			t.Fatalf("error %v, want ErrInvalidModule", err)
		}
	})
}

// TestFailsOnlyItsStates: a module that fails at run time (trap, endless
// loop, unbounded memory, a bad result) fails every state of its
// instance with a FailedError wrapping codec.ErrCodecFailed and the cause;
// another module goes on; a new state of the same module gets a fresh
// instance.
func TestFailsOnlyItsStates(t *testing.T) {
	good := codectest.Load(t, bad(t, ""))
	tests := []struct {
		flag string
		opts []module.Option
		want error
	}{
		{"BAD_TRAP", nil, module.ErrTrap},
		{"BAD_LOOP", []module.Option{module.WithCallBudget(1 << 20)}, module.ErrBudget},
		{"BAD_GROW", []module.Option{module.WithMemoryLimit(4 << 20)}, module.ErrMemoryLimit},
		{"BAD_RESULT", nil, module.ErrBadResult},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			m := codectest.Load(t, bad(t, tt.flag), tt.opts...)
			enc, err := m.NewEncoder()
			if err != nil {
				t.Fatal(err)
			}
			other, err := m.NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			goodEnc, err := good.NewEncoder()
			if err != nil {
				t.Fatal(err)
			}
			frame := make([]int16, 160)
			var failed error
			for i := 0; i < 200 && failed == nil; i++ {
				_, failed = enc.Encode(frame, nil)
				if _, err := goodEnc.Encode(frame, nil); err != nil {
					t.Fatalf("the good module failed beside the bad one: %v", err)
				}
			}
			var fe *module.FailedError
			if !errors.As(failed, &fe) || !errors.Is(failed, codec.ErrCodecFailed) || !errors.Is(failed, tt.want) {
				t.Fatalf("encode error %v, want a FailedError of %v", failed, tt.want)
			}
			t.Logf("%v", failed)
			// Every state of the instance fails from now on, at once.
			if _, err := enc.Encode(frame, nil); !errors.Is(err, codec.ErrCodecFailed) {
				t.Fatalf("encode after the failure: %v", err)
			}
			if _, err := other.Decode([]byte{0, 1}, nil); !errors.Is(err, codec.ErrCodecFailed) {
				t.Fatalf("decode on another state of the failed instance: %v", err)
			}
			if st := m.Stats(); st.Failures != 1 {
				t.Fatalf("stats %+v, want one failure", st)
			}
			// A new state runs on a fresh instance.
			fresh, err := m.NewEncoder()
			if err != nil {
				t.Fatalf("a new state after the failure: %v", err)
			}
			if _, err := fresh.Encode(frame, nil); err != nil {
				t.Fatalf("a new state's first encode: %v", err)
			}
			for _, s := range []any{enc, other, fresh, goodEnc} {
				_ = codec.Close(s)
			}
			if st := m.Stats(); st.Live != 0 {
				t.Fatalf("stats %+v after closing every state", st)
			}
		})
	}
}

// TestReplacedModuleKeepsItsStates: Close stops new states but the live
// ones run until they are closed.
func TestReplacedModuleKeepsItsStates(t *testing.T) {
	m, err := module.LoadFile(context.Background(), bad(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewDecoder(); !errors.Is(err, module.ErrClosed) {
		t.Fatalf("NewDecoder after Close: %v, want ErrClosed", err)
	}
	if _, err := enc.Encode(make([]int16, 160), nil); err != nil {
		t.Fatalf("a live state after Close: %v", err)
	}
	if err := codec.Close(enc); err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.Live != 0 || !st.Closed {
		t.Fatalf("stats %+v", st)
	}
}

// TestConcurrentStates: states of one module used from many goroutines
// at once (the module's lock serialises the calls; -race checks the rest).
func TestConcurrentStates(t *testing.T) {
	m := codectest.Load(t, bad(t, ""))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc, err := m.NewEncoder()
			if err != nil {
				t.Error(err)
				return
			}
			defer codec.Close(enc)
			dec, err := m.NewDecoder()
			if err != nil {
				t.Error(err)
				return
			}
			defer codec.Close(dec)
			pcm := codectest.Tone(float64(300+100*g), 8000, 160, 5000)
			for i := 0; i < 50; i++ {
				p, err := enc.Encode(pcm, nil)
				if err != nil {
					t.Error(err)
					return
				}
				out, err := dec.Decode(p, nil)
				if err != nil || len(out) != 160 || out[7] != pcm[7] {
					t.Errorf("round trip: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
