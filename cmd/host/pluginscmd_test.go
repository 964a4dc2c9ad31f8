package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/registry"
)

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestPluginsLockVerify: `plugins lock` pins the directory beside it (and
// names the binary it could not describe), `plugins verify` exits 0 on the
// locked directory and 1 naming each difference, and the commands that
// load plugins refuse a changed binary with the lock file and both sums.
func TestPluginsLockVerify(t *testing.T) {
	dir := pluginDir(t) // echo and a broken script
	echo := filepath.Join(dir, "sipstreams-plugin-echo")
	lockFile := dir + ".lock"
	t.Cleanup(func() { os.Remove(lockFile) })

	code, _, errs := runCLI(t, "plugins", "verify", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("verify without a lock file: code %d", code)
	}
	mustContain(t, "verify without a lock file", errs, "no lock file "+lockFile, "sipstreams plugins lock")

	code, out, errs := runCLI(t, "plugins", "lock", "--plugin-dir", dir)
	if code != 1 { // the broken script is left out
		t.Fatalf("lock: code %d: %s", code, errs)
	}
	sum := fileSum(t, echo)
	mustContain(t, "lock output", out, "sipstreams-plugin-echo", sum, "locked 1 plugin(s) and 0 codec module(s) of "+dir+" in "+lockFile)
	mustContain(t, "lock errors", errs, "left out of the lock", "sipstreams-plugin-broken", "did not print a manifest")
	lock, err := registry.ReadLock(lockFile)
	if err != nil || len(lock.Plugins) != 1 || lock.Plugins[0].SHA256 != sum || lock.Plugins[0].Name != "echo" {
		t.Fatalf("lock file: %+v %v", lock, err)
	}

	// The broken script is not listed: verify names it, then passes once
	// it is gone.
	code, out, _ = runCLI(t, "plugins", "verify", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("verify with an unlisted binary: code %d", code)
	}
	mustContain(t, "verify output", out, filepath.Join(dir, "sipstreams-plugin-broken")+": not listed in the lock file (SHA-256 ")
	if err := os.Remove(filepath.Join(dir, "sipstreams-plugin-broken")); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "plugins", "verify", "--plugin-dir", dir)
	if code != 0 {
		t.Fatalf("verify of the locked directory: code %d: %s%s", code, out, errs)
	}
	mustContain(t, "verify output", out, dir+" matches "+lockFile+": 1 plugin(s)")
	code, out, _ = runCLI(t, "plugins", "--plugin-dir", dir)
	if code != 0 {
		t.Fatal(code)
	}
	mustContain(t, "plugins output", out, "echo (5)", "ready", "pinned by lock file: "+lockFile)

	// A changed binary: verify names both sums, the host refuses it.
	f, err := os.OpenFile(echo, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("changed"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	changed := fileSum(t, echo)
	code, out, errs = runCLI(t, "plugins", "verify", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("verify of a changed binary: code %d", code)
	}
	mustContain(t, "verify output", out, echo+": SHA-256 is "+changed+", the lock file pins "+sum)
	mustContain(t, "verify errors", errs, dir+" differs from its lock file "+lockFile+" (1 problem(s))")
	code, out, _ = runCLI(t, "plugins", "--plugin-dir", dir)
	if code != 0 {
		t.Fatal(code)
	}
	mustContain(t, "plugins output", out, "sipstreams-plugin-echo refused", "SHA-256 "+changed+" differs from "+sum+", pinned by lock file "+lockFile)
	code, _, errs = runCLI(t, "call", "sip:bob@127.0.0.1:9", "--stream", "echo", "--plugin-dir", dir, "--listen", "udp:127.0.0.1:0")
	if code != 1 {
		t.Fatalf("call with a changed plugin: code %d", code)
	}
	mustContain(t, "call errors", errs, "sipstreams: refused: plugin "+echo+": SHA-256 "+changed+" differs from "+sum, "unknown stream type: echo")

	// Locking again pins the new binary; another lock file can be named.
	other := filepath.Join(t.TempDir(), "pins.lock")
	if code, _, errs := runCLI(t, "plugins", "lock", "--plugin-dir", dir, "--lock-file", other); code != 0 {
		t.Fatalf("lock --lock-file: code %d: %s", code, errs)
	}
	if code, out, _ := runCLI(t, "plugins", "--plugin-dir", dir, "--lock-file", other); code != 0 || !strings.Contains(out, "ready") || strings.Contains(out, "refused") {
		t.Fatalf("plugins --lock-file: code %d\n%s", code, out)
	}
}

// TestPluginsWritable: a plugin directory other users may write is refused
// by the host and named by verify and lock, unless --allow-writable.
func TestPluginsWritable(t *testing.T) {
	dir := pluginDir(t)
	os.Remove(filepath.Join(dir, "sipstreams-plugin-broken"))
	t.Cleanup(func() { os.Remove(dir + ".lock") })
	if code, _, errs := runCLI(t, "plugins", "lock", "--plugin-dir", dir); code != 0 {
		t.Fatalf("lock: %d %s", code, errs)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "plugins", "--plugin-dir", dir)
	if code != 0 {
		t.Fatal(code)
	}
	mustContain(t, "plugins output", out, "sipstreams-plugin-echo refused", "the plugin directory "+dir+" is writable by other users (mode 0777)")
	code, out, _ = runCLI(t, "plugins", "verify", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("verify of a writable directory: code %d", code)
	}
	mustContain(t, "verify output", out, dir+": the directory is writable by other users (mode 0777)")
	code, _, errs := runCLI(t, "plugins", "lock", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("lock of a writable directory: code %d", code)
	}
	mustContain(t, "lock errors", errs, "the host will refuse "+dir)
	if code, out, errs := runCLI(t, "plugins", "verify", "--plugin-dir", dir, "--allow-writable"); code != 0 {
		t.Fatalf("verify --allow-writable: code %d: %s%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "plugins", "--plugin-dir", dir, "--allow-writable"); code != 0 || strings.Contains(out, "refused") {
		t.Fatalf("plugins --allow-writable: code %d\n%s", code, out)
	}
}

// TestPluginsCheck: `plugins check` runs the conformance suite on the
// binaries named, or on every plugin of the directory: the echo plugin
// passes every case, a script that is no plugin fails with the reason.
func TestPluginsCheck(t *testing.T) {
	dir := pluginDir(t)
	echo := filepath.Join(dir, "sipstreams-plugin-echo")
	code, out, errs := runCLI(t, "plugins", "check", "--log", echo)
	if code != 0 {
		t.Fatalf("check echo: code %d\n%s%s", code, out, errs)
	}
	mustContain(t, "check output", out, "PASS suite/manifest", "PASS suite/echo/lifecycle", "PASS suite/echo/quiet-after-end", "PASS "+echo+" (")
	code, out, _ = runCLI(t, "plugins", "check", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("check of the directory with a broken script: code %d\n%s", code, out)
	}
	mustContain(t, "check output", out, "PASS "+echo, "FAIL "+filepath.Join(dir, "sipstreams-plugin-broken"), "the go-plugin handshake failed")
	if code, _, errs := runCLI(t, "plugins", "check", "--plugin-dir", t.TempDir()); code != 1 || !strings.Contains(errs, "no plugins in") {
		t.Fatalf("check of an empty directory: code %d %s", code, errs)
	}
}
