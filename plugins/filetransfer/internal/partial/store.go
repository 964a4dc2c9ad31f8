package partial

import (
	"crypto/sha1" //nolint:gosec // RFC 5547 names SHA-1
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/safename"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// ErrNoSpace is a commit that found no free name.
var ErrNoSpace = errors.New("partial: no free file name")

const (
	dataExt = ".part"
	metaExt = ".json"
	// metaVersion is the format of the metadata files.
	metaVersion = 1
	// maxNames bounds Commit's search for a free name.
	maxNames = 10000
)

// Store is the partial-file directory of one save directory.
type Store struct {
	save string // the save directory
	dir  string // save/PartialDir
	now  func() time.Time
	life time.Duration
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock validity is judged by (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithValidity sets how long kept bytes may be resumed; the default is
// filetransfer.ResumeValidity.
func WithValidity(d time.Duration) Option { return func(s *Store) { s.life = d } }

// Open returns the store of save directory dir, creating dir and its
// partial directory when missing.
func Open(dir string, opts ...Option) (*Store, error) {
	s := &Store{save: dir, dir: filepath.Join(dir, filetransfer.PartialDir), now: time.Now, life: filetransfer.ResumeValidity}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("save directory: %w", err)
	}
	return s, nil
}

// Dir returns the save directory.
func (s *Store) Dir() string { return s.save }

// entry is the metadata of a kept partial file.
type entry struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	Name    string `json:"name,omitempty"`
	Size    int64  `json:"size"`
	Offset  int64  `json:"offset"`
	// State is the SHA-1 state over the first Offset bytes.
	State []byte `json:"state"`
	// ModTime is the data file's modification time when saved.
	ModTime time.Time `json:"mtime"`
}

// Partial is a file being received: Offset bytes of it are in File
// already (resumed), and Hash holds the SHA-1 state over them.
type Partial struct {
	store  *Store
	File   *os.File
	Offset int64
	Hash   hash.Hash
	size   int64
	want   filetransfer.Hash
	key    string // "" when not resumable
	name   string
	unlock func()
	done   bool
	// flushed is where the last background writeback (Written) ended.
	flushed int64
}

// Claim returns the partial file for a transfer of a file of size bytes
// with hash h (zero: unknown) and remote name name: the kept one resumed
// when its metadata is valid, else a fresh one. A file without a hash, or
// one another transfer holds, gets a fresh file that cannot be resumed.
func (s *Store) Claim(h filetransfer.Hash, size int64, name string) (*Partial, error) {
	s.sweep()
	if h.IsZero() {
		return s.fresh(size, name)
	}
	key := h.Key()
	data := filepath.Join(s.dir, key+dataExt)
	f, err := os.OpenFile(data, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("partial file: %w", err)
	}
	unlock, ok := tryLock(f)
	if !ok {
		f.Close()
		return s.fresh(size, name)
	}
	p := &Partial{store: s, File: f, Hash: sha1.New(), size: size, want: h, key: key, name: name, unlock: unlock} //nolint:gosec
	if e, ok := s.valid(key, f, h, size); ok {
		if err := p.Hash.(encoding.BinaryUnmarshaler).UnmarshalBinary(e.State); err == nil {
			if _, err := f.Seek(e.Offset, 0); err == nil {
				p.Offset = e.Offset
			}
		}
	}
	// The metadata is consumed: it is written again by Keep.
	_ = os.Remove(filepath.Join(s.dir, key+metaExt))
	if p.Offset == 0 {
		p.Hash.Reset()
		if err := f.Truncate(0); err != nil {
			p.Close()
			return nil, fmt.Errorf("partial file: %w", err)
		}
		if _, err := f.Seek(0, 0); err != nil {
			p.Close()
			return nil, fmt.Errorf("partial file: %w", err)
		}
	}
	return p, nil
}

func (s *Store) fresh(size int64, name string) (*Partial, error) {
	f, err := os.CreateTemp(s.dir, "transfer-*"+dataExt)
	if err != nil {
		return nil, fmt.Errorf("partial file: %w", err)
	}
	return &Partial{store: s, File: f, Hash: sha1.New(), size: size, name: name, unlock: func() {}}, nil //nolint:gosec
}

// valid reads and checks the metadata of key against the data file f.
func (s *Store) valid(key string, f *os.File, h filetransfer.Hash, size int64) (entry, bool) {
	var e entry
	b, err := os.ReadFile(filepath.Join(s.dir, key+metaExt))
	if err != nil || json.Unmarshal(b, &e) != nil {
		return e, false
	}
	st, err := f.Stat()
	if err != nil {
		return e, false
	}
	eh, err := filetransfer.ParseHash(e.Hash)
	switch {
	case e.Version != metaVersion, err != nil, eh != h:
		return e, false
	case e.Size != size, e.Offset <= 0, e.Offset > size, st.Size() != e.Offset:
		return e, false // another file, or the data was changed
	case !st.ModTime().Equal(e.ModTime):
		return e, false // modified since it was kept
	case s.now().Sub(st.ModTime()) > s.life:
		return e, false // too old
	}
	return e, true
}

// sweep deletes what is kept beyond the validity, and data left without
// metadata by a transfer that died (once as old).
func (s *Store) sweep() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() || s.now().Sub(info.ModTime()) <= s.life {
			continue
		}
		p := filepath.Join(s.dir, de.Name())
		if strings.HasSuffix(p, dataExt) {
			// A transfer holding it keeps it locked.
			if f, err := os.OpenFile(p, os.O_RDWR, 0); err == nil {
				if unlock, ok := tryLock(f); ok {
					_ = os.Remove(p)
					_ = os.Remove(strings.TrimSuffix(p, dataExt) + metaExt)
					unlock()
				}
				f.Close()
			}
			continue
		}
		if strings.HasSuffix(p, metaExt) {
			if _, err := os.Stat(strings.TrimSuffix(p, metaExt) + dataExt); errors.Is(err, fs.ErrNotExist) {
				_ = os.Remove(p)
			}
		}
	}
}

