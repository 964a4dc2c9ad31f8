package msrp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawPeer speaks MSRP by hand over a real socket.
type rawPeer struct {
	t  *testing.T
	nc net.Conn
	r  *Reader
}

func newRawPeer(t *testing.T, nc net.Conn) *rawPeer {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	// A deadline only keeps a broken test from hanging; nothing is timed.
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawPeer{t: t, nc: nc, r: NewReader(nc)}
}

func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newRawPeer(t, nc)
}

// send writes a message given with "\n" line ends, converted to CRLF.
func (p *rawPeer) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.nc, strings.ReplaceAll(s, "\n", "\r\n")); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) next() *Message {
	p.t.Helper()
	m, err := p.r.ReadMessage(1 << 20)
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return m
}

func (p *rawPeer) expectResponse(tid string, code int) *Message {
	p.t.Helper()
	m := p.next()
	if m.IsRequest() || m.TransactionID != tid || m.StatusCode != code {
		p.t.Fatalf("got %q, want response %s %d", m.Marshal(), tid, code)
	}
	return m
}

func sendReq(tid, to, from, extra, body string) string {
	s := fmt.Sprintf("MSRP %s SEND\nTo-Path: %s\nFrom-Path: %s\nMessage-ID: m%s\n%s", tid, to, from, tid, extra)
	if body != "" {
		return s + "Content-Type: text/plain\n\n" + body + "\n-------" + tid + "$\n"
	}
	return s + "-------" + tid + "$\n"
}

// TestConnMalformedInput drives a passive session from a raw TCP peer and
// checks every error response.
func TestConnMalformedInput(t *testing.T) {
	ctx := testContext(t)
	l, err := Listen(ctx, "127.0.0.1:0", Config{MaxMessageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := l.URI("")
	peerURI := MustParseURI("msrp://127.0.0.1:9/peer1;tcp")
	rec := newRecorder()
	acc, err := l.Prepare(SessionOptions{Local: local, Remote: []URI{peerURI}, Handler: rec})
	if err != nil {
		t.Fatal(err)
	}
	p := dialRaw(t, l.Addr().String())
	to, from := local.String(), peerURI.String()

	// Unknown session-id: 481, with paths reversed.
	p.send(sendReq("t0001", "msrp://127.0.0.1:1/nosuch;tcp", from, "Byte-Range: 1-0/0\n", ""))
	r := p.expectResponse("t0001", StatusNoSuchSession)
	if r.Header(HeaderToPath) != from || r.Header(HeaderFromPath) != "msrp://127.0.0.1:1/nosuch;tcp" {
		t.Fatalf("481 paths: %q", r.Marshal())
	}
	// Right session-id but the wrong peer: still 481.
	p.send(sendReq("t0002", to, "msrp://127.0.0.1:9/intruder;tcp", "Byte-Range: 1-0/0\n", ""))
	p.expectResponse("t0002", StatusNoSuchSession)
	// The binding empty SEND.
	p.send(sendReq("t0003", to, from, "Byte-Range: 1-0/0\n", ""))
	p.expectResponse("t0003", StatusOK)
	s, err := acc.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	tests := []struct {
		name string
		in   string
		tid  string
		code int
	}{
		{"bad header", "MSRP t0010 SEND\nTo-Path: " + to + "\nthis is not a header\n-------t0010$\n", "t0010", StatusBadRequest},
		{"bad To-Path", sendReq("t0011", "sip:bob@example.com", from, "", "x"), "t0011", StatusBadRequest},
		{"bad Byte-Range", sendReq("t0012", to, from, "Byte-Range: 1-2\n", "xy"), "t0012", StatusBadRequest},
		{"no Content-Type", "MSRP t0013 SEND\nTo-Path: " + to + "\nFrom-Path: " + from + "\nMessage-ID: a\n\nbody\n-------t0013$\n", "t0013", StatusUnsupportedMedia},
		{"no Message-ID", "MSRP t0014 SEND\nTo-Path: " + to + "\nFrom-Path: " + from + "\nContent-Type: text/plain\n\nbody\n-------t0014$\n", "t0014", StatusBadRequest},
		{"declared too large", sendReq("t0015", to, from, "Byte-Range: 1-3/1000\n", "abc"), "t0015", StatusStopSending},
		{"body too large", sendReq("t0016", to, from, "Byte-Range: 1-*/*\n", strings.Repeat("z", 150)), "t0016", StatusStopSending},
		{"header block too large", "MSRP t0017 SEND\nTo-Path: " + to + "\nX: " + strings.Repeat("h", DefaultMaxHeaderSize) + "\n-------t0017$\n", "t0017", StatusStopSending},
		{"broken end-line after body", "MSRP t0024 SEND\nTo-Path: " + to + "\nFrom-Path: " + from + "\nMessage-ID: b\nContent-Type: text/plain\n\nbody\n-------t0024?\n", "t0024", StatusBadRequest},
		{"unknown method", "MSRP t0018 NICKNAME\nTo-Path: " + to + "\nFrom-Path: " + from + "\nUse-Nickname: \"x\"\n-------t0018$\n", "t0018", StatusNotImplemented},
		{"still works", sendReq("t0019", to, from, "Byte-Range: 1-2/2\n", "ok"), "t0019", StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			p.send(tt.in)
			p.expectResponse(tt.tid, tt.code)
		})
	}
	p.t = t
	// REPORTs are never answered, and Failure-Report no or partial
	// suppresses the 200: the next response is for t0023.
	p.send("MSRP t0020 REPORT\nTo-Path: " + to + "\nFrom-Path: " + from + "\nMessage-ID: x\nByte-Range: 1-2/2\nStatus: 000 200 OK\n-------t0020$\n")
	p.send(sendReq("t0021", to, from, "Byte-Range: 1-2/2\nFailure-Report: no\n", "ok"))
	p.send(sendReq("t0022", to, from, "Byte-Range: 1-2/2\nFailure-Report: partial\n", "ok"))
	p.send(sendReq("t0023", to, from, "Byte-Range: 1-2/2\nFailure-Report: partial\n", strings.Repeat("y", 200)))
	p.expectResponse("t0023", StatusStopSending)
	if rep := <-rec.reports; rep.MessageID != "x" || rep.Status.Code != StatusOK {
		t.Fatalf("report %+v", rep)
	}
	// A start line that cannot be parsed ends the connection.
	p.send("GET / HTTP/1.1\n\n")
	if m, err := p.r.Next(); err == nil {
		t.Fatalf("connection still open, got %q", m.Marshal())
	}
	<-s.Done()
	if !errors.Is(s.Err(), ErrMalformed) {
		t.Fatalf("session ended with %v, want ErrMalformed", s.Err())
	}
}

// rawServer accepts one connection and answers the binding empty SEND.
func rawServer(t *testing.T) (URI, <-chan *rawPeer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan *rawPeer, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- newRawPeer(t, nc)
	}()
	addr := ln.Addr().(*net.TCPAddr)
	return URI{Host: "127.0.0.1", Port: addr.Port, SessionID: "rawsrv", Transport: "tcp"}, ch
}

