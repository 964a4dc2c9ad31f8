package sink

import (
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Errors of Check and Copy.
var (
	// ErrOutOfOrder is a chunk that does not start where the file ends.
	ErrOutOfOrder = errors.New("chunk out of order")
	// ErrSizeMismatch is a Byte-Range total other than the file's size.
	ErrSizeMismatch = errors.New("Byte-Range total differs from the file size")
	// ErrTooLarge is a chunk with bytes beyond the file's size.
	ErrTooLarge = errors.New("payload larger than the file size")
)

// WriteError is a failure to write the file (the disk full, an I/O
// error).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the file: " + e.Err.Error() }

// Unwrap returns the file system's error.
func (e *WriteError) Unwrap() error { return e.Err }

// Target is where a Sink writes: the partial file, positioned at the
// Sink's offset.
type Target interface {
	io.Writer
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

// BufferSize is the size of each buffer a Sink streams bodies through.
const BufferSize = 64 << 10

// buffers is how many buffers a Sink has: one being filled and written
// while the others wait to be hashed.
const buffers = 4

// Sink receives one file. Its methods are for one goroutine at a time;
// the hash is computed on a goroutine of the Sink's own, beside the
// socket reads and file writes, until Close.
type Sink struct {
	t       Target
	h       hash.Hash
	offset  int64 // bytes of the file in t, handed to the hasher
	size    int64
	resumed int64 // where this transfer went on from
	started bool  // a chunk was accepted

	free   chan []byte   // buffers to read into
	hashQ  chan []byte   // written bytes for the hasher, in order
	hashed chan struct{} // closed when the hasher returned
	closed bool
}

// New returns a sink writing a file of size bytes (> 0) into t, which
// holds offset bytes already, hashed into h. Close stops its hasher.
func New(t Target, h hash.Hash, offset, size int64) *Sink {
	s := &Sink{
		t: t, h: h, offset: offset, size: size, resumed: offset,
		free:   make(chan []byte, buffers),
		hashQ:  make(chan []byte, buffers),
		hashed: make(chan struct{}),
	}
	for range buffers {
		s.free <- make([]byte, BufferSize)
	}
	go s.hasher()
	return s
}

// hasher hashes the written buffers in order and gives them back.
func (s *Sink) hasher() {
	defer close(s.hashed)
	for b := range s.hashQ {
		s.h.Write(b)
		s.free <- b[:cap(b)]
	}
}

// join waits until the hasher has hashed every byte written: all the
// buffers are back.
func (s *Sink) join() {
	var held [buffers][]byte
	for i := range held {
		held[i] = <-s.free
	}
	for _, b := range held {
		s.free <- b
	}
}

// Close stops the hasher once it hashed what was written. Sum and Hash
// still answer after it; Copy must not be called. A second Close does
// nothing.
func (s *Sink) Close() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.hashQ)
	<-s.hashed
}

// Offset returns the bytes of the file received (resumed ones included).
func (s *Sink) Offset() int64 { return s.offset }

// ResumedFrom returns where the transfer went on from: the bytes the file
// had when the first chunk came (0 when it started over).
func (s *Sink) ResumedFrom() int64 { return s.resumed }

// Size returns the file's size.
func (s *Sink) Size() int64 { return s.size }

// Started reports whether a chunk was accepted.
func (s *Sink) Started() bool { return s.started }

// Complete reports whether every byte has arrived.
func (s *Sink) Complete() bool { return s.offset == s.size }

// Sum returns the SHA-1 of the bytes received.
func (s *Sink) Sum() filetransfer.Hash {
	s.join()
	var h filetransfer.Hash
	copy(h[:], s.h.Sum(nil))
	return h
}

// Hash returns the running hash over the bytes written (for keeping its
// state); it is the caller's until the next Copy.
func (s *Sink) Hash() hash.Hash {
	s.join()
	return s.h
}

// Check judges a chunk's range before its body is read. A chunk starting
// at byte 1 before any other arrived, while the sink holds bytes already,
// means the sender did not resume: the file starts over.
func (s *Sink) Check(r msrp.ByteRange) error {
	if r.Total >= 0 && r.Total != s.size {
		return fmt.Errorf("%w: %d, not %d", ErrSizeMismatch, r.Total, s.size)
	}
	if r.End >= 0 && r.End > s.size {
		return fmt.Errorf("%w: bytes up to %d of %d", ErrTooLarge, r.End, s.size)
	}
	if r.Start == 1 && s.offset > 0 && !s.started {
		if err := s.restart(); err != nil {
			return err
		}
	}
	if r.Start != s.offset+1 {
		return fmt.Errorf("%w: starts at byte %d, expected %d", ErrOutOfOrder, r.Start, s.offset+1)
	}
	s.started = true
	return nil
}

func (s *Sink) restart() error {
	if err := s.t.Truncate(0); err != nil {
		return &WriteError{Err: err}
	}
	if _, err := s.t.Seek(0, io.SeekStart); err != nil {
		return &WriteError{Err: err}
	}
	s.join()
	s.h.Reset()
	s.offset, s.resumed = 0, 0
	return nil
}

// Copy streams a checked chunk's body into the file and the hash. It
// stops with ErrTooLarge at the first byte beyond the size (the bytes
// before it are kept), with a *WriteError when the file cannot be
// written, or with body's error; it returns the bytes taken.
func (s *Sink) Copy(body io.Reader) (int64, error) {
	var taken int64
	for {
		room := s.size - s.offset
		buf := <-s.free
		if int64(len(buf)) > room+1 {
			buf = buf[:room+1] // one byte more tells a body too long
		}
		n, rerr := body.Read(buf)
		if int64(n) > room {
			if err := s.write(buf[:room]); err != nil {
				return taken, err
			}
			taken += room
			return taken, fmt.Errorf("%w (%d bytes)", ErrTooLarge, s.size)
		}
		if err := s.write(buf[:n]); err != nil {
			return taken, err
		}
		taken += int64(n)
		switch {
		case rerr == io.EOF:
			return taken, nil
		case rerr != nil:
			return taken, rerr
		}
	}
}

// write writes p, a buffer taken from s.free, and hands it to the
// hasher (or back); a short or failed write is undone so that the file
// holds exactly the bytes counted.
func (s *Sink) write(p []byte) error {
	if len(p) == 0 {
		s.free <- p[:cap(p)]
		return nil
	}
	n, err := s.t.Write(p)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.free <- p[:cap(p)]
		_ = s.t.Truncate(s.offset)
		_, _ = s.t.Seek(s.offset, io.SeekStart)
		return &WriteError{Err: err}
	}
	s.hashQ <- p
	s.offset += int64(n)
	return nil
}
