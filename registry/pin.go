package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pins is what Discover read of the lock file and the directory's mode,
// for prepare to check each binary against.
type pins struct {
	lock     *Lock  // nil: no lock file in force
	lockPath string // where it was read
	dirWhy   string // why the directory is refused, or ""
}

// OpenLock reads the lock file at path as the registry does: one that
// users other than its owner may write is refused (ErrWritable) unless
// allowWritable, since whoever can write it chooses what the host runs. A
// file that does not exist is an error wrapping fs.ErrNotExist.
func OpenLock(path string, allowWritable bool) (*Lock, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if why := writableByOthers("the lock file "+path, st.Mode()); why != "" && !allowWritable {
		return nil, fmt.Errorf("%s: %w", why, ErrWritable)
	}
	return ReadLock(path)
}

// loadPins reads the lock file (WithLockFile) and checks the plugin
// directory's mode, for a Discover. A lock file that does not exist pins
// nothing; one that cannot be read, or that others may write, is an error.
func (r *Registry) loadPins() (pins, error) {
	var ps pins
	if !r.cfg.allowWritable {
		if st, err := os.Stat(r.cfg.dir); err == nil {
			ps.dirWhy = writableByOthers("the plugin directory "+r.cfg.dir, st.Mode())
		}
	}
	if r.cfg.lockFile == "" {
		return ps, nil
	}
	lock, err := OpenLock(r.cfg.lockFile, r.cfg.allowWritable)
	if errors.Is(err, fs.ErrNotExist) {
		return ps, nil
	}
	if err != nil {
		return ps, fmt.Errorf("registry: %w", err)
	}
	ps.lock, ps.lockPath = lock, r.cfg.lockFile
	r.cfg.logger.Info("plugins pinned by lock file", "file", r.cfg.lockFile, "plugins", len(lock.Plugins))
	for _, e := range lock.Plugins {
		if _, err := os.Stat(filepath.Join(r.cfg.dir, e.File)); errors.Is(err, fs.ErrNotExist) {
			r.cfg.logger.Warn("lock file lists a plugin the plugin directory does not hold", "file", e.File, "lock_file", r.cfg.lockFile)
		}
	}
	return ps, nil
}

// check says why the binary file (mode, SHA-256 sum) may not load under
// ps, with the error to refuse it with, or "" when it may. It reports
// whether the binary is pinned (by the lock file), so a restart re-checks
// it.
func (ps pins) check(file string, mode fs.FileMode, sum string, allowWritable bool) (why string, pinned bool, err error) {
	if ps.dirWhy != "" {
		return ps.dirWhy, false, errors.Join(ErrRefused, ErrWritable)
	}
	if !allowWritable {
		if why := writableByOthers("the binary", mode); why != "" {
			return why, false, errors.Join(ErrRefused, ErrWritable)
		}
	}
	if ps.lock == nil {
		return "", false, nil
	}
	e, ok := ps.lock.plugin(file)
	switch {
	case !ok:
		return fmt.Sprintf("not listed in lock file %s (its SHA-256 is %s): pin it with `sipstreams plugins lock`", ps.lockPath, sum),
			false, errors.Join(ErrRefused, ErrUnlisted)
	case e.problem() != "":
		return fmt.Sprintf("its entry in lock file %s %s", ps.lockPath, e.problem()), false, errors.Join(ErrRefused, ErrChecksum)
	case !strings.EqualFold(e.SHA256, sum):
		return fmt.Sprintf("SHA-256 %s differs from %s, pinned by lock file %s", sum, strings.ToLower(e.SHA256), ps.lockPath),
			false, errors.Join(ErrRefused, ErrChecksum)
	}
	return "", true, nil
}

// start launches the plugin's process; a restart of a pinned plugin first
// checks that the binary is still the one that was pinned, so a binary
// replaced while the host runs is not run by the supervisor.
func (p *Plugin) start(ctx context.Context, first bool) (*instance, error) {
	p.mu.Lock()
	pinned, want := p.pinned, p.sha
	p.mu.Unlock()
	if !first && pinned {
		sum, err := fileSHA256(p.path)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(sum, want) {
			return nil, fmt.Errorf("%w: the binary changed since it was pinned and loaded (SHA-256 now %s, pinned %s)", ErrChecksum, sum, want)
		}
	}
	return p.launch(ctx)
}
