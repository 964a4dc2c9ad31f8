package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

var (
	lockOnce sync.Once
	lockTmpl *registry.Lock
	lockErr  error
)

// lockedPlugins is the lock of a plugin directory holding the Go echo
// plugin and the Python one, made once by MakeLock.
func lockedPlugins(t *testing.T) *registry.Lock {
	t.Helper()
	py := pyEchoBin(t)
	lockOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipstreams-lock")
		if err != nil {
			lockErr = err
			return
		}
		defer os.RemoveAll(dir)
		for _, c := range [][2]string{{echoBin, "sipstreams-plugin-echo"}, {py, "sipstreams-plugin-pyecho"}} {
			b, err := os.ReadFile(c[0])
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, c[1]), b, 0o755)
			}
			if err != nil {
				lockErr = err
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTime)
		defer cancel()
		var problems []error
		lockTmpl, problems, lockErr = registry.MakeLock(ctx, append(pyTimeouts, registry.WithDir(dir))...)
		if lockErr == nil && len(problems) > 0 {
			lockErr = errors.Join(problems...)
		}
	})
	if lockErr != nil {
		t.Fatal(lockErr)
	}
	return cloneLock(lockTmpl)
}

func cloneLock(l *registry.Lock) *registry.Lock {
	c := *l
	c.Plugins = append([]registry.LockEntry(nil), l.Plugins...)
	c.Codecs = append([]registry.LockEntry(nil), l.Codecs...)
	return &c
}

// lockedDir is a plugin directory with the echo and pyecho plugins and
// their lock file beside it (DefaultLockFile), as `sipstreams plugins lock`
// leaves it. It returns the directory, the lock file and the lock.
func lockedDir(t *testing.T) (dir, lockFile string, lock *registry.Lock) {
	t.Helper()
	lock = lockedPlugins(t)
	dir = pluginDir(t)
	copyFile(t, pyEchoBin(t), filepath.Join(dir, "sipstreams-plugin-pyecho"))
	lockFile = registry.DefaultLockFile(dir)
	if err := lock.Write(lockFile); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(lockFile) })
	return dir, lockFile, lock
}

