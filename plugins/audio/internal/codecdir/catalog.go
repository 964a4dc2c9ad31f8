package codecdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// Ext is the extension of module files.
const Ext = ".wasm"

// maxModuleSize bounds a module file that is read.
const maxModuleSize = 64 << 20

// fileStamp is what tells that a file changed without reading it.
type fileStamp struct {
	size  int64
	mtime time.Time
	inode uint64
}

func stampOf(info fs.FileInfo) fileStamp {
	st := fileStamp{size: info.Size(), mtime: info.ModTime()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.inode = uint64(sys.Ino)
	}
	return st
}

// entry is one module file.
type entry struct {
	file  string
	stamp fileStamp
	sum   string
	mod   *module.Module // nil when refused
	err   error          // why refused
}

// Catalog is the codecs of one directory beside the built-ins. Its methods
// are safe for concurrent use.
type Catalog struct {
	dir      string
	builtins []codec.Codec
	opts     []module.Option
	logger   *slog.Logger

	mu      sync.Mutex
	files   map[string]*entry
	retired []*entry // replaced or removed, while streams use them
	dirErr  error
	// listed is the directory's stamp when it was last listed, trusted
	// (the listing reused) only when it was older than racyWindow then;
	// reg is the registry made from the files since.
	listed  fileStamp
	trusted bool
	reg     *codec.Registry
}

// racyWindow is how much older than a listing the directory's mtime must
// be for the listing to be reused while the mtime stays the same: a file
// added in the same tick of the file system's clock as the listing (whole
// seconds on some) leaves the mtime as it was.
const racyWindow = 2 * time.Second

// Option configures New.
type Option func(*Catalog)

// WithModuleOptions passes options to every module load (memory limit,
// loop budget).
func WithModuleOptions(opts ...module.Option) Option {
	return func(c *Catalog) { c.opts = append(c.opts, opts...) }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Catalog) { c.logger = l } }

// New returns the catalog of dir with the built-in codecs builtins.
func New(dir string, builtins []codec.Codec, opts ...Option) *Catalog {
	c := &Catalog{dir: dir, builtins: builtins, files: map[string]*entry{}, logger: slog.Default()}
	for _, o := range opts {
		o(c)
	}
	c.logger = c.logger.With("component", "codecdir", "dir", dir)
	return c
}

// Dir is the catalog's directory.
func (c *Catalog) Dir() string { return c.dir }

// Refresh rescans the directory. A directory that does not exist holds no
// modules; its error is kept for the listing.
func (c *Catalog) Refresh(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshLocked(ctx)
}

// refreshLocked brings the entries up to date with the directory. Every
// new stream asks, so when the directory has not changed since a listing
// old enough to trust (its stamp the same) it only checks the stamps of
// the module files it knows, one stat each, instead of listing it again.
func (c *Catalog) refreshLocked(ctx context.Context) {
	defer c.pruneRetiredLocked()
	dirInfo, err := os.Stat(c.dir)
	if err == nil && c.trusted && stampOf(dirInfo) == c.listed && c.knownUnchangedLocked() {
		return
	}
	if errors.Is(err, fs.ErrNotExist) && errors.Is(c.dirErr, fs.ErrNotExist) && len(c.files) == 0 {
		return // still no directory (the default one often is not there)
	}
	c.trusted = false
	started := time.Now()
	ents, err := os.ReadDir(c.dir)
	c.dirErr = err
	if err == nil && dirInfo != nil {
		c.listed = stampOf(dirInfo)
		c.trusted = started.Sub(c.listed.mtime) > racyWindow
	}
	seen := map[string]bool{}
	for _, de := range ents {
		name := de.Name()
		if !strings.HasSuffix(name, Ext) || de.IsDir() {
			continue
		}
		info, err := os.Stat(filepath.Join(c.dir, name)) // follows links
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		seen[name] = true
		stamp := stampOf(info)
		old := c.files[name]
		if old != nil && old.stamp == stamp {
			continue
		}
		c.files[name] = c.load(ctx, name, stamp, old)
		c.reg = nil
	}
	for name, e := range c.files {
		if !seen[name] {
			delete(c.files, name)
			c.retire(e)
			c.reg = nil
			c.logger.Info("codec module removed", "file", name)
		}
	}
}

// knownUnchangedLocked reports whether every module file of the last
// listing is still there with the same stamp (a file rewritten in place
// leaves the directory's stamp as it was).
func (c *Catalog) knownUnchangedLocked() bool {
	for name, e := range c.files {
		info, err := os.Stat(filepath.Join(c.dir, name))
		if err != nil || !info.Mode().IsRegular() || stampOf(info) != e.stamp {
			return false
		}
	}
	return true
}

