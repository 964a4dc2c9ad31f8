package msrp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"sync"
	"testing"
)

// rawConn returns a session on one end of a loopback TCP connection and a
// Reader on the other end, which sees exactly what the session writes.
func rawConn(t *testing.T) (*Session, net.Conn, *Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(nc, Config{KeepAliveInterval: -1})
	t.Cleanup(func() { c.Close() })
	local := URI{Host: "127.0.0.1", Port: 2855, SessionID: "rawlocal0001", Transport: "tcp"}
	remote := URI{Host: "127.0.0.1", Port: 2856, SessionID: "rawremote001", Transport: "tcp"}
	s := newSession(SessionOptions{Local: local, Remote: []URI{remote}})
	if !c.adopt(s) {
		t.Fatal("adopt failed")
	}
	return s, peer, NewReader(peer)
}

var (
	tidLine   = regexp.MustCompile(`MSRP [0-9a-f]{16} SEND|-------[0-9a-f]{16}\$`)
	messageID = regexp.MustCompile(`Message-ID: [0-9a-f]{16}`)
)

// normalize replaces the random transaction id and Message-ID of a raw
// SEND with fixed ones.
func normalize(frame []byte) []byte {
	frame = tidLine.ReplaceAllFunc(frame, func(b []byte) []byte {
		if bytes.HasPrefix(b, []byte("MSRP")) {
			return []byte("MSRP rawtid0000000001 SEND")
		}
		return []byte("-------rawtid0000000001$")
	})
	return messageID.ReplaceAll(frame, []byte("Message-ID: rawmsgid00000001"))
}

// TestRawSenderWire: a raw SEND is written as the reference's desktop
// sharing writes one (testdata/raw-send.msrp): a whole message in one
// chunk, Byte-Range 1-n/n, Success-Report no, Failure-Report partial, the
// sender's Content-Type, fresh ids each time.
func TestRawSenderWire(t *testing.T) {
	s, _, r := rawConn(t)
	w, err := s.NewRawSender("application/x-rfb")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("RFB 003.008\n")
	if err := w.Send(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(body); err != nil {
		t.Fatal(err)
	}
	var tids, ids []string
	for i := 0; i < 2; i++ {
		m, err := r.ReadMessage(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		tids, ids = append(tids, m.TransactionID), append(ids, m.MessageID())
		got := normalize(m.Marshal())
		const golden = "testdata/raw-send.msrp"
		if *update && i == 0 {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("raw SEND differs from %s:\n got %q\nwant %q", golden, got, want)
		}
	}
	if tids[0] == tids[1] || ids[0] == ids[1] {
		t.Errorf("ids reused: transactions %v, messages %v", tids, ids)
	}
}

// TestRawSenderSendFrom: SendFrom sends each read as one SEND, its bytes
// unchanged, and reports the reader's end.
func TestRawSenderSendFrom(t *testing.T) {
	s, _, r := rawConn(t)
	w, err := s.NewRawSender("application/x-rfb")
	if err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 200<<10)
	for i := range src {
		src[i] = byte(i * 7)
	}
	in := bytes.NewReader(src)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := w.SendFrom(in, 64<<10); err != nil {
				done <- err
				return
			}
		}
	}()
	var got []byte
	for len(got) < len(src) {
		m, err := r.ReadMessage(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		br, err := m.ByteRange()
		if err != nil || br.Start != 1 || br.End != int64(len(m.Body)) || br.Total != br.End || len(m.Body) > 64<<10 {
			t.Fatalf("chunk of %d bytes with Byte-Range %v (%v)", len(m.Body), br, err)
		}
		got = append(got, m.Body...)
	}
	if err := <-done; err != io.EOF {
		t.Fatalf("SendFrom at the end: %v, want io.EOF", err)
	}
	if !bytes.Equal(got, src) {
		t.Fatal("the bytes sent differ from those read")
	}
}

