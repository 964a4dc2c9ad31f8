package codectest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// IncludeDir is the directory of sipstreams_codec.h, the ABI header for C.
func IncludeDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "sdk/codec/include"
	}
	return filepath.Join(filepath.Dir(file), "..", "include")
}

// CFlags are the clang flags a C codec module is built with: wasm32-wasi,
// optimised, a reactor (no _start), the ABI header on the include path.
func CFlags() []string {
	return []string{"--target=wasm32-wasi", "-O2", "-Wall", "-Werror", "-mexec-model=reactor", "-I", IncludeDir()}
}

// BuildC compiles C sources (and any further clang arguments, such as -D
// flags) into a module named name in a temporary directory and returns its
// path. It fails the test if clang or the WASI sysroot is missing.
func BuildC(t testing.TB, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("clang", append(append(CFlags(), "-o", out), args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang %v: %v\n%s(make deps installs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32)", args, err, b)
	}
	return out
}

// BuildGo compiles the Go main package at pkg (a directory or an import
// path) into a module named name in a temporary directory and returns its
// path: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.
func BuildGo(t testing.TB, name, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s for wasip1: %v\n%s", pkg, err, b)
	}
	return out
}

// goTool is the go command of the running toolchain.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Load loads the module at path and closes it when the test ends.
func Load(t testing.TB, path string, opts ...module.Option) *module.Module {
	t.Helper()
	m, err := module.LoadFile(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}