func entry(t *testing.T, l *registry.Lock, file string) *registry.LockEntry {
	t.Helper()
	for i := range l.Plugins {
		if l.Plugins[i].File == file {
			return &l.Plugins[i]
		}
	}
	t.Fatalf("the lock has no entry %s: %+v", file, l.Plugins)
	return nil
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestLockFile: with a lock file beside the plugin directory, each way a
// directory can differ from it refuses the plugin concerned with its
// reason while the listed plugins load, and VerifyLock reports the same
// difference without starting anything.
func TestLockFile(t *testing.T) {
	const echo, pyecho, extra = "sipstreams-plugin-echo", "sipstreams-plugin-pyecho", "sipstreams-plugin-extra"
	type want struct {
		err     error    // nil: ready
		reasons []string // substrings of the refusal ("{lock}", "{sum}", "{pinned}" replaced)
	}
	cases := []struct {
		name string
		// change alters the locked directory or the lock (rewritten after).
		change func(t *testing.T, dir string, lock *registry.Lock)
		opts   []registry.Option
		// allow is WithAllowWritable, for the registry and VerifyLock.
		allow  bool
		plugin map[string]want
		// verify is the errors VerifyLock reports, by file.
		verify map[string]error
	}{
		{
			name:   "as locked",
			change: func(*testing.T, string, *registry.Lock) {},
			plugin: map[string]want{echo: {}, pyecho: {}},
		},
		{
			name:   "changed binary",
			change: func(t *testing.T, dir string, _ *registry.Lock) { appendTo(t, filepath.Join(dir, echo), "changed") },
			plugin: map[string]want{
				echo:   {registry.ErrChecksum, []string{"SHA-256 {sum} differs from {pinned}, pinned by lock file {lock}"}},
				pyecho: {},
			},
			verify: map[string]error{echo: registry.ErrChecksum},
		},
		{
			name:   "changed Python plugin",
			change: func(t *testing.T, dir string, _ *registry.Lock) { appendTo(t, filepath.Join(dir, pyecho), "\n") },
			plugin: map[string]want{
				echo:   {},
				pyecho: {registry.ErrChecksum, []string{"SHA-256 {sum} differs from {pinned}, pinned by lock file {lock}"}},
			},
			verify: map[string]error{pyecho: registry.ErrChecksum},
		},
		{
			name:   "unlisted binary",
			change: func(t *testing.T, dir string, _ *registry.Lock) { copyFile(t, echoBin, filepath.Join(dir, extra)) },
			plugin: map[string]want{
				echo: {}, pyecho: {},
				extra: {registry.ErrUnlisted, []string{"not listed in lock file {lock} (its SHA-256 is {sum})", "sipstreams plugins lock"}},
			},
			verify: map[string]error{extra: registry.ErrUnlisted},
		},
		{
			name: "missing lock entry",
			change: func(t *testing.T, _ string, lock *registry.Lock) {
				lock.Plugins = []registry.LockEntry{*entry(t, lock, pyecho)}
			},
			plugin: map[string]want{
				echo:   {registry.ErrUnlisted, []string{"not listed in lock file {lock} (its SHA-256 is {sum})"}},
				pyecho: {},
			},
			verify: map[string]error{echo: registry.ErrUnlisted},
		},
		{
			name:   "lock entry without a sum",
			change: func(t *testing.T, _ string, lock *registry.Lock) { entry(t, lock, echo).SHA256 = "" },
			plugin: map[string]want{
				echo:   {registry.ErrChecksum, []string{"its entry in lock file {lock} has no sha256"}},
				pyecho: {},
			},
			verify: map[string]error{echo: registry.ErrChecksum},
		},
		{
			name:   "lock entry without its binary",
			change: func(t *testing.T, dir string, _ *registry.Lock) { os.Remove(filepath.Join(dir, pyecho)) },
			plugin: map[string]want{echo: {}},
			verify: map[string]error{pyecho: registry.ErrMissing},
		},
		{
			name:   "world-writable directory",
			change: func(t *testing.T, dir string, _ *registry.Lock) { chmod(t, dir, 0o777) },
			plugin: map[string]want{
				echo:   {registry.ErrWritable, []string{"the plugin directory {dir} is writable by other users (mode 0777)"}},
				pyecho: {registry.ErrWritable, []string{"the plugin directory {dir} is writable by other users (mode 0777)"}},
			},
			verify: map[string]error{".": registry.ErrWritable},
		},
		{
			name:   "world-writable directory allowed",
			change: func(t *testing.T, dir string, _ *registry.Lock) { chmod(t, dir, 0o777) },
			allow:  true,
			plugin: map[string]want{echo: {}, pyecho: {}},
		},
		{
			name:   "group-writable binary",
			change: func(t *testing.T, dir string, _ *registry.Lock) { chmod(t, filepath.Join(dir, pyecho), 0o775) },
			plugin: map[string]want{
				echo:   {},
				pyecho: {registry.ErrWritable, []string{"the binary is writable by other users (mode 0775)"}},
			},
			verify: map[string]error{pyecho: registry.ErrWritable},
		},
		{
			name:   "pinning off",
			change: func(t *testing.T, dir string, _ *registry.Lock) { appendTo(t, filepath.Join(dir, echo), "changed") },
			opts:   []registry.Option{registry.WithLockFile("")},
			plugin: map[string]want{echo: {}, pyecho: {}},
			verify: map[string]error{echo: registry.ErrChecksum},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, lockFile, lock := lockedDir(t)
			pinned := map[string]string{}
			for _, e := range lock.Plugins {
				pinned[e.File] = e.SHA256
			}
			c.change(t, dir, lock)
			if err := lock.Write(lockFile); err != nil {
				t.Fatal(err)
			}
			sums := map[string]string{}
			for f := range c.plugin {
				sums[f] = sha(t, filepath.Join(dir, f))
			}
			r := openRegistry(t, dir, append(append(c.opts, pyTimeouts...), registry.WithAllowWritable(c.allow))...)
			got := map[string]registry.PluginInfo{}
			for _, p := range r.Plugins() {
				got[p.File] = p
			}
			if len(got) != len(c.plugin) {
				t.Errorf("plugins %v, want %v", got, c.plugin)
			}
			for f, w := range c.plugin {
				p, ok := got[f]
				switch {
				case !ok:
					t.Errorf("%s: not found", f)
				case w.err == nil && p.State != registry.StateReady:
					t.Errorf("%s: %v (%v), want ready", f, p.State, p.Err)
				case w.err != nil && (p.State != registry.StateRefused || !errors.Is(p.Err, w.err) || !errors.Is(p.Err, registry.ErrRefused)):
					t.Errorf("%s: %v (%v), want refused with %v", f, p.State, p.Err, w.err)
				}
				for _, s := range w.reasons {
					s = strings.NewReplacer("{lock}", lockFile, "{sum}", sums[f], "{pinned}", pinned[f], "{dir}", dir).Replace(s)
					if p.Err == nil || !strings.Contains(p.Err.Error(), s) {
						t.Errorf("%s: reason %v lacks %q", f, p.Err, s)
					}
				}
				var pe *registry.PluginError
				if w.err != nil && (!errors.As(p.Err, &pe) || pe.Path != filepath.Join(dir, f)) {
					t.Errorf("%s: %#v is not a PluginError naming the binary", f, p.Err)
				}
			}
			ms, err := registry.VerifyLock(dir, lock, c.allow)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(c.verify) {
				t.Errorf("VerifyLock: %v, want %v", ms, c.verify)
			}
			for _, m := range ms {
				if want := c.verify[m.File]; !errors.Is(m.Err, want) || m.Reason == "" {
					t.Errorf("VerifyLock: %s: %v, want %v", m, m.Err, want)
				}
			}
		})
	}
}

