package mixer

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
)

// samples is where a WAVPlayer's audio comes from: the file read as it
// plays, or its samples decoded once and shared (FileCache).
type samples interface {
	// next returns the next run of samples at the player's rate, valid
	// until the next call and not to be modified; io.EOF at the end.
	next() ([]int16, error)
	rewind() error
	close()
}

// fileSamples reads and resamples the file as it plays, 20 ms at a time.
type fileSamples struct {
	r     *wav.Reader
	rs    *pcm.Resampler
	chunk []int16
	out   []int16
}

func newFileSamples(r *wav.Reader, rs *pcm.Resampler) *fileSamples {
	return &fileSamples{r: r, rs: rs, chunk: make([]int16, (r.SampleRate()+pcm.FramesPerSecond-1)/pcm.FramesPerSecond)}
}

func (f *fileSamples) next() ([]int16, error) {
	n, err := f.r.Read(f.chunk)
	if n > 0 {
		f.out = f.rs.Resample(f.out[:0], f.chunk[:n])
		return f.out, nil
	}
	if err == nil {
		err = io.EOF
	}
	return nil, err
}

func (f *fileSamples) rewind() error { return f.r.Rewind() }
func (f *fileSamples) close()        { f.r.Close() }

// DefaultCachedSamples is FileCache's default bound on the samples of one
// file: 2^20, about two minutes at 8 kHz (2 MiB).
const DefaultCachedSamples = 1 << 20

// FileCache shares the decoded samples of WAV files among the WAVPlayers
// of a process (WithCache): a thousand calls playing the same prompt or
// tone read it from memory, once decoded, instead of each reading and
// decoding the file every 20 ms. A file is known by its path, size and
// modification time (a changed file is decoded anew) and the rate it is
// played at; it stays while a player uses it. Files longer than the bound
// are played from disk as without a cache. Safe for concurrent use.
type FileCache struct {
	max int

	mu      sync.Mutex
	entries map[fileKey]*fileEntry
}

type fileKey struct {
	path string
	size int64
	mod  time.Time
	rate int
}

type fileEntry struct {
	pcm  []int16
	refs int
}

// NewFileCache returns a cache of files of at most maxSamples samples
// each (DefaultCachedSamples if maxSamples <= 0).
func NewFileCache(maxSamples int) *FileCache {
	if maxSamples <= 0 {
		maxSamples = DefaultCachedSamples
	}
	return &FileCache{max: maxSamples, entries: map[fileKey]*fileEntry{}}
}

// Files returns the number of files held.
func (c *FileCache) Files() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// open returns the shared samples of the file r reads (open at its
// start), decoding it through rs if no player holds it yet; r is then
// closed. It returns nil, and leaves r alone, for a file over the bound.
func (c *FileCache) open(path string, r *wav.Reader, rs *pcm.Resampler) (samples, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	key := fileKey{path: path, size: st.Size(), mod: st.ModTime(), rate: rs.To()}
	c.mu.Lock()
	if e := c.entries[key]; e != nil {
		e.refs++
		c.mu.Unlock()
		r.Close()
		return &memSamples{c: c, key: key, e: e}, nil
	}
	c.mu.Unlock()
	// Decoded outside the lock: another player of another file need not
	// wait for this one.
	own, err := pcm.NewResampler(rs.From(), rs.To()) // rs stays fresh for playing from disk
	if err != nil {
		return nil, err
	}
	decoded, err := decodeAll(r, own, c.max)
	if err != nil || decoded == nil {
		if err == nil {
			err = r.Rewind() // over the bound: played from disk
		}
		return nil, err
	}
	r.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil { // else another player decoded it meanwhile: share theirs
		e = &fileEntry{pcm: decoded}
		c.entries[key] = e
	}
	e.refs++
	return &memSamples{c: c, key: key, e: e}, nil
}

// decodeAll returns the whole file at rs's output rate, or nil if it has
// more than limit samples.
func decodeAll(r *wav.Reader, rs *pcm.Resampler, limit int) ([]int16, error) {
	chunk := make([]int16, 4096)
	var out []int16
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			out = rs.Resample(out, chunk[:n])
			if len(out) > limit {
				return nil, nil
			}
			continue
		}
		if err == io.EOF || err == nil {
			if out == nil {
				out = []int16{}
			}
			return out, nil
		}
		return nil, fmt.Errorf("decoding: %w", err)
	}
}

// release drops one player's use of an entry.
func (c *FileCache) release(key fileKey, e *fileEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.refs--; e.refs == 0 && c.entries[key] == e {
		delete(c.entries, key)
	}
}

// memSamples plays a cached file: runs of 20 ms at the file's rate out of
// the shared slice, never copied.
type memSamples struct {
	c      *FileCache
	key    fileKey
	e      *fileEntry
	pos    int
	closed bool
}

func (m *memSamples) next() ([]int16, error) {
	if m.pos >= len(m.e.pcm) {
		return nil, io.EOF
	}
	run := m.e.pcm[m.pos:min(m.pos+pcm.SamplesPerFrame(m.key.rate), len(m.e.pcm))]
	m.pos += len(run)
	return run, nil
}

func (m *memSamples) rewind() error { m.pos = 0; return nil }

func (m *memSamples) close() {
	if !m.closed {
		m.closed = true
		m.c.release(m.key, m.e)
	}
}
