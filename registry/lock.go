package registry

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LockVersion is the format version of the lock files MakeLock writes.
const LockVersion = 1

// CodecDir is the directory of codec modules (WebAssembly audio codecs,
// issue 13) below the plugin directory; a lock file pins its *.wasm files
// too. The host does not load them (the audio plugin will): VerifyLock
// checks them, Discover does not.
const CodecDir = "codecs"

// codecExt is the file name suffix of codec modules.
const codecExt = ".wasm"

// Lock is a lock file: every plugin binary and codec module of a plugin
// directory, pinned by SHA-256, with what the plugin said of itself when it
// was locked. `sipstreams plugins lock` writes it beside the plugin
// directory (DefaultLockFile); with one present, the registry (WithLockFile)
// refuses a binary that is not listed or whose SHA-256 differs, and
// `sipstreams plugins verify` compares without starting anything.
//
//	{
//	  "lock_version": 1,
//	  "plugins": [
//	    {"file": "sipstreams-plugin-echo", "name": "echo", "version": "1.0.0",
//	     "contract": "1.1", "sha256": "9f86d0…"}
//	  ],
//	  "codec_modules": [{"file": "codecs/g726.wasm", "name": "g726", "sha256": "…"}]
//	}
type Lock struct {
	Version int         `json:"lock_version"`
	Plugins []LockEntry `json:"plugins"`
	Codecs  []LockEntry `json:"codec_modules,omitempty"`
}

// LockEntry pins one file: its name relative to the plugin directory and
// its SHA-256 (lower-case hex); for a plugin also the manifest's name,
// version and contract version ("1.1") at the time it was locked.
type LockEntry struct {
	File     string `json:"file"`
	Name     string `json:"name,omitempty"`
	Version  string `json:"version,omitempty"`
	Contract string `json:"contract,omitempty"`
	SHA256   string `json:"sha256"`
}

// DefaultLockFile is the lock file of the plugin directory dir: beside it,
// dir's own name with ".lock" appended ("bin/plugins" → "bin/plugins.lock").
func DefaultLockFile(dir string) string {
	return filepath.Clean(dir) + ".lock"
}

// problem says why an entry cannot pin its file, or "".
func (e *LockEntry) problem() string {
	switch {
	case e.SHA256 == "":
		return "has no sha256"
	case len(e.SHA256) != 64:
		return fmt.Sprintf("sha256 %q is not 64 hex digits", e.SHA256)
	}
	if _, err := hex.DecodeString(e.SHA256); err != nil {
		return fmt.Sprintf("sha256 %q is not 64 hex digits", e.SHA256)
	}
	return ""
}

// plugin returns the entry of the plugin binary file.
func (l *Lock) plugin(file string) (LockEntry, bool) {
	for _, e := range l.Plugins {
		if e.File == file {
			return e, true
		}
	}
	return LockEntry{}, false
}

// ReadLock reads and checks the lock file at path (see ParseLock); its
// errors name the file.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l, err := ParseLock(b)
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	return l, nil
}

// ParseLock reads and checks a lock file's content. A document that is not
// one JSON lock file of this version (unknown fields, trailing data), or
// that lists a file twice, outside its directory, a plugin not named
// sipstreams-plugin-* or a codec module not codecs/*.wasm, is an error; an
// entry without a usable SHA-256 is not (the registry refuses its plugin,
// naming the entry, and VerifyLock reports it).
func ParseLock(data []byte) (*Lock, error) {
	var l Lock
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the lock object")
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("lock_version %d, this host reads %d", l.Version, LockVersion)
	}
	seen := map[string]bool{}
	check := func(e LockEntry, codec bool) error {
		clean := filepath.ToSlash(filepath.Clean(e.File))
		ok := e.File != "" && clean == e.File && !strings.HasPrefix(clean, "../") && !filepath.IsAbs(e.File)
		if codec {
			ok = ok && filepath.ToSlash(filepath.Dir(clean)) == CodecDir && strings.HasSuffix(clean, codecExt)
		} else {
			ok = ok && !strings.Contains(clean, "/") && strings.HasPrefix(clean, FilePrefix)
		}
		if !ok {
			what := "plugin binary (" + FilePrefix + "*)"
			if codec {
				what = "codec module (" + CodecDir + "/*" + codecExt + ")"
			}
			return fmt.Errorf("entry %q is not a %s of the plugin directory", e.File, what)
		}
		if seen[e.File] {
			return fmt.Errorf("%s is listed twice", e.File)
		}
		seen[e.File] = true
		return nil
	}
	for _, e := range l.Plugins {
		if err := check(e, false); err != nil {
			return nil, err
		}
	}
	for _, e := range l.Codecs {
		if err := check(e, true); err != nil {
			return nil, err
		}
	}
	return &l, nil
}

