// Package plugintest builds real plugin binaries for the host's tests, so
// they load plugins the way a user's plugin directory does.
package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"go.uber.org/goleak"
)

// Main packages of the plugins the tests build.
const (
	// EchoPackage is the reference echo plugin's main package.
	EchoPackage = "github.com/sipstreams/sipstreams/sdk/examples/echo"
	// ChatPackage is the chat plugin's main package.
	ChatPackage = "github.com/sipstreams/sipstreams/plugins/chat"
	// AudioPackage is the audio plugin's main package (cgo: libopus).
	AudioPackage = "github.com/sipstreams/sipstreams/plugins/audio"
)

// Build compiles the main package pkg into dir as
// sipstreams-plugin-<name> and returns its path. Output of a failed build
// goes into the error.
func Build(dir, name, pkg string) (string, error) {
	out := filepath.Join(dir, "sipstreams-plugin-"+name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// Dir makes a temporary plugin directory holding a binary of each main
// package of pkgs, keyed by plugin name ("chat" → sipstreams-plugin-chat);
// remove it when done.
func Dir(pkgs map[string]string) (string, error) {
	dir, err := os.MkdirTemp("", "sipstreams-plugins")
	if err != nil {
		return "", err
	}
	for name, pkg := range pkgs {
		if _, err := Build(dir, name, pkg); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// EchoDir makes a temporary directory holding the echo plugin binary and
// returns it with the binary's path; remove the directory when done.
func EchoDir() (dir, bin string, err error) {
	dir, err = os.MkdirTemp("", "sipstreams-plugins")
	if err != nil {
		return "", "", err
	}
	bin, err = Build(dir, "echo", EchoPackage)
	if err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, bin, nil
}

// Main is a TestMain body for packages whose tests need the echo plugin:
// it builds it, hands the plugin directory to setup, runs the tests, checks
// for leaked goroutines when they passed, and removes the directory. Use it
// as os.Exit(plugintest.Main(m, func(dir, bin string) { pluginDir = dir })).
func Main(m interface{ Run() int }, setup func(dir, bin string), leakOpts ...goleak.Option) int {
	dir, bin, err := EchoDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the echo plugin:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	setup(dir, bin)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(leakOpts...); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	return code
}

// Python is the interpreter Python plugins run with: Debian's, which has
// the packages the kit needs (python3-grpcio, python3-protobuf,
// python3-cryptography; .ci/deps installs them).
const Python = "/usr/bin/python3"

// PyEchoSource is the Python echo plugin's package directory, relative to
// the module root.
const PyEchoSource = "sdk/examples/pyecho/pyecho"

// Root returns the module's root directory (this file's ../..).
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("plugintest: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildPython packages a Python plugin with the kit's packager
// (sdk/python: python3 -m sipstreams_plugin.package) into dir as
// sipstreams-plugin-<name> and returns its path. sources are module files
// or package directories relative to the module root; entry is the
// module:function that serves the plugin.
func BuildPython(dir, name, entry, version string, sources ...string) (string, error) {
	root := Root()
	out := filepath.Join(dir, "sipstreams-plugin-"+name)
	args := []string{"-m", "sipstreams_plugin.package", "--main", entry, "--version", version, "-o", out}
	for _, s := range sources {
		if !filepath.IsAbs(s) {
			s = filepath.Join(root, s)
		}
		args = append(args, s)
	}
	cmd := exec.Command(Python, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "sdk", "python"), "PYTHONDONTWRITEBYTECODE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("packaging the Python plugin %s: %v\n%s", name, err, b)
	}
	return out, nil
}

// PyEcho packages the Python echo plugin into dir as
// sipstreams-plugin-pyecho and returns its path.
func PyEcho(dir string) (string, error) {
	return BuildPython(dir, "pyecho", "pyecho:main", "test", PyEchoSource)
}
