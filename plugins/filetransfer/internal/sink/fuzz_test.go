package sink

import (
	"bytes"
	"crypto/sha1" //nolint:gosec
	"encoding/binary"
	"errors"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// FuzzSink feeds a sink the chunks a hostile sender might: each record
// of the input is a Byte-Range (start, end, total as given by the peer,
// small numbers so they meet the file) and a body length. Whatever
// comes, the sink never panics, never holds more than the size, keeps
// the file equal to the bytes it counted and the hash equal to their
// SHA-1, and a refused chunk changes nothing but the bytes before its
// refusal.
func FuzzSink(f *testing.F) {
	rec := func(start, end, total int16, n uint16) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint16(b[0:], uint16(start))
		binary.BigEndian.PutUint16(b[2:], uint16(end))
		binary.BigEndian.PutUint16(b[4:], uint16(total))
		binary.BigEndian.PutUint16(b[6:], n)
		return b
	}
	f.Add(uint16(300), append(rec(1, -1, 300, 128), rec(129, -1, 300, 172)...))
	f.Add(uint16(300), append(rec(1, 10, 300, 10), rec(5, 20, 300, 16)...))
	f.Add(uint16(50), rec(1, -1, 50, 400))
	f.Add(uint16(10), append(rec(1, -1, -1, 5), rec(1, -1, 10, 10)...))
	f.Fuzz(func(t *testing.T, size uint16, script []byte) {
		if size == 0 {
			return
		}
		mf := &memFile{}
		s := New(mf, sha1.New(), 0, int64(size)) //nolint:gosec
		defer s.Close()
		for i := 0; i+8 <= len(script) && i < 8*64; i += 8 {
			r := msrp.ByteRange{
				Start: int64(int16(binary.BigEndian.Uint16(script[i:]))),
				End:   int64(int16(binary.BigEndian.Uint16(script[i+2:]))),
				Total: int64(int16(binary.BigEndian.Uint16(script[i+4:]))),
			}
			if r.Start < 1 || r.End < -1 || r.Total < -1 {
				continue // not a Byte-Range msrp.ParseByteRange gives
			}
			n := int(binary.BigEndian.Uint16(script[i+6:])) % 1024
			body := bytes.Repeat([]byte{byte(i)}, n)
			before := s.Offset()
			if err := s.Check(r); err != nil {
				if !errors.Is(err, ErrOutOfOrder) && !errors.Is(err, ErrSizeMismatch) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Check(%v): unexpected error %v", r, err)
				}
				if s.Offset() != before {
					t.Fatalf("a refused range moved the offset from %d to %d", before, s.Offset())
				}
				continue
			}
			taken, err := s.Copy(bytes.NewReader(body))
			if err != nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Copy: %v", err)
			}
			if s.Offset() != r.Start-1+taken {
				t.Fatalf("offset %d after taking %d from %d", s.Offset(), taken, r.Start)
			}
		}
		if s.Offset() > int64(size) || int64(len(mf.data)) != s.Offset() {
			t.Fatalf("file %d bytes, offset %d, size %d", len(mf.data), s.Offset(), size)
		}
		if s.Sum() != filetransfer.Hash(sha1.Sum(mf.data)) { //nolint:gosec
			t.Fatal("hash differs from the file's")
		}
	})
}