// TestLockFileProblems: a lock file that cannot pin (not JSON, another
// version, writable by others) fails Discover instead of loading anything
// unpinned; a missing one pins nothing.
func TestLockFileProblems(t *testing.T) {
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
		wantErr error
	}{
		{"not JSON", "plugins: all", 0o644, "invalid character", nil},
		{"another version", `{"lock_version": 2, "plugins": []}`, 0o644, "lock_version 2, this host reads 1", nil},
		{"group-writable", `{"lock_version": 1, "plugins": []}`, 0o664, "is writable by other users (mode 0664)", registry.ErrWritable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := pluginDir(t)
			lockFile := registry.DefaultLockFile(dir)
			if err := os.WriteFile(lockFile, []byte(c.content), c.mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(lockFile) })
			chmod(t, lockFile, c.mode)
			r := registry.New(registry.WithDir(dir))
			err := r.Discover(ctxT(t))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), lockFile) {
				t.Errorf("Discover: %v, want an error naming %s and %q", err, lockFile, c.want)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Discover: %v, want %v", err, c.wantErr)
			}
			if n := len(r.Plugins()); n != 0 {
				t.Errorf("%d plugins known after a failed Discover", n)
			}
			if err := r.Close(ctxT(t)); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		dir := pluginDir(t)
		r := openRegistry(t, dir)
		if r.LockFile() != registry.DefaultLockFile(dir) || r.Plugins()[0].State != registry.StateReady {
			t.Fatalf("lock file %s, %+v", r.LockFile(), r.Plugins())
		}
	})
}

// logWatch is a slog handler that hands the records whose message is msg
// to a channel, so a test waits for the event the log reports.
type logWatch struct {
	msg string
	ch  chan slog.Record
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == w.msg {
		select {
		case w.ch <- r:
		default:
		}
	}
	return nil
}
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// TestLockedRestart: a pinned binary replaced while the host runs is not
// restarted after a crash: the restart fails with the checksum reason, a
// stream asked for meanwhile fails naming it, and putting the locked
// binary back lets the supervisor restart the plugin.
func TestLockedRestart(t *testing.T) {
	dir := pluginDir(t)
	lock, problems, err := registry.MakeLock(ctxT(t), registry.WithDir(dir))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	lockFile := registry.DefaultLockFile(dir)
	if err := lock.Write(lockFile); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(lockFile) })
	watch := &logWatch{msg: "plugin restart failed", ch: make(chan slog.Record, 1)}
	r := openRegistry(t, dir, registry.WithRestartBackoff(20*time.Millisecond, 100*time.Millisecond), registry.WithLogger(slog.New(watch)))
	bin := filepath.Join(dir, "sipstreams-plugin-echo")
	original, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Replace it the way an installer does: a new file renamed over it.
	replace := func(b []byte) {
		t.Helper()
		tmp := filepath.Join(dir, ".new")
		if err := os.WriteFile(tmp, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, bin); err != nil {
			t.Fatal(err)
		}
	}
	replace(append(bytes.Clone(original), "changed"...))
	info := r.Plugins()[0]
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-watch.ch:
	case <-time.After(waitTime):
		t.Fatal("no failed restart")
	}
	p, err := r.Plugin("echo")
	if err != nil {
		t.Fatal(err)
	}
	st := p.Info()
	if st.State == registry.StateReady || !errors.Is(st.Err, registry.ErrChecksum) ||
		!strings.Contains(st.Err.Error(), "the binary changed since it was pinned and loaded") || !strings.Contains(st.Err.Error(), lock.Plugins[0].SHA256) {
		t.Fatalf("after a restart of a changed binary: %v %v", st.State, st.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"}); !errors.Is(err, sdk.ErrPluginUnavailable) || !strings.Contains(err.Error(), "the binary changed") {
		t.Fatalf("Create while the binary differs: %v", err)
	}
	replace(original)
	pr := startPair(t, r) // waits for the restart
	invoke(t, pr.a, "send", map[string]string{"payload": "pinned again"})
	waitName(t, pr.recA, "EchoStreamGotEcho")
	if st := p.Info(); st.State != registry.StateReady || st.Restarts != 1 || st.PID == info.PID {
		t.Fatalf("after the locked binary is back: %+v", st)
	}
}

