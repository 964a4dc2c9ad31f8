package mixer

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
)

// recorderQueue is how many frames (1 s) may wait for the disk.
const recorderQueue = 50

// WAVRecorder is a Sink writing what it receives to a WAV file (the
// reference's WaveRecorder). The file is written by a goroutine the
// recorder owns, so the clock never waits for the disk; if the disk falls a
// second behind, frames are dropped and counted. Close stops the goroutine
// and finishes the file.
type WAVRecorder struct {
	name string
	path string

	mu     sync.Mutex // guards closed and sending on frames
	closed bool
	frames chan []int16
	pool   sync.Pool

	dropped atomic.Int64
	wg      sync.WaitGroup
	w       *wav.Writer
	err     error // set by the goroutine, read after wg.Wait
}

var _ Sink = (*WAVRecorder)(nil)

// NewWAVRecorder creates path (and its parent directories) and records at
// rate Hz (the Mixer's rate).
func NewWAVRecorder(path string, rate int, opts ...wav.WriterOption) (*WAVRecorder, error) {
	w, err := wav.Create(path, rate, opts...)
	if err != nil {
		return nil, fmt.Errorf("mixer: recorder: %w", err)
	}
	r := &WAVRecorder{name: "wav-recorder:" + path, path: path, w: w, frames: make(chan []int16, recorderQueue)}
	r.wg.Add(1)
	go r.run()
	return r, nil
}

func (r *WAVRecorder) run() {
	defer r.wg.Done()
	for f := range r.frames {
		if err := r.w.Write(f); err != nil && r.err == nil {
			r.err = err
		}
		r.pool.Put(f[:0])
	}
	if err := r.w.Close(); err != nil && r.err == nil {
		r.err = err
	}
}

// Name returns "wav-recorder:" and the path.
func (r *WAVRecorder) Name() string { return r.name }

// Path returns the file's path.
func (r *WAVRecorder) Path() string { return r.path }

// Dropped returns the number of frames dropped because the disk was slow.
func (r *WAVRecorder) Dropped() int64 { return r.dropped.Load() }

// WriteFrame implements Sink.
func (r *WAVRecorder) WriteFrame(frame []int16) {
	buf, _ := r.pool.Get().([]int16)
	buf = append(buf[:0], frame...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	select {
	case r.frames <- buf:
	default:
		r.dropped.Add(1)
	}
}

// Close flushes the queued frames, finishes the file and returns the first
// write error. Remove the recorder from its Mixer first; frames written
// after Close are ignored.
func (r *WAVRecorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.closed = true
	close(r.frames)
	r.mu.Unlock()
	r.wg.Wait()
	if r.err != nil && !errors.Is(r.err, wav.ErrClosed) {
		return r.err
	}
	return nil
}
