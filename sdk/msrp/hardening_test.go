package msrp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSendSingleChunk: a SingleChunk message goes out as one SEND of the
// whole body, whatever Config.ChunkSize, and arrives whole.
func TestSendSingleChunk(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{ChunkSize: 100, KeepAliveInterval: -1})
	body := bytes.Repeat([]byte("0123456789"), 1000)
	d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body), Size: int64(len(body)), SingleChunk: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c := <-p.rb.complete
	want := sha256.Sum256(body)
	if c.MessageID != d.MessageID || c.Size != int64(len(body)) || !bytes.Equal(p.rb.sum(c.MessageID), want[:]) {
		t.Fatalf("completion %+v", c)
	}
	p.rb.mu.Lock()
	n := p.rb.chunks[c.MessageID]
	p.rb.mu.Unlock()
	if n != 1 {
		t.Fatalf("the message came in %d chunks, want 1", n)
	}

	// Without SingleChunk the same message is chunked by ChunkSize.
	d, err = p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c = <-p.rb.complete
	p.rb.mu.Lock()
	n = p.rb.chunks[c.MessageID]
	p.rb.mu.Unlock()
	if n != 100 {
		t.Fatalf("the chunked message came in %d chunks, want 100", n)
	}

	if _, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body), Size: -1, SingleChunk: true}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("SingleChunk of unknown size: %v, want ErrInvalidArgument", err)
	}
	// Send reads the body: one shorter than its Size is refused there.
	if _, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body[:10]), Size: 11, SingleChunk: true}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("SingleChunk body shorter than its Size: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestDialRefusedBindError: a 481 to the binding SEND is a *BindError
// that names the peer and the status.
func TestDialRefusedBindError(t *testing.T) {
	ctx := testContext(t)
	l, err := Listen(ctx, "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
	_, err = Dial(ctx, local, []URI{l.URI("nobody-waits")}, nil, Config{})
	var be *BindError
	if !errors.As(err, &be) || be.Code != StatusNoSuchSession || be.Addr != l.Addr().String() {
		t.Fatalf("err = %#v, want a *BindError with 481 from %s", err, l.Addr())
	}
	if !errors.Is(err, ErrBindFailed) || !errors.Is(err, ErrNoSuchSession) {
		t.Fatalf("err = %v, want ErrBindFailed and ErrNoSuchSession", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "refused the session binding: 481") || !strings.Contains(msg, l.Addr().String()) {
		t.Fatalf("message %q does not name the refusal", msg)
	}
}

// TestVerifyPeer: a passive session's VerifyPeer sees the TLS state of
// the connection that names it, client certificate included; a refusal
// answers the binding SEND 403 and fails Accept with VerifyPeer's error.
// On the active side Bind runs it before binding.
func TestVerifyPeer(t *testing.T) {
	errWrongPeer := errors.New("wrong peer")
	for _, tc := range []struct {
		name   string
		accept bool
	}{{"accepted", true}, {"refused", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			server, client := selfSignedTLS(t)
			clientCert, _ := selfSignedTLS(t)
			server.ClientAuth = tls.RequestClientCert
			client.Certificates = clientCert.Certificates
			l, err := Listen(ctx, "127.0.0.1:0", Config{TLSConfig: server})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			aURI := URI{Secure: true, Host: "127.0.0.1", Port: DefaultPort, SessionID: NewSessionID(), Transport: "tcp"}
			bURI := l.URI("")
			seen := make(chan []byte, 1)
			acc, err := l.Prepare(SessionOptions{Local: bURI, Remote: []URI{aURI}, VerifyPeer: func(st *tls.ConnectionState) error {
				if st == nil || len(st.PeerCertificates) == 0 {
					seen <- nil
					return errWrongPeer
				}
				seen <- st.PeerCertificates[0].Raw
				if !tc.accept {
					return errWrongPeer
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := DialConn(ctx, bURI.Addr(), true, Config{TLSConfig: client, KeepAliveInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var serverSeen []byte
			s, err := c.Bind(ctx, SessionOptions{Local: aURI, Remote: []URI{bURI}, VerifyPeer: func(st *tls.ConnectionState) error {
				serverSeen = st.PeerCertificates[0].Raw
				return nil
			}})
			if got := <-seen; !bytes.Equal(got, clientCert.Certificates[0].Certificate[0]) {
				t.Fatal("VerifyPeer did not see the client's certificate")
			}
			if !bytes.Equal(serverSeen, server.Certificates[0].Certificate[0]) {
				t.Fatal("the active side's VerifyPeer did not see the server's certificate")
			}
			bs, aerr := acc.Accept(ctx)
			if tc.accept {
				if err != nil || aerr != nil {
					t.Fatalf("Bind: %v; Accept: %v", err, aerr)
				}
				if _, err := s.SendMessage(ctx, "text/plain", []byte("hi")); err != nil {
					t.Fatal(err)
				}
				bs.Close()
				return
			}
			var be *BindError
			if !errors.As(err, &be) || be.Code != StatusForbidden {
				t.Fatalf("Bind: %v, want a 403 BindError", err)
			}
			if !errors.Is(aerr, errWrongPeer) {
				t.Fatalf("Accept: %v, want VerifyPeer's error", aerr)
			}
		})
	}

	t.Run("Expect refuses", func(t *testing.T) {
		ctx := testContext(t)
		remote, peers := rawServer(t)
		c, err := DialConn(ctx, remote.Addr(), false, Config{KeepAliveInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p := <-peers
		local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
		pending, err := c.Expect(SessionOptions{Local: local, Remote: []URI{remote}, VerifyPeer: func(*tls.ConnectionState) error { return errWrongPeer }})
		if err != nil {
			t.Fatal(err)
		}
		p.send(sendReq("t0000001", local.String(), remote.String(), "Byte-Range: 1-0/0\n", ""))
		p.expectResponse("t0000001", StatusForbidden)
		if _, err := pending.Accept(ctx); !errors.Is(err, errWrongPeer) {
			t.Fatalf("Accept: %v, want VerifyPeer's error", err)
		}
		// The session is withdrawn: the next request for it gets 481.
		p.send(sendReq("t0000002", local.String(), remote.String(), "Byte-Range: 1-0/0\n", ""))
		p.expectResponse("t0000002", StatusNoSuchSession)
	})
	t.Run("listener's refusal written before it closes", func(t *testing.T) {
		// As msrpstream does when its stream fails, the Listener is
		// closed as soon as Accept fails: the 403 must be on the wire.
		for range 20 {
			ctx := testContext(t)
			l, err := Listen(ctx, "127.0.0.1:0", Config{})
			if err != nil {
				t.Fatal(err)
			}
			aURI := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
			bURI := l.URI("")
			acc, err := l.Prepare(SessionOptions{Local: bURI, Remote: []URI{aURI}, VerifyPeer: func(*tls.ConnectionState) error { return errWrongPeer }})
			if err != nil {
				t.Fatal(err)
			}
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				_, _ = acc.Accept(ctx)
				_ = l.Close()
			}()
			c, err := DialConn(ctx, bURI.Addr(), false, Config{KeepAliveInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Bind(ctx, SessionOptions{Local: aURI, Remote: []URI{bURI}})
			var be *BindError
			if !errors.As(err, &be) || be.Code != StatusForbidden {
				t.Fatalf("Bind: %v, want a 403 BindError", err)
			}
			_ = c.Close()
			<-closed
		}
	})
	t.Run("refusal written before the connection closes", func(t *testing.T) {
		// The session's owner closes the connection as soon as Accept
		// fails, as msrpstream does when the stream fails: the 403 must
		// already be on the wire, not dropped with the connection.
		for range 20 {
			ctx := testContext(t)
			remote, peers := rawServer(t)
			c, err := DialConn(ctx, remote.Addr(), false, Config{KeepAliveInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			p := <-peers
			local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
			pending, err := c.Expect(SessionOptions{Local: local, Remote: []URI{remote}, VerifyPeer: func(*tls.ConnectionState) error { return errWrongPeer }})
			if err != nil {
				t.Fatal(err)
			}
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				_, _ = pending.Accept(ctx)
				_ = c.Close()
			}()
			p.send(sendReq("t0000001", local.String(), remote.String(), "Byte-Range: 1-0/0\n", ""))
			p.expectResponse("t0000001", StatusForbidden)
			<-closed
		}
	})
	t.Run("active side refuses", func(t *testing.T) {
		ctx := testContext(t)
		l, err := Listen(ctx, "127.0.0.1:0", Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		c, err := DialConn(ctx, l.Addr().String(), false, Config{KeepAliveInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
		_, err = c.Bind(ctx, SessionOptions{Local: local, Remote: []URI{l.URI("")}, VerifyPeer: func(st *tls.ConnectionState) error {
			if st != nil {
				t.Error("VerifyPeer got a TLS state on plain TCP")
			}
			return errWrongPeer
		}})
		if !errors.Is(err, errWrongPeer) {
			t.Fatalf("Bind: %v, want VerifyPeer's error", err)
		}
	})
}

// TestRefusalAfterAcceptedChunks: a chunk refused after earlier chunks of
// its message were accepted gets its failure response and a failure
// REPORT, so a sender counting REPORTs learns the message failed; the
// first chunk refused gets the response only.
func TestRefusalAfterAcceptedChunks(t *testing.T) {
	ctx := testContext(t)
	l, err := Listen(ctx, "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := l.URI("")
	remote := "msrp://127.0.0.1:1/rawpeer;tcp"
	var chunks atomic.Int32
	acc, err := l.Prepare(SessionOptions{Local: local, Remote: []URI{MustParseURI(remote)}, Handler: HandlerFuncs{Chunk: func(_ context.Context, c *Chunk) int {
		if c.Range.Start > 1 || c.MessageID == "first" {
			return StatusStopSending
		}
		chunks.Add(1)
		return StatusOK
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p := dialRaw(t, l.Addr().String())
	chunk := func(tid, id, rng, extra, body string, flag byte) {
		p.send("MSRP " + tid + " SEND\nTo-Path: " + local.String() + "\nFrom-Path: " + remote + "\nMessage-ID: " + id +
			"\nByte-Range: " + rng + "\n" + extra + "Content-Type: text/plain\n\n" + body + "\n-------" + tid + string(flag) + "\n")
	}
	chunk("t0000001", "msg1", "1-5/10", "Success-Report: yes\n", "hello", FlagContinued)
	p.expectResponse("t0000001", StatusOK)
	if _, err := acc.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	chunk("t0000002", "msg1", "6-10/10", "Success-Report: yes\n", "world", FlagEnd)
	p.expectResponse("t0000002", StatusStopSending)
	rep := p.next()
	if rep.Method != MethodREPORT || rep.MessageID() != "msg1" || rep.Header(HeaderStatus) != "000 413 Stop Sending" || rep.Header(HeaderByteRange) != "6-10/10" {
		t.Fatalf("REPORT %q", rep.Marshal())
	}

	// Refused at once: the response says it all. The next thing on the
	// wire is the answer to the following request.
	chunk("t0000003", "first", "1-5/5", "", "hello", FlagEnd)
	p.expectResponse("t0000003", StatusStopSending)
	chunk("t0000004", "msg2", "1-2/2", "", "ok", FlagEnd)
	p.expectResponse("t0000004", StatusOK)
	if n := chunks.Load(); n != 2 {
		t.Fatalf("%d chunks accepted, want 2", n)
	}
}

// TestSingleChunkPipelined: SingleChunk messages sent one after another
// without waiting for their responses — large ones (many ChunkSizes) and
// small ones alternating, while a chunked message of another size is in
// flight — arrive whole and in the order they were sent, and every one
// is answered 200.
func TestSingleChunkPipelined(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcp", true: "tls"}[secure], func(t *testing.T) {
			ctx := testContext(t)
			p := newPair(t, secure, Config{ChunkSize: 256, KeepAliveInterval: -1})
			const n = 400
			// The receiver's completions, in order, until n+1 came.
			var order []string
			received := make(chan struct{})
			go func() {
				defer close(received)
				for len(order) < n+1 {
					select {
					case c := <-p.rb.complete:
						order = append(order, c.MessageID)
					case <-ctx.Done():
						return
					}
				}
			}()
			chunked, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(bytes.Repeat([]byte("c"), 64<<10)), Size: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, n)
			ds := make([]*Delivery, n)
			for i := range n {
				size := 10 + i%7
				if i%2 == 0 {
					size = 20000 + i // about 80 chunks of ChunkSize
				}
				body := bytes.Repeat([]byte{byte('a' + i%26)}, size)
				ds[i], err = p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body), Size: int64(size), SingleChunk: true})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = ds[i].MessageID
			}
			for i, d := range ds {
				if r, err := d.Wait(ctx); err != nil || r.Code != StatusOK {
					t.Fatalf("message %d: %+v %v", i, r, err)
				}
			}
			if _, err := chunked.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			<-received
			if i := slices.Index(order, chunked.MessageID); i >= 0 {
				order = slices.Delete(order, i, i+1)
			}
			if len(order) != n {
				t.Fatalf("%d of %d messages completed", len(order), n)
			}
			for i := range order {
				if order[i] != ids[i] {
					t.Fatalf("message %d sent was received as number %d", slices.Index(ids, order[i]), i)
				}
			}
			p.rb.mu.Lock()
			defer p.rb.mu.Unlock()
			for i, id := range ids {
				if p.rb.chunks[id] != 1 {
					t.Fatalf("message %d came in %d chunks", i, p.rb.chunks[id])
				}
			}
		})
	}
}