// TestMakeLock: the lock names every plugin binary that describes itself,
// with its manifest's name, version and contract version and the SHA-256
// the registry computes, and every codec module; a binary that does not
// describe itself is reported and left out. Written and read back, it is
// the same lock.
func TestMakeLock(t *testing.T) {
	dir := pluginDir(t)
	copyFile(t, pyEchoBin(t), filepath.Join(dir, "sipstreams-plugin-pyecho"))
	writeScript(t, dir, "sipstreams-plugin-broken", "echo not a manifest")
	if err := os.Mkdir(filepath.Join(dir, registry.CodecDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"g726.wasm", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, registry.CodecDir, f), []byte("\x00asm"+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lock, problems, err := registry.MakeLock(ctxT(t), append(pyTimeouts, registry.WithDir(dir))...)
	if err != nil {
		t.Fatal(err)
	}
	var pe *registry.PluginError
	if len(problems) != 1 || !errors.As(problems[0], &pe) || pe.Path != filepath.Join(dir, "sipstreams-plugin-broken") || !errors.Is(problems[0], registry.ErrRefused) {
		t.Fatalf("problems %v", problems)
	}
	contract := fmt.Sprintf("%d.%d", sdk.ContractMajor, sdk.ContractMinor)
	r := openRegistry(t, dir, append(pyTimeouts, registry.WithLockFile(""))...)
	sums := map[string]string{}
	for _, p := range r.Plugins() {
		sums[p.File] = p.SHA256
	}
	want := []registry.LockEntry{
		{File: "sipstreams-plugin-echo", Name: "echo", Version: "dev", Contract: contract, SHA256: sums["sipstreams-plugin-echo"]},
		{File: "sipstreams-plugin-pyecho", Name: "pyecho", Version: "test", Contract: contract, SHA256: sums["sipstreams-plugin-pyecho"]},
	}
	if fmt.Sprint(lock.Plugins) != fmt.Sprint(want) || lock.Version != registry.LockVersion {
		t.Fatalf("lock plugins\n got  %+v\n want %+v", lock.Plugins, want)
	}
	if len(lock.Codecs) != 1 || lock.Codecs[0].File != "codecs/g726.wasm" || lock.Codecs[0].Name != "g726" || len(lock.Codecs[0].SHA256) != 64 {
		t.Fatalf("lock codecs %+v", lock.Codecs)
	}
	path := filepath.Join(t.TempDir(), "plugins.lock")
	if err := lock.Write(path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("lock file mode: %v %v", st.Mode(), err)
	}
	back, err := registry.ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back) != fmt.Sprint(lock) {
		t.Fatalf("read back\n got  %+v\n want %+v", back, lock)
	}
	// A changed codec module is a mismatch; the plugins are as locked.
	appendTo(t, filepath.Join(dir, registry.CodecDir, "g726.wasm"), "x")
	ms, err := registry.VerifyLock(dir, lock, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].File != "codecs/g726.wasm" || !errors.Is(ms[0].Err, registry.ErrChecksum) ||
		ms[1].File != "sipstreams-plugin-broken" || !errors.Is(ms[1].Err, registry.ErrUnlisted) {
		t.Fatalf("VerifyLock: %v", ms)
	}
}

// TestLockGolden: the lock file's format, as Write writes it.
func TestLockGolden(t *testing.T) {
	lock := &registry.Lock{Version: registry.LockVersion, Plugins: []registry.LockEntry{
		{File: "sipstreams-plugin-echo", Name: "echo", Version: "1.0.0", Contract: "1.1", SHA256: strings.Repeat("ab", 32)},
		{File: "sipstreams-plugin-pyecho", Name: "pyecho", Version: "1.0.0", Contract: "1.1", SHA256: strings.Repeat("cd", 32)},
	}, Codecs: []registry.LockEntry{{File: "codecs/g726.wasm", Name: "g726", SHA256: strings.Repeat("ef", 32)}}}
	path := filepath.Join(t.TempDir(), "plugins.lock")
	if err := lock.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lock", "plugins.lock")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("lock file\n%s\nwant (%s)\n%s", got, golden, want)
	}
	back, err := registry.ParseLock(want)
	if err != nil || fmt.Sprint(back) != fmt.Sprint(lock) {
		t.Fatalf("ParseLock(golden) = %+v, %v", back, err)
	}
}