// TestRawSenderBetweenSessions: raw SENDs in both directions at once, over
// TCP and TLS, between two sessions, while each side's own writer answers
// the peer's requests: every body arrives whole and in order, and no
// transaction is left waiting.
func TestRawSenderBetweenSessions(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := map[bool]string{false: "tcp", true: "tls"}[secure]
		t.Run(name, func(t *testing.T) {
			p := newPair(t, secure, Config{KeepAliveInterval: -1})
			const n = 200
			var wg sync.WaitGroup
			for _, dir := range []struct {
				from *Session
				to   *recorder
			}{{p.a, p.rb}, {p.b, p.ra}} {
				w, err := dir.from.NewRawSender("application/x-rfb")
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < n; i++ {
						if err := w.Send(bytes.Repeat([]byte{byte(i)}, 1000+i)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
				// A bodiless request crosses the SENDs: its 501 comes back
				// from the peer's writer goroutine while ours is idle.
				pinged := make(chan error, 1)
				go func() {
					_, err := dir.from.Request(testContext(t), "PING", nil)
					pinged <- err
				}()
				for i := 0; i < n; i++ {
					c := <-dir.to.complete
					want := sha256.Sum256(bytes.Repeat([]byte{byte(i)}, 1000+i))
					if c.Size != int64(1000+i) || c.ContentType != "application/x-rfb" || !bytes.Equal(dir.to.sum(c.MessageID), want[:]) {
						t.Fatalf("message %d: %+v", i, c)
					}
				}
				var se *StatusError
				if err := <-pinged; !errors.As(err, &se) || se.Code != StatusNotImplemented {
					t.Errorf("PING: %v, want 501", err)
				}
			}
			wg.Wait()
			for _, s := range []*Session{p.a, p.b} {
				s.conn.mu.Lock()
				left := len(s.conn.txns)
				s.conn.mu.Unlock()
				if left != 0 {
					t.Errorf("%d transactions kept", left)
				}
			}
		})
	}
}

// TestRawSenderFailureAnswered: a peer that refuses a raw SEND (415) is
// heard by nobody and the connection goes on.
func TestRawSenderFailureAnswered(t *testing.T) {
	s, peer, r := rawConn(t)
	w, _ := s.NewRawSender("application/x-rfb")
	if err := w.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	m, err := r.ReadMessage(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	resp := &Message{TransactionID: m.TransactionID, StatusCode: 415, Comment: "Invalid Content-Type"}
	resp.SetHeader(HeaderToPath, m.Header(HeaderFromPath))
	resp.SetHeader(HeaderFromPath, m.Header(HeaderToPath))
	if _, err := peer.Write(resp.Marshal()); err != nil {
		t.Fatal(err)
	}
	if err := w.Send([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if m, err = r.ReadMessage(1 << 20); err != nil || string(m.Body) != "y" {
		t.Fatalf("after the 415: %v %v", m, err)
	}
	select {
	case <-s.Done():
		t.Fatalf("the session closed: %v", s.Err())
	default:
	}
}

// TestRawSenderClosed: once the session or its connection is closed, Send
// fails with ErrClosed; a connection that broke fails it with the cause.
func TestRawSenderClosed(t *testing.T) {
	t.Run("session closed", func(t *testing.T) {
		s, _, _ := rawConn(t)
		w, _ := s.NewRawSender("application/x-rfb")
		s.Close()
		if err := w.Send([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send: %v, want ErrClosed", err)
		}
	})
	t.Run("peer gone", func(t *testing.T) {
		s, peer, _ := rawConn(t)
		w, _ := s.NewRawSender("application/x-rfb")
		peer.Close()
		<-s.Done()
		if err := w.Send([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send: %v, want ErrClosed", err)
		}
	})
	t.Run("bad content type", func(t *testing.T) {
		s, _, _ := rawConn(t)
		if _, err := s.NewRawSender("text/plain\r\nX: y"); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("NewRawSender: %v", err)
		}
	})
}

// BenchmarkRawSend measures raw SENDs of 64 KiB between two sessions over
// loopback TCP and TLS: the desktop sharing tunnel's MSRP leg.
func BenchmarkRawSend(b *testing.B) {
	for _, secure := range []bool{false, true} {
		b.Run(map[bool]string{false: "tcp", true: "tls"}[secure], func(b *testing.B) {
			p := newPair(b, secure, Config{KeepAliveInterval: -1})
			p.rb.discard = true
			drained := make(chan struct{})
			defer close(drained)
			go func() {
				for {
					select {
					case <-p.rb.complete:
					case <-drained:
						return
					}
				}
			}()
			w, err := p.a.NewRawSender("application/x-rfb")
			if err != nil {
				b.Fatal(err)
			}
			body := bytes.Repeat([]byte("0123456789abcdef"), 4096)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if err := w.Send(body); err != nil {
					b.Fatal(err)
				}
			}
			// Everything sent has arrived.
			if _, err := p.a.Request(ctx, "PING", nil); err == nil {
				b.Fatal("PING answered 200")
			}
		})
	}
}