// load reads and loads a changed file; old is the file's previous entry.
func (c *Catalog) load(ctx context.Context, name string, stamp fileStamp, old *entry) *entry {
	e := &entry{file: name, stamp: stamp}
	path := filepath.Join(c.dir, name)
	data, err := readFile(path)
	if err != nil {
		e.err = err
		c.retire(old)
		return e
	}
	sum := sha256.Sum256(data)
	e.sum = hex.EncodeToString(sum[:])
	if old != nil && old.sum == e.sum {
		// Touched, not changed: keep the module (or the refusal).
		old.stamp = stamp
		return old
	}
	opts := append([]module.Option{module.WithName(name)}, c.opts...)
	e.mod, e.err = module.Load(ctx, data, opts...)
	c.retire(old)
	if e.err != nil {
		c.logger.Warn("codec module refused", "file", name, "sha256", e.sum, "reason", e.err)
	} else {
		d := e.mod.Description()
		c.logger.Info("codec module loaded", "file", name, "sha256", e.sum, "codec", d.Name, "version", d.Version)
	}
	return e
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > maxModuleSize {
		return nil, fmt.Errorf("%d bytes, more than the %d a module may have", info.Size(), maxModuleSize)
	}
	buf := make([]byte, info.Size())
	n, err := io.ReadFull(f, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// retire closes e's module for new streams; the running ones keep it.
func (c *Catalog) retire(e *entry) {
	if e == nil || e.mod == nil {
		return
	}
	_ = e.mod.Close()
	c.retired = append(c.retired, e)
}

// pruneRetiredLocked forgets retired modules no stream uses any more.
func (c *Catalog) pruneRetiredLocked() {
	c.retired = slices.DeleteFunc(c.retired, func(e *entry) bool { return e.mod.Stats().Live == 0 })
}

// active returns the loaded entries that provide a codec, in file name
// order, and the entries refused as duplicates with their reason.
func (c *Catalog) activeLocked() (active []*entry, dups map[string]string) {
	names := make([]string, 0, len(c.files))
	for name := range c.files {
		names = append(names, name)
	}
	slices.Sort(names)
	by := map[string]string{}
	dups = map[string]string{}
	for _, name := range names {
		e := c.files[name]
		if e.mod == nil {
			continue
		}
		key := strings.ToLower(e.mod.Info().Name)
		if first, ok := by[key]; ok {
			dups[name] = fmt.Sprintf("codec %s is already provided by %s", e.mod.Info().Name, first)
			continue
		}
		by[key] = name
		active = append(active, e)
	}
	return active, dups
}

// Registry rescans the directory and returns the codecs new streams use:
// the built-ins, each replaced by a module of the same name, then the
// other module codecs in file name order. The registry is shared by the
// calls until the directory changes: callers only read it.
func (c *Catalog) Registry(ctx context.Context) *codec.Registry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshLocked(ctx)
	if c.reg == nil {
		c.reg = c.buildRegistryLocked()
	}
	return c.reg
}

func (c *Catalog) buildRegistryLocked() *codec.Registry {
	active, _ := c.activeLocked()
	byName := map[string]codec.Codec{}
	for _, e := range active {
		byName[strings.ToLower(e.mod.Info().Name)] = e.mod
	}
	var list []codec.Codec
	for _, b := range c.builtins {
		key := strings.ToLower(b.Info().Name)
		if m, ok := byName[key]; ok {
			list = append(list, m)
			delete(byName, key)
			continue
		}
		list = append(list, b)
	}
	for _, e := range active {
		if m, ok := byName[strings.ToLower(e.mod.Info().Name)]; ok && m == codec.Codec(e.mod) {
			list = append(list, e.mod)
		}
	}
	reg, err := codec.NewRegistry(list...)
	if err != nil {
		// Names are distinct by construction.
		c.logger.Error("codec registry", "error", err)
	}
	return reg
}

// List rescans the directory and lists the built-in codecs, the modules
// (loaded and retired) and the refused files.
func (c *Catalog) List(ctx context.Context) audio.CodecList {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshLocked(ctx)
	out := audio.CodecList{Directory: c.dir, Codecs: []audio.CodecInfo{}}
	if c.dirErr != nil {
		out.DirectoryError = c.dirErr.Error()
	}
	active, dups := c.activeLocked()
	provided := map[string]string{}
	for _, e := range active {
		provided[strings.ToLower(e.mod.Info().Name)] = e.file
	}
	for _, b := range c.builtins {
		ci := describe(b.Info())
		ci.State = audio.CodecBuiltIn
		if f, ok := provided[strings.ToLower(ci.Name)]; ok {
			ci.State, ci.Reason = audio.CodecOverridden, "replaced by "+f
		}
		out.Codecs = append(out.Codecs, ci)
	}
	names := make([]string, 0, len(c.files))
	for name := range c.files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		e := c.files[name]
		if reason, dup := dups[name]; dup {
			ci := moduleInfo(e)
			ci.State, ci.Reason = audio.CodecRefused, reason
			out.Codecs = append(out.Codecs, ci)
			continue
		}
		ci := moduleInfo(e)
		if e.mod != nil {
			ci.State = audio.CodecLoaded
		} else {
			ci.State, ci.Reason = audio.CodecRefused, e.err.Error()
		}
		out.Codecs = append(out.Codecs, ci)
	}
	for _, e := range c.retired {
		ci := moduleInfo(e)
		ci.State = audio.CodecRetired
		out.Codecs = append(out.Codecs, ci)
	}
	return out
}

func describe(i codec.Info) audio.CodecInfo {
	return audio.CodecInfo{Name: i.Name, PayloadType: i.PayloadType, ClockRate: i.ClockRate, SampleRate: i.SampleRate, Channels: i.Channels}
}

func moduleInfo(e *entry) audio.CodecInfo {
	var ci audio.CodecInfo
	if e.mod != nil {
		ci = describe(e.mod.Info())
		ci.Version = e.mod.Description().Version
		st := e.mod.Stats()
		ci.Streams, ci.Failures = st.Live, st.Failures
	} else {
		ci.PayloadType = codec.DynamicPayloadType
	}
	ci.File, ci.SHA256 = e.file, e.sum
	return ci
}

// Close closes every module for new streams (running ones keep theirs).
func (c *Catalog) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, e := range c.files {
		if e.mod != nil {
			_ = e.mod.Close()
		}
		delete(c.files, name)
	}
	c.reg, c.trusted = nil, false
}