// Write writes the lock file: indented JSON, mode 0644, written beside path
// and renamed into place so a host never reads half of it.
func (l *Lock) Write(path string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".lock-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// writableByOthers returns a reason when mode lets users other than the
// owner write (group or others), else "".
func writableByOthers(what string, mode fs.FileMode) string {
	if mode.Perm()&0o022 == 0 {
		return ""
	}
	return fmt.Sprintf("%s is writable by other users (mode %#o): anyone who can write it can replace the code the host runs", what, mode.Perm())
}

// pluginFiles returns the plugin binaries (sipstreams-plugin-*) of dir,
// sorted.
func pluginFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), FilePrefix) && !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// codecFiles returns the codec modules of dir (codecs/*.wasm, relative to
// dir with forward slashes), sorted; none when there is no codec directory.
func codecFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, CodecDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), codecExt) && !e.IsDir() {
			out = append(out, CodecDir+"/"+e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// MakeLock describes every plugin binary of the plugin directory (WithDir;
// `PLUGIN describe`, no handshake, within the describe timeout) and hashes
// it and every codec module, for a lock file. A binary that does not
// describe itself is left out and reported in the errors (a *PluginError
// each); the lock holds the others. Only the error of a directory that
// cannot be read is fatal.
func MakeLock(ctx context.Context, opts ...Option) (*Lock, []error, error) {
	r := New(opts...)
	dir := r.cfg.dir
	files, err := pluginFiles(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("registry: read plugin dir: %w", err)
	}
	codecs, err := codecFiles(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("registry: read codec dir: %w", err)
	}
	r.launch = newLauncher()
	defer r.launch.close()
	lock := &Lock{Version: LockVersion, Plugins: []LockEntry{}}
	var problems []error
	for _, f := range files {
		p := newPlugin(r, filepath.Join(dir, f))
		sum, err := fileSHA256(p.path)
		if err != nil {
			problems = append(problems, &PluginError{Path: p.path, Reason: err.Error(), Err: ErrRefused})
			continue
		}
		m, err := p.describe(ctx)
		if err != nil {
			problems = append(problems, &PluginError{Path: p.path, Reason: err.Error(), Err: errors.Join(ErrRefused, err)})
			continue
		}
		lock.Plugins = append(lock.Plugins, LockEntry{File: f, Name: m.Name, Version: m.Version,
			Contract: fmt.Sprintf("%d.%d", m.ContractMajor, m.ContractMinor), SHA256: sum})
	}
	for _, f := range codecs {
		sum, err := fileSHA256(filepath.Join(dir, f))
		if err != nil {
			problems = append(problems, &PluginError{Path: filepath.Join(dir, f), Reason: err.Error(), Err: ErrRefused})
			continue
		}
		lock.Codecs = append(lock.Codecs, LockEntry{File: f, Name: strings.TrimSuffix(filepath.Base(f), codecExt), SHA256: sum})
	}
	return lock, problems, nil
}

// Mismatch is one way a plugin directory differs from its lock file, or
// one file the host would refuse.
type Mismatch struct {
	// File is relative to the plugin directory ("sipstreams-plugin-echo",
	// "codecs/g726.wasm"); "." for the directory itself.
	File   string
	Reason string
	// Err is ErrChecksum (the SHA-256 differs or the entry cannot pin),
	// ErrUnlisted (a file without entry), ErrMissing (an entry without
	// file) or ErrWritable.
	Err error
}

func (m Mismatch) String() string { return m.File + ": " + m.Reason }

// VerifyLock compares the plugin directory dir with lock without running
// anything: every plugin binary and codec module must be listed with its
// SHA-256, every entry must have its file, and (unless allowWritable)
// neither the directory nor a file may be writable by other users. It
// returns the mismatches, in file order; none means the directory is as
// locked.
func VerifyLock(dir string, lock *Lock, allowWritable bool) ([]Mismatch, error) {
	files, err := pluginFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: read plugin dir: %w", err)
	}
	codecs, err := codecFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: read codec dir: %w", err)
	}
	var out []Mismatch
	if !allowWritable {
		for _, d := range []string{".", CodecDir} {
			if st, err := os.Stat(filepath.Join(dir, d)); err == nil {
				if why := writableByOthers("the directory", st.Mode()); why != "" {
					out = append(out, Mismatch{File: d, Reason: why, Err: ErrWritable})
				}
			}
		}
	}
	check := func(f string, entries []LockEntry) {
		path := filepath.Join(dir, f)
		var entry *LockEntry
		for i := range entries {
			if entries[i].File == f {
				entry = &entries[i]
			}
		}
		sum, err := fileSHA256(path)
		switch {
		case err != nil:
			out = append(out, Mismatch{File: f, Reason: err.Error(), Err: ErrChecksum})
			return
		case entry == nil:
			out = append(out, Mismatch{File: f, Reason: fmt.Sprintf("not listed in the lock file (SHA-256 %s)", sum), Err: ErrUnlisted})
			return
		case entry.problem() != "":
			out = append(out, Mismatch{File: f, Reason: "its lock entry " + entry.problem(), Err: ErrChecksum})
			return
		case !strings.EqualFold(entry.SHA256, sum):
			out = append(out, Mismatch{File: f, Reason: fmt.Sprintf("SHA-256 is %s, the lock file pins %s", sum, strings.ToLower(entry.SHA256)), Err: ErrChecksum})
			return
		}
		if !allowWritable {
			if st, err := os.Stat(path); err == nil {
				if why := writableByOthers("the file", st.Mode()); why != "" {
					out = append(out, Mismatch{File: f, Reason: why, Err: ErrWritable})
				}
			}
		}
	}
	for _, f := range files {
		check(f, lock.Plugins)
	}
	for _, f := range codecs {
		check(f, lock.Codecs)
	}
	present := map[string]bool{}
	for _, f := range append(append([]string(nil), files...), codecs...) {
		present[f] = true
	}
	for _, e := range append(append([]LockEntry(nil), lock.Plugins...), lock.Codecs...) {
		if !present[e.File] {
			out = append(out, Mismatch{File: e.File, Reason: "listed in the lock file but not in the plugin directory", Err: ErrMissing})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}
