package msrp

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	small, err := os.ReadFile("testdata/rfc4975-send.msrp")
	if err != nil {
		b.Fatal(err)
	}
	m := &Message{TransactionID: "bench1234", Method: MethodSEND}
	m.SetHeader(HeaderToPath, "msrp://h:1/a;tcp")
	m.SetHeader(HeaderFromPath, "msrp://h:2/b;tcp")
	m.SetHeader(HeaderMessageID, "m1")
	m.SetHeader(HeaderByteRange, "1-65536/65536")
	m.SetHeader(HeaderContentType, "application/octet-stream")
	m.Body = bytes.Repeat([]byte("0123456789abcdef"), 4096)
	large := m.Marshal()
	for _, bc := range []struct {
		name string
		raw  []byte
	}{{"small", small}, {"64KiB", large}} {
		b.Run(bc.name, func(b *testing.B) {
			stream := bytes.Repeat(bc.raw, 64)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			buf := make([]byte, 32<<10)
			for b.Loop() {
				r := NewReader(bytes.NewReader(stream))
				for {
					if _, err := r.Next(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkTransfer20MB sends a 20 MB message between two sessions over
// loopback TCP; MB/s is the end-to-end rate including every chunk's
// transaction response. The receiver discards the bytes.
func BenchmarkTransfer20MB(b *testing.B) {
	for _, chunk := range []int{DefaultChunkSize, 64 << 10} {
		b.Run("chunk="+strconv.Itoa(chunk), func(b *testing.B) {
			p := newPair(b, false, Config{ChunkSize: chunk, KeepAliveInterval: -1})
			p.rb.discard = true
			body := bytes.Repeat([]byte("0123456789abcdef"), (20<<20)/16)
			ctx := context.Background()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				d, err := p.a.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: bytes.NewReader(body), Size: int64(len(body))})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Wait(ctx); err != nil {
					b.Fatal(err)
				}
				<-p.rb.complete
			}
		})
	}
}
