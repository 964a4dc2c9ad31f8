package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/framework/config"
)

const (
	// ConfigFile is the name of the configuration file in the directory.
	ConfigFile = "config"
	// tempPrefix starts the names of the temporary files Save writes
	// before renaming them to ConfigFile.
	tempPrefix = "." + ConfigFile + ".tmp-"
)

// FileStorage keeps the configuration in the file "config" of a directory,
// in the text format of package config, and uses the directory as the
// application-data directory. It is safe for concurrent use within a
// process; see the package documentation for the on-disk guarantees.
type FileStorage struct {
	dir  string
	path string
	mu   sync.Mutex // serialises Saves
}

// NewFile returns a FileStorage for dir, creating the directory (mode
// 0700) if it does not exist, and removes temporary files that an
// interrupted Save left behind. dir is made absolute.
func NewFile(dir string) (*FileStorage, error) {
	if dir == "" {
		return nil, errors.New("storage: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	s := &FileStorage{dir: abs, path: filepath.Join(abs, ConfigFile)}
	// Best effort: a directory that cannot be cleaned may still be read,
	// and Save reports the problem if it persists.
	_ = s.removeStale()
	return s, nil
}

// Directory returns the storage's absolute directory.
func (s *FileStorage) Directory() string { return s.dir }

// Path returns the absolute path of the configuration file.
func (s *FileStorage) Path() string { return s.path }

// Load reads and validates the configuration file. A missing file gives
// the defaults. Errors name the file; a file that does not parse gives an
// error wrapping the *config.SyntaxError (with the file's path and the
// line), one with settings that are not allowed wraps *config.SettingError.
func (s *FileStorage) Load(ctx context.Context) (*config.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Save replaces the file by rename, so a read sees a whole file:
	// there is no need to hold s.mu.
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return config.NewDocument(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	doc, err := config.Unmarshal(data, s.path)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", s.path, err)
	}
	return doc, nil
}

// Save validates doc and replaces the configuration file atomically: it
// writes a temporary file in the same directory (mode 0600), syncs it to
// disk, renames it over "config" and syncs the directory. At every moment
// "config" is either the previous file or the new one.
func (s *FileStorage) Save(ctx context.Context, doc *config.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(doc); err != nil {
		return err
	}
	data := config.Marshal(doc)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.removeStale(); err != nil {
		return err
	}
	if err := writeAtomic(s.dir, s.path, data); err != nil {
		return fmt.Errorf("storage: saving %s: %w", s.path, err)
	}
	return nil
}

// removeStale removes temporary files left by Saves that did not finish
// (the process was killed, or the machine stopped). Saves in this process
// are serialised by s.mu, so any temporary file found is stale, provided
// that one process at a time uses the directory.
func (s *FileStorage) removeStale() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) || e.IsDir() {
			continue
		}
		err := os.Remove(filepath.Join(s.dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("storage: removing a stale temporary file: %w", err)
		}
	}
	return nil
}

// writeAtomic replaces path (in dir) with data through a synced temporary
// file and a rename.
func writeAtomic(dir, path string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close only returns an error
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; say it, in case that ever changes.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync directories
// (its renames are journaled by NTFS).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
