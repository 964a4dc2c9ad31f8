package partial

import (
	"bytes"
	"crypto/sha1" //nolint:gosec
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

func hashOf(b []byte) filetransfer.Hash { return filetransfer.Hash(sha1.Sum(b)) } //nolint:gosec

// receive writes b[from:to] into p as a transfer would, hashing it.
func receive(t *testing.T, p *Partial, b []byte, to int) {
	t.Helper()
	if _, err := p.File.Write(b[p.Offset:to]); err != nil {
		t.Fatal(err)
	}
	p.Hash.Write(b[p.Offset:to])
	p.Offset = int64(to)
}

// TestResume: bytes kept by one transfer are resumed by the next claim of
// the same file, with the hash state, and the committed file is whole.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	h := hashOf(file)
	p, err := s.Claim(h, int64(len(file)), "f.bin")
	if err != nil || p.Offset != 0 || !p.Resumable() {
		t.Fatalf("claim: %+v %v", p, err)
	}
	receive(t, p, file, 7000)
	if err := p.Keep(p.Offset, p.Hash); err != nil {
		t.Fatal(err)
	}
	p.Close()

	p, err = s.Claim(h, int64(len(file)), "f.bin")
	if err != nil || p.Offset != 7000 {
		t.Fatalf("resumed claim at %d, %v; want 7000", p.Offset, err)
	}
	receive(t, p, file, len(file))
	if got := filetransfer.Hash(p.Hash.Sum(nil)); got != h {
		t.Fatal("restored hash state does not continue the hash")
	}
	final, err := p.Commit("f.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(final); !bytes.Equal(got, file) || final != filepath.Join(dir, "f.bin") {
		t.Fatalf("committed %s with %d bytes", final, len(got))
	}
	assertEmptyPartials(t, dir)
}

// TestNotResumed: the kept bytes are not resumed for another size, once
// the data file changed, once older than the validity, or without a hash;
// a second claim while the first holds the file gets its own.
func TestNotResumed(t *testing.T) {
	file := bytes.Repeat([]byte("x"), 5000)
	h := hashOf(file)
	keep := func(t *testing.T, s *Store) string {
		p, err := s.Claim(h, 5000, "f")
		if err != nil {
			t.Fatal(err)
		}
		receive(t, p, file, 3000)
		if err := p.Keep(p.Offset, p.Hash); err != nil {
			t.Fatal(err)
		}
		name := p.File.Name()
		p.Close()
		return name
	}
	t.Run("other size", func(t *testing.T) {
		s, _ := Open(t.TempDir())
		keep(t, s)
		p, _ := s.Claim(h, 6000, "f")
		defer p.Close()
		if p.Offset != 0 {
			t.Fatalf("resumed at %d", p.Offset)
		}
	})
	t.Run("changed", func(t *testing.T) {
		s, _ := Open(t.TempDir())
		data := keep(t, s)
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(data, later, later); err != nil {
			t.Fatal(err)
		}
		p, _ := s.Claim(h, 5000, "f")
		defer p.Close()
		if p.Offset != 0 {
			t.Fatalf("resumed at %d", p.Offset)
		}
	})
	t.Run("expired", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := Open(dir)
		keep(t, s)
		later, _ := Open(dir, WithClock(func() time.Time { return time.Now().Add(filetransfer.ResumeValidity + time.Hour) }))
		p, _ := later.Claim(h, 5000, "f")
		if p.Offset != 0 {
			t.Fatalf("resumed at %d", p.Offset)
		}
		p.Discard()
	})
	t.Run("still valid", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := Open(dir)
		keep(t, s)
		later, _ := Open(dir, WithClock(func() time.Time { return time.Now().Add(filetransfer.ResumeValidity - time.Hour) }))
		p, _ := later.Claim(h, 5000, "f")
		defer p.Close()
		if p.Offset != 3000 {
			t.Fatalf("resumed at %d, want 3000", p.Offset)
		}
	})
	t.Run("busy", func(t *testing.T) {
		s, _ := Open(t.TempDir())
		keep(t, s)
		a, _ := s.Claim(h, 5000, "f")
		defer a.Close()
		b, err := s.Claim(h, 5000, "f")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if a.Offset != 3000 || b.Offset != 0 || b.Resumable() || a.File.Name() == b.File.Name() {
			t.Fatalf("a at %d, b at %d resumable %v", a.Offset, b.Offset, b.Resumable())
		}
	})
	t.Run("no hash", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := Open(dir)
		p, _ := s.Claim(filetransfer.Hash{}, 5000, "f")
		receive(t, p, file, 100)
		if p.Resumable() || p.Keep(p.Offset, p.Hash) != nil {
			t.Fatal("a file without hash is resumable")
		}
		p.Close()
		assertEmptyPartials(t, dir)
	})
}

// TestCommitUnique: an existing file is never replaced.
func TestCommitUnique(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "a-1.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := Open(dir)
	p, _ := s.Claim(filetransfer.Hash{}, 3, "a.txt")
	p.File.Write([]byte("new"))
	final, err := p.Commit("a.txt")
	if err != nil || filepath.Base(final) != "a-2.txt" {
		t.Fatalf("commit %q %v", final, err)
	}
	for n, want := range map[string]string{"a.txt": "old", "a-1.txt": "old", "a-2.txt": "new"} {
		if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != want {
			t.Errorf("%s = %q", n, b)
		}
	}
}

// TestDiscardAndSweep: Discard leaves nothing; an expired entry is swept
// by the next claim of any file.
func TestDiscardAndSweep(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	file := []byte(strings.Repeat("d", 100))
	p, _ := s.Claim(hashOf(file), 100, "d")
	receive(t, p, file, 50)
	p.Discard()
	assertEmptyPartials(t, dir)

	p, _ = s.Claim(hashOf(file), 100, "d")
	receive(t, p, file, 50)
	if err := p.Keep(p.Offset, p.Hash); err != nil {
		t.Fatal(err)
	}
	p.Close()
	later, _ := Open(dir, WithClock(func() time.Time { return time.Now().Add(filetransfer.ResumeValidity + time.Hour) }))
	q, _ := later.Claim(filetransfer.Hash{}, 1, "other")
	q.Discard()
	assertEmptyPartials(t, dir)
}

func assertEmptyPartials(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, filetransfer.PartialDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}
