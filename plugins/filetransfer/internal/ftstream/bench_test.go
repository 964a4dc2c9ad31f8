package ftstream

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// benchSize is what each benchmark moves per iteration: 1 GiB.
const benchSize = 1 << 30

// benchChunk is the piece size of every benchmark: the reference's and
// our default, 64 KiB.
const benchChunk = filetransfer.DefaultChunkSize

// randomFile writes size pseudo-random bytes to a file of dir.
func randomFile(b *testing.B, dir string, size int64) string {
	b.Helper()
	path := filepath.Join(dir, "bench.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewChaCha8([32]byte{42})
	if _, err := io.CopyN(w, rng, size); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkRawTCP is the baseline: 1 GiB written over loopback TCP in
// 64 KiB writes and read into a 64 KiB buffer, nothing else.
func BenchmarkRawTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	buf := make([]byte, benchChunk)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			rbuf := make([]byte, benchChunk)
			var n int64
			for n < benchSize {
				k, err := c.Read(rbuf)
				n += int64(k)
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		for sent := 0; sent < benchSize; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkMSRP sends 1 GiB as one MSRP message over loopback TCP, as the
// file transfer does but without disk or hash: 64 KiB chunks, one
// Message-ID, Byte-Range start-*/total, and a success REPORT per chunk
// from the receiver, which reads every body byte.
func BenchmarkMSRP(b *testing.B) {
	ctx := context.Background()
	l, err := msrp.Listen(ctx, "127.0.0.1:0", msrp.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		acked := make(chan struct{})
		var got atomic.Int64
		recvH := msrp.HandlerFuncs{Chunk: func(_ context.Context, c *msrp.Chunk) int {
			n, _ := io.Copy(io.Discard, c)
			got.Add(n)
			_ = c.SendReport(msrp.StatusOK, "")
			return msrp.StatusOK
		}}
		local := l.URI(msrp.NewSessionID())
		remote := msrp.URI{Host: "127.0.0.1", Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"}
		acc, err := l.Prepare(msrp.SessionOptions{Local: local, Remote: []msrp.URI{remote}, Handler: recvH})
		if err != nil {
			b.Fatal(err)
		}
		var once sync.Once
		sendH := msrp.HandlerFuncs{Report: func(_ context.Context, r *msrp.Report) {
			if r.Range.End == benchSize {
				once.Do(func() { close(acked) })
			}
		}}
		sender, err := msrp.Dial(ctx, remote, []msrp.URI{local}, sendH, msrp.Config{ChunkSize: benchChunk})
		if err != nil {
			b.Fatal(err)
		}
		receiver, err := acc.Accept(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d, err := sender.Send(ctx, msrp.Outgoing{ContentType: "application/octet-stream", Body: io.LimitReader(zeros{}, benchSize),
			Size: benchSize, SuccessReport: true, RangeEndStar: true})
		if err != nil {
			b.Fatal(err)
		}
		if r, err := d.Wait(ctx); err != nil || r.Err != nil {
			b.Fatal(err, r)
		}
		<-acked
		if got.Load() != benchSize {
			b.Fatalf("received %d bytes", got.Load())
		}
		_ = sender.Close()
		_ = receiver.Close()
	}
}

// zeros reads as zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// BenchmarkEndToEnd pushes a 1 GiB file between two file transfer
// streams of the plugin over MSRP TCP on loopback, as two hosts do: the
// sender hashes the file before its offer and then streams it from disk,
// the receiver writes it to disk and hashes it as it comes, fsyncs it,
// checks the hash and renames it into place. Each iteration is timed from
// the sender's stream creation to both ends' FileTransferHandlerDidEnd.
func BenchmarkEndToEnd(b *testing.B) {
	src := randomFile(b, b.TempDir(), benchSize)
	dir := b.TempDir()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		alice := newPeer(b, "alice", b.TempDir(), nil)
		bob := newPeer(b, "bob", dir, nil)
		b.StartTimer()
		sent, got := transfer(b, alice, bob, filetransfer.Push(src), nil)
		b.StopTimer()
		if sent.Error || got.Error || !got.Verified {
			b.Fatalf("sender %+v, receiver %+v", sent, got)
		}
		endAll(alice, bob)
		if err := os.Remove(got.Path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