// badLocks are lock documents ParseLock refuses, with what the error says.
var badLocks = []struct{ doc, want string }{
	{``, "EOF"},
	{`[]`, "cannot unmarshal array"},
	{`{"lock_version": 1, "plugins": [], "extra": 1}`, `unknown field "extra"`},
	{`{"lock_version": 1, "plugins": []} {}`, "trailing data"},
	{`{"plugins": []}`, "lock_version 0, this host reads 1"},
	{`{"lock_version": 1, "plugins": [{"file": "../sipstreams-plugin-x", "sha256": ""}]}`, `entry "../sipstreams-plugin-x" is not a plugin binary`},
	{`{"lock_version": 1, "plugins": [{"file": "/bin/sipstreams-plugin-x", "sha256": ""}]}`, "is not a plugin binary"},
	{`{"lock_version": 1, "plugins": [{"file": "sub/sipstreams-plugin-x", "sha256": ""}]}`, "is not a plugin binary"},
	{`{"lock_version": 1, "plugins": [{"file": "./sipstreams-plugin-x", "sha256": ""}]}`, "is not a plugin binary"},
	{`{"lock_version": 1, "plugins": [{"file": "echo", "sha256": ""}]}`, `entry "echo" is not a plugin binary (sipstreams-plugin-*)`},
	{`{"lock_version": 1, "plugins": [{"file": "", "sha256": ""}]}`, "is not a plugin binary"},
	{`{"lock_version": 1, "plugins": [{"file": "sipstreams-plugin-x"}, {"file": "sipstreams-plugin-x"}]}`, "sipstreams-plugin-x is listed twice"},
	{`{"lock_version": 1, "plugins": [], "codec_modules": [{"file": "g726.wasm"}]}`, `entry "g726.wasm" is not a codec module (codecs/*.wasm)`},
	{`{"lock_version": 1, "plugins": [], "codec_modules": [{"file": "codecs/g726.so"}]}`, "is not a codec module"},
	{`{"lock_version": 1, "plugins": [], "codec_modules": [{"file": "codecs/../../x.wasm"}]}`, "is not a codec module"},
}

func TestParseLockErrors(t *testing.T) {
	for _, c := range badLocks {
		l, err := registry.ParseLock([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseLock(%s) = %+v, %v; want an error with %q", c.doc, l, err, c.want)
		}
	}
}

// FuzzParseLock: no document panics ParseLock, and a lock it accepts
// names only files of the plugin directory, each once, and survives a
// Write and a read back unchanged.
func FuzzParseLock(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "lock", "plugins.lock"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	for _, c := range badLocks {
		f.Add([]byte(c.doc))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := registry.ParseLock(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range append(append([]registry.LockEntry(nil), l.Plugins...), l.Codecs...) {
			if seen[e.File] || filepath.IsAbs(e.File) || strings.HasPrefix(e.File, "..") || filepath.Clean(e.File) != e.File {
				t.Fatalf("accepted entry %q (%s)", e.File, b)
			}
			seen[e.File] = true
		}
		path := filepath.Join(dir, "fuzz.lock")
		if err := l.Write(path); err != nil {
			t.Fatal(err)
		}
		back, err := registry.ReadLock(path)
		if err != nil || fmt.Sprint(back) != fmt.Sprint(l) {
			t.Fatalf("round trip of %s: %+v, %v", b, back, err)
		}
	})
}
