package sink

import (
	"bytes"
	"crypto/sha1" //nolint:gosec
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memFile is an in-memory Target; failAt, when > 0, makes writes fail
// with ENOSPC once the file would grow past it (the disk full).
type memFile struct {
	data   []byte
	pos    int64
	failAt int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if m.failAt > 0 && m.pos+int64(len(p)) > m.failAt {
		k := m.failAt - m.pos
		m.data = append(m.data[:m.pos], p[:k]...)
		m.pos += k
		return int(k), syscall.ENOSPC
	}
	m.data = append(m.data[:m.pos], p...)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Truncate(n int64) error {
	if n < int64(len(m.data)) {
		m.data = m.data[:n]
	}
	return nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	m.pos = off
	return off, nil
}

func rng(start, end, total int64) msrp.ByteRange {
	return msrp.ByteRange{Start: start, End: end, Total: total}
}

func TestInOrder(t *testing.T) {
	file := []byte(strings.Repeat("0123456789", 30))
	f := &memFile{}
	s := New(f, sha1.New(), 0, int64(len(file))) //nolint:gosec
	t.Cleanup(s.Close)
	for off := 0; off < len(file); off += 128 {
		end := min(off+128, len(file))
		if err := s.Check(rng(int64(off+1), -1, int64(len(file)))); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Copy(bytes.NewReader(file[off:end])); err != nil || n != int64(end-off) {
			t.Fatalf("Copy = %d, %v", n, err)
		}
	}
	if !s.Complete() || !bytes.Equal(f.data, file) || s.Sum() != filetransfer.Hash(sha1.Sum(file)) { //nolint:gosec
		t.Fatal("file or hash differs")
	}
}

func TestRefusals(t *testing.T) {
	f := &memFile{}
	s := New(f, sha1.New(), 0, 100) //nolint:gosec
	t.Cleanup(s.Close)
	for _, tt := range []struct {
		r    msrp.ByteRange
		want error
	}{
		{rng(1, 10, 99), ErrSizeMismatch},
		{rng(1, 101, 100), ErrTooLarge},
		{rng(11, 20, 100), ErrOutOfOrder},
	} {
		if err := s.Check(tt.r); !errors.Is(err, tt.want) {
			t.Errorf("Check(%v) = %v, want %v", tt.r, err, tt.want)
		}
	}
	// A body longer than its range claims.
	if err := s.Check(rng(1, -1, 100)); err != nil {
		t.Fatal(err)
	}
	n, err := s.Copy(bytes.NewReader(make([]byte, 150)))
	if !errors.Is(err, ErrTooLarge) || n != 100 || len(f.data) != 100 || s.Offset() != 100 {
		t.Fatalf("Copy = %d, %v; file %d bytes", n, err, len(f.data))
	}
}

// TestDiskFull: a failed write leaves the file holding exactly the bytes
// counted, and is a *WriteError wrapping the file system's error.
func TestDiskFull(t *testing.T) {
	f := &memFile{failAt: 100000}
	s := New(f, sha1.New(), 0, 200000) //nolint:gosec
	t.Cleanup(s.Close)
	if err := s.Check(rng(1, -1, 200000)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Copy(bytes.NewReader(make([]byte, 200000)))
	var we *WriteError
	if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v", err)
	}
	if int64(len(f.data)) != s.Offset() || s.Offset() >= 100000 {
		t.Fatalf("file %d bytes, offset %d", len(f.data), s.Offset())
	}
}

// TestResumeAndRestart: a sink holding bytes continues after them; a
// first chunk from byte 1 starts the file over.
func TestResumeAndRestart(t *testing.T) {
	file := []byte(strings.Repeat("abcdefgh", 50))
	h := sha1.New() //nolint:gosec
	h.Write(file[:100])
	f := &memFile{data: append([]byte(nil), file[:100]...), pos: 100}
	s := New(f, h, 100, int64(len(file)))
	t.Cleanup(s.Close)
	if err := s.Check(rng(101, -1, int64(len(file)))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(bytes.NewReader(file[100:])); err != nil || s.Sum() != filetransfer.Hash(sha1.Sum(file)) || s.ResumedFrom() != 100 { //nolint:gosec
		t.Fatalf("resumed: %v", err)
	}

	h = sha1.New() //nolint:gosec
	h.Write(file[:100])
	f = &memFile{data: append([]byte(nil), file[:100]...), pos: 100}
	s = New(f, h, 100, int64(len(file)))
	t.Cleanup(s.Close)
	if err := s.Check(rng(1, -1, int64(len(file)))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(bytes.NewReader(file)); err != nil || !bytes.Equal(f.data, file) || s.Sum() != filetransfer.Hash(sha1.Sum(file)) || s.ResumedFrom() != 0 { //nolint:gosec
		t.Fatalf("restart: %v", err)
	}
	// Once going, byte 1 again is out of order.
	if err := s.Check(rng(1, -1, int64(len(file)))); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("second start: %v", err)
	}
}

var _ io.Reader = (*bytes.Reader)(nil)

// TestHashMidway: Hash, taken between chunks for a checkpoint, covers
// exactly the bytes written so far, though a goroutine of the Sink's
// hashes them; Close stops it (goleak in TestMain), and Sum still
// answers after.
func TestHashMidway(t *testing.T) {
	file := bytes.Repeat([]byte("0123456789abcdef"), 3*BufferSize/16+7)
	f := &memFile{}
	s := New(f, sha1.New(), 0, int64(len(file))) //nolint:gosec
	half := len(file) / 2
	if err := s.Check(rng(1, -1, int64(len(file)))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(bytes.NewReader(file[:half])); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Hash().Sum(nil), sha1.Sum(file[:half]); !bytes.Equal(got, want[:]) { //nolint:gosec
		t.Fatalf("midway hash %x, want %x", got, want)
	}
	if _, err := s.Copy(bytes.NewReader(file[half:])); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if !s.Complete() || s.Sum() != filetransfer.Hash(sha1.Sum(file)) { //nolint:gosec
		t.Fatal("hash after Close differs")
	}
}