// WritebackEvery is how many bytes a Partial lets pile up in the page
// cache before Written starts writing them to disk.
const WritebackEvery = 8 << 20

// Written tells the Partial that the file now holds offset bytes: every
// WritebackEvery bytes it starts writing the new ones to disk in the
// background, so that the disk works while the transfer goes on and the
// fsync at the end (Keep, Commit) waits for little.
func (p *Partial) Written(offset int64) {
	if offset-p.flushed >= WritebackEvery {
		startWriteback(p.File, p.flushed, offset)
		p.flushed = offset
	}
}

// Resumable reports whether Keep can keep the bytes for a later transfer.
func (p *Partial) Resumable() bool { return p.key != "" }

// Keep makes the first offset bytes durable and records them, with the
// hash state h over them, for a later transfer to resume from. The
// Partial stays usable: Keep is also a checkpoint. Nothing is kept for
// a file that cannot be resumed or when offset is 0.
func (p *Partial) Keep(offset int64, h hash.Hash) error {
	if p.key == "" || offset <= 0 {
		return nil
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	if err := p.File.Sync(); err != nil {
		return fmt.Errorf("partial file: %w", err)
	}
	st, err := p.File.Stat()
	if err != nil {
		return err
	}
	if st.Size() != offset {
		return fmt.Errorf("partial file holds %d bytes, not %d", st.Size(), offset)
	}
	e := entry{Version: metaVersion, Hash: p.want.String(), Name: p.name, Size: p.size, Offset: offset, State: state, ModTime: st.ModTime()}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(p.store.dir, p.key+metaExt), b)
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".meta-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// Discard deletes the bytes and any metadata.
func (p *Partial) Discard() {
	if p.done {
		return
	}
	p.done = true
	name := p.File.Name()
	if p.key != "" {
		_ = os.Remove(filepath.Join(p.store.dir, p.key+metaExt))
	}
	_ = os.Remove(name)
	p.release()
}

// Commit makes the file durable and puts it in the save directory under
// name, or the first of name-1.ext, name-2.ext, … that does not exist
// (created exclusively: an existing file is never replaced). name must be
// a safe single element (safename.Sanitize). It returns the file's path.
func (p *Partial) Commit(name string) (string, error) {
	if p.done {
		return "", errors.New("partial: already committed or discarded")
	}
	if err := p.File.Sync(); err != nil {
		return "", fmt.Errorf("partial file: %w", err)
	}
	tmp := p.File.Name()
	dir := p.store.save
	final, err := safename.Unique(name, maxNames, func(c string) (bool, error) {
		target := filepath.Join(dir, c)
		err := os.Link(tmp, target)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, fs.ErrExist):
			return false, nil
		}
		// No hard links here: a rename over an exclusively created
		// placeholder keeps the exclusivity.
		ph, perr := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(perr, fs.ErrExist) {
			return false, nil
		}
		if perr != nil {
			return false, perr
		}
		ph.Close()
		if err := os.Rename(tmp, target); err != nil {
			_ = os.Remove(target)
			return false, err
		}
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	p.done = true
	_ = os.Remove(tmp)
	if p.key != "" {
		_ = os.Remove(filepath.Join(p.store.dir, p.key+metaExt))
	}
	p.release()
	_ = os.Chmod(filepath.Join(dir, final), 0o644)
	syncDir(dir)
	return filepath.Join(dir, final), nil
}

// Close releases the file; what Keep recorded stays, a fresh file that
// cannot be resumed is deleted, and so is one with no byte received.
func (p *Partial) Close() {
	if p.done {
		return
	}
	if p.key == "" {
		p.Discard()
		return
	}
	if st, err := p.File.Stat(); err == nil && st.Size() == 0 {
		p.Discard()
		return
	}
	p.done = true
	p.release()
}

func (p *Partial) release() {
	p.unlock()
	_ = p.File.Close()
}

// syncDir makes a directory's entries durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