func (p *rawPeer) answer(m *Message, code int) {
	p.t.Helper()
	resp := &Message{TransactionID: m.TransactionID, StatusCode: code, Comment: StatusText(code)}
	resp.SetHeader(HeaderToPath, strings.Fields(m.Header(HeaderFromPath))[0])
	resp.SetHeader(HeaderFromPath, strings.Fields(m.Header(HeaderToPath))[0])
	if _, err := resp.WriteTo(p.nc); err != nil {
		p.t.Fatal(err)
	}
}

func dialRawServer(t *testing.T, cfg Config) (*Session, *rawPeer) {
	t.Helper()
	ctx := testContext(t)
	remote, peers := rawServer(t)
	type res struct {
		s   *Session
		err error
	}
	done := make(chan res, 1)
	go func() {
		s, err := Dial(ctx, URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}, []URI{remote}, nil, cfg)
		done <- res{s, err}
	}()
	p := <-peers
	bind := p.next()
	if bind.Method != MethodSEND || bind.Header(HeaderByteRange) != "1-0/0" || bind.HasBody() {
		t.Fatalf("binding request: %q", bind.Marshal())
	}
	p.answer(bind, StatusOK)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.s.Close() })
	return r.s, p
}

func TestConnResponseTimeout(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{ResponseTimeout: 50 * time.Millisecond, KeepAliveInterval: -1})
	d, err := s.Send(ctx, Outgoing{ContentType: "text/plain", Body: strings.NewReader("unanswered"), Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if m := p.next(); string(m.Body) != "unanswered" {
		t.Fatalf("peer got %q", m.Marshal())
	}
	res, err := d.Wait(ctx)
	if res.Code != StatusRequestTimeout || !errors.Is(err, ErrTimeout) {
		t.Fatalf("result %+v, err %v; want local 408", res, err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Code != StatusRequestTimeout {
		t.Fatalf("err %v is not a 408 *StatusError", err)
	}
}

// TestConnResponseTimeoutMany: the transactions share one expiry timer.
// Of three pipelined messages the peer answers the second only: the
// first and third get the local 408 when their time is up, the second
// its 200; then a fourth, sent once none waits, is timed again.
func TestConnResponseTimeoutMany(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{ResponseTimeout: 100 * time.Millisecond, KeepAliveInterval: -1})
	send := func(text string) *Delivery {
		t.Helper()
		d, err := s.Send(ctx, Outgoing{ContentType: "text/plain", Body: strings.NewReader(text), Size: int64(len(text)), SingleChunk: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ds := []*Delivery{send("one"), send("two"), send("three")}
	var second *Message
	for _, want := range []string{"one", "two", "three"} {
		m := p.next()
		if string(m.Body) != want {
			t.Fatalf("peer got %q, want %s", m.Body, want)
		}
		if want == "two" {
			second = m
		}
	}
	p.answer(second, StatusOK)
	for i, want := range []int{StatusRequestTimeout, StatusOK, StatusRequestTimeout} {
		if r, _ := ds[i].Wait(ctx); r.Code != want {
			t.Fatalf("message %d: %+v, want %d", i+1, r, want)
		}
	}
	d := send("four")
	p.next()
	if r, err := d.Wait(ctx); r.Code != StatusRequestTimeout || !errors.Is(err, ErrTimeout) {
		t.Fatalf("message 4: %+v %v, want the local 408", r, err)
	}
}

func TestConnFailureResponseStopsMessage(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{ChunkSize: 10, KeepAliveInterval: -1})
	body := strings.Repeat("0123456789", 100000)
	d, err := s.Send(ctx, Outgoing{ContentType: "text/plain", Body: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	first := p.next()
	if first.Header(HeaderByteRange) != "1-10/1000000" || first.Flag != FlagContinued {
		t.Fatalf("first chunk %q", first.Marshal())
	}
	p.answer(first, StatusStopSending)
	res, err := d.Wait(ctx)
	if res.Code != StatusStopSending || err == nil {
		t.Fatalf("result %+v %v, want 413", res, err)
	}
	// The sender stops: later chunks (already in flight) are fewer than the rest.
	_ = p.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	n := 0
	for {
		if _, err := p.r.ReadMessage(1 << 20); err != nil {
			break
		}
		n++
	}
	if n >= 99999 {
		t.Fatalf("sender kept sending %d chunks after 413", n)
	}
}

func TestConnKeepAlive(t *testing.T) {
	s, p := dialRawServer(t, Config{KeepAliveInterval: 20 * time.Millisecond, ResponseTimeout: 100 * time.Millisecond})
	ka := p.next()
	if ka.Method != MethodSEND || ka.Header(HeaderKeepAlive) != "yes" || ka.Header(HeaderByteRange) != "1-0/0" {
		t.Fatalf("keep-alive %q", ka.Marshal())
	}
	p.answer(ka, StatusOK)
	// Unanswered keep-alives end the connection with ErrTimeout.
	<-s.Done()
	if !errors.Is(s.Err(), ErrTimeout) {
		t.Fatalf("session ended with %v, want ErrTimeout", s.Err())
	}
}

func TestAcceptWithdrawn(t *testing.T) {
	l, err := Listen(context.Background(), "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := l.URI("")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Accept(ctx, local, []URI{MustParseURI("msrp://127.0.0.1:1/x;tcp")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	p := dialRaw(t, l.Addr().String())
	p.send(sendReq("t0001", local.String(), "msrp://127.0.0.1:1/x;tcp", "Byte-Range: 1-0/0\n", ""))
	p.expectResponse("t0001", StatusNoSuchSession)
}

// TestConnExpectReassembly binds a passive session on a connection we
// opened (as through a relay), reassembles chunks that arrive out of
// order, sends the success REPORT, reports aborted messages, and traces.
func TestConnExpectReassembly(t *testing.T) {
	ctx := testContext(t)
	remote, peers := rawServer(t)
	var mu sync.Mutex
	traced := map[Direction]*bytes.Buffer{Inbound: {}, Outbound: {}}
	cfg := Config{KeepAliveInterval: -1, Trace: func(d Direction, b []byte) {
		mu.Lock()
		traced[d].Write(b)
		mu.Unlock()
	}}
	c, err := DialConn(ctx, remote.Addr(), false, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := <-peers
	local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
	rec := newRecorder()
	pending, err := c.Expect(SessionOptions{Local: local, Remote: []URI{remote}, Handler: rec})
	if err != nil {
		t.Fatal(err)
	}
	to, from := local.String(), remote.String()
	chunk := func(tid, id, rng, extra, body string, flag byte) string {
		return "MSRP " + tid + " SEND\nTo-Path: " + to + "\nFrom-Path: " + from + "\nMessage-ID: " + id +
			"\nByte-Range: " + rng + "\n" + extra + "Content-Type: text/plain\n\n" + body + "\n-------" + tid + string(flag) + "\n"
	}
	p.send(chunk("c0000002", "msg1", "6-10/10", "Success-Report: yes\n", "world", FlagEnd))
	p.expectResponse("c0000002", StatusOK)
	s, err := pending.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case comp := <-rec.complete:
		t.Fatalf("completed before all bytes arrived: %+v", comp)
	default:
	}
	p.send(chunk("c0000001", "msg1", "1-5/10", "Success-Report: yes\n", "hello", FlagContinued))
	p.expectResponse("c0000001", StatusOK)
	comp := <-rec.complete
	if comp.MessageID != "msg1" || comp.Size != 10 || comp.Aborted {
		t.Fatalf("completion %+v", comp)
	}
	rep := p.next()
	if rep.Method != MethodREPORT || rep.MessageID() != "msg1" || rep.Header(HeaderStatus) != "000 200 OK" ||
		rep.Header(HeaderByteRange) != "1-10/10" || rep.Header(HeaderToPath) != from || rep.Header(HeaderFromPath) != to {
		t.Fatalf("REPORT %q", rep.Marshal())
	}

	p.send(chunk("c0000003", "msg2", "1-3/10", "", "abc", FlagContinued))
	p.expectResponse("c0000003", StatusOK)
	p.send(chunk("c0000004", "msg2", "4-5/10", "", "de", FlagAborted))
	p.expectResponse("c0000004", StatusOK)
	comp = <-rec.complete
	if comp.MessageID != "msg2" || !comp.Aborted || comp.Size != 5 {
		t.Fatalf("aborted completion %+v", comp)
	}

	// The reference SDK writes an unknown end ('*') once a message is
	// larger than 2048 bytes, even in a single chunk.
	big := strings.Repeat("R", 3000)
	p.send(chunk("c0000005", "msg3", "1-*/3000", "", big, FlagEnd))
	p.expectResponse("c0000005", StatusOK)
	if comp = <-rec.complete; comp.MessageID != "msg3" || comp.Size != 3000 || comp.Aborted {
		t.Fatalf("reference-style completion %+v", comp)
	}

	mu.Lock()
	in, out := traced[Inbound].String(), traced[Outbound].String()
	mu.Unlock()
	if !strings.Contains(in, "MSRP c0000001 SEND\r\n") || !strings.Contains(out, "MSRP c0000001 200 OK\r\n") {
		t.Fatalf("trace lacks the exchange:\nin: %q\nout: %q", in, out)
	}
}

func TestSessionIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ctx := testContext(t)
	l := NewListener(ln, Config{})
	defer l.Close()
	bob := l.URI("")
	if bob.Host != "::1" || !strings.HasPrefix(bob.String(), "msrp://[::1]:") {
		t.Fatalf("listener URI %v", bob)
	}
	alice := MustParseURI("msrp://[::1]:2855/alice6;tcp")
	acc, err := l.Prepare(SessionOptions{Local: bob, Remote: []URI{alice}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Dial(ctx, alice, []URI{MustParseURI(bob.String())}, nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := acc.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := s.SendMessage(ctx, "text/plain", []byte("v6")); err != nil {
		t.Fatal(err)
	}
}

// TestSendByteRange sends part of a message (a file-range resume) and a
// REPORT made by the application.
func TestSendByteRange(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{KeepAliveInterval: -1, ChunkSize: 300})
	d, err := s.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: strings.NewReader(strings.Repeat("r", 500)), Size: 500, Start: 501, Total: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		rng  string
		flag byte
	}{{"501-800/1000", FlagContinued}, {"801-1000/1000", FlagEnd}} {
		m := p.next()
		if m.Header(HeaderByteRange) != want.rng || m.Flag != want.flag {
			t.Fatalf("chunk %q", m.Marshal())
		}
		p.answer(m, StatusOK)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Outgoing{
		{ContentType: "t/p", Size: 10, Start: -1},
		{ContentType: "t/p", Size: 10, Start: 995, Total: 1000},
	} {
		bad.Body = strings.NewReader("0123456789")
		if _, err := s.Send(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Send(%+v) err = %v", bad, err)
		}
	}

	req := &Message{TransactionID: "x0000001", Method: MethodSEND}
	req.SetHeader(HeaderToPath, s.LocalURI().String())
	req.SetHeader(HeaderFromPath, "msrp://127.0.0.1:9/relay;tcp "+s.RemotePath()[0].String())
	req.SetHeader(HeaderMessageID, "file1")
	if err := s.SendReport(req, ByteRange{Start: 501, End: 1000, Total: 1000}, StatusOK, ""); err != nil {
		t.Fatal(err)
	}
	rep := p.next()
	if rep.Method != MethodREPORT || rep.Header(HeaderToPath) != req.Header(HeaderFromPath) ||
		rep.Header(HeaderFromPath) != s.LocalURI().String() || rep.MessageID() != "file1" ||
		rep.Header(HeaderByteRange) != "501-1000/1000" || rep.Header(HeaderStatus) != "000 200 OK" {
		t.Fatalf("REPORT %q", rep.Marshal())
	}
	if err := s.SendReport(&Message{}, ByteRange{}, StatusOK, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("SendReport without Message-ID: %v", err)
	}
}
