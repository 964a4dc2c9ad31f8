package msrp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"hash"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// recorder is a Handler that hashes incoming messages and records
// completions and REPORTs.
type recorder struct {
	mu       sync.Mutex
	hashes   map[string]hash.Hash
	chunks   map[string]int
	complete chan Completion
	reports  chan Report
	status   int  // returned by HandleComplete; 0 means 200
	discard  bool // skip hashing (benchmarks)
	// chunk and request, when set (under mu), replace HandleChunk and
	// HandleRequest.
	chunk, request func(context.Context, *Chunk) int
}

// setHooks sets the chunk and request hooks.
func (r *recorder) setHooks(chunk, request func(context.Context, *Chunk) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunk, r.request = chunk, request
}

func (r *recorder) hooks() (chunk, request func(context.Context, *Chunk) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chunk, r.request
}

func newRecorder() *recorder {
	return &recorder{hashes: map[string]hash.Hash{}, chunks: map[string]int{},
		complete: make(chan Completion, 100), reports: make(chan Report, 100)}
}

func (r *recorder) HandleChunk(ctx context.Context, c *Chunk) int {
	if f, _ := r.hooks(); f != nil {
		return f(ctx, c)
	}
	if r.discard {
		return StatusOK
	}
	r.mu.Lock()
	h := r.hashes[c.MessageID]
	if h == nil {
		h = sha256.New()
		r.hashes[c.MessageID] = h
	}
	r.chunks[c.MessageID]++
	r.mu.Unlock()
	if _, err := io.Copy(h, c); err != nil {
		return StatusBadRequest
	}
	return StatusOK
}

func (r *recorder) HandleComplete(ctx context.Context, c *Completion) int {
	r.complete <- *c
	if r.status != 0 {
		return r.status
	}
	return StatusOK
}

func (r *recorder) HandleReport(ctx context.Context, rep *Report) { r.reports <- *rep }

func (r *recorder) HandleRequest(ctx context.Context, c *Chunk) int {
	if _, f := r.hooks(); f != nil {
		return f(ctx, c)
	}
	return StatusNotImplemented
}

func (r *recorder) sum(id string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.hashes[id]; h != nil {
		return h.Sum(nil)
	}
	return nil
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func selfSignedTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "msrp test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

type pair struct {
	a, b   *Session // a dialled, b accepted
	ra, rb *recorder
	l      *Listener
}

// newPair connects two sessions over loopback, TLS when secure.
func newPair(t testing.TB, secure bool, cfg Config) *pair {
	t.Helper()
	ctx := testContext(t)
	lcfg, dcfg := cfg, cfg
	if secure {
		lcfg.TLSConfig, dcfg.TLSConfig = selfSignedTLS(t)
	}
	l, err := Listen(ctx, "127.0.0.1:0", lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &pair{ra: newRecorder(), rb: newRecorder(), l: l}
	bURI := l.URI("")
	aURI := URI{Secure: secure, Host: "127.0.0.1", Port: DefaultPort, SessionID: NewSessionID(), Transport: "tcp"}
	acc, err := l.Prepare(SessionOptions{Local: bURI, Remote: []URI{aURI}, Handler: p.rb})
	if err != nil {
		t.Fatal(err)
	}
	p.a, err = Dial(ctx, aURI, []URI{bURI}, p.ra, dcfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { p.a.Close() })
	p.b, err = acc.Accept(ctx)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	t.Cleanup(func() { p.b.Close() })
	return p
}

func TestSessionSmallMessages(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "tcp"
		if secure {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			p := newPair(t, secure, Config{})
			// Both directions, with a success report.
			for _, dir := range []struct {
				from *Session
				to   *recorder
				back *recorder
			}{{p.a, p.rb, p.ra}, {p.b, p.ra, p.rb}} {
				body := []byte("Hey Bob, are you there?")
				d, err := dir.from.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(body), Size: int64(len(body)), SuccessReport: true})
				if err != nil {
					t.Fatal(err)
				}
				res, err := d.Wait(ctx)
				if err != nil || res.Code != StatusOK {
					t.Fatalf("delivery: %+v %v", res, err)
				}
				c := <-dir.to.complete
				if c.MessageID != d.MessageID || c.Size != int64(len(body)) || c.Aborted || c.ContentType != "text/plain" {
					t.Fatalf("completion %+v", c)
				}
				want := sha256.Sum256(body)
				if got := dir.to.sum(d.MessageID); !bytes.Equal(got, want[:]) {
					t.Fatal("body hash differs")
				}
				rep := <-dir.back.reports
				if rep.MessageID != d.MessageID || rep.Status.Code != StatusOK || rep.Range != (ByteRange{1, int64(len(body)), int64(len(body))}) {
					t.Fatalf("report %+v", rep)
				}
			}
		})
	}
}

// TestSessionLargeInterleaved sends a 20 MB message and, while it is in
// flight, small messages that must complete before it does.
func TestSessionLargeInterleaved(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "tcp"
		if secure {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			p := newPair(t, secure, Config{ChunkSize: 16 << 10})
			big := make([]byte, 20<<20)
			if _, err := rand.Read(big); err != nil {
				t.Fatal(err)
			}
			gate := newGateReader(big, 1<<20)
			t.Cleanup(gate.open)
			dBig, err := p.a.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: gate, Size: int64(len(big)), SuccessReport: true})
			if err != nil {
				t.Fatal(err)
			}
			gate.waitServed() // first MiB written: the big message is in progress
			var small []*Delivery
			for i := range 3 {
				d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader([]byte{'a' + byte(i)}), Size: 1})
				if err != nil {
					t.Fatal(err)
				}
				small = append(small, d)
			}
			for range small {
				c := <-p.rb.complete
				if c.MessageID == dBig.MessageID {
					t.Fatal("large message completed before the interleaved small ones")
				}
			}
			gate.open()
			if res, err := dBig.Wait(ctx); err != nil {
				t.Fatalf("large delivery: %+v %v", res, err)
			}
			c := <-p.rb.complete
			if c.MessageID != dBig.MessageID || c.Size != int64(len(big)) {
				t.Fatalf("completion %+v", c)
			}
			want := sha256.Sum256(big)
			if !bytes.Equal(p.rb.sum(dBig.MessageID), want[:]) {
				t.Fatal("large body hash differs")
			}
			if n := p.rb.chunks[dBig.MessageID]; n != (20<<20)/(16<<10) {
				t.Fatalf("large message arrived in %d chunks", n)
			}
			rep := <-p.ra.reports
			if rep.MessageID != dBig.MessageID || rep.Status.Code != StatusOK || rep.Range.End != int64(len(big)) {
				t.Fatalf("report %+v", rep)
			}
		})
	}
}

// gateReader serves the first n bytes, then blocks until opened.
type gateReader struct {
	r      *bytes.Reader
	n      int
	served chan struct{}
	gate   chan struct{}
	once   sync.Once
	opened sync.Once
}

func newGateReader(b []byte, n int) *gateReader {
	return &gateReader{r: bytes.NewReader(b), n: n, served: make(chan struct{}), gate: make(chan struct{})}
}

func (g *gateReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		g.once.Do(func() { close(g.served) })
		<-g.gate
		return g.r.Read(p)
	}
	if len(p) > g.n {
		p = p[:g.n]
	}
	n, err := g.r.Read(p)
	g.n -= n
	return n, err
}

func (g *gateReader) waitServed() { <-g.served }
func (g *gateReader) open()       { g.opened.Do(func() { close(g.gate) }) }

func TestSessionUnknownSize(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{ChunkSize: 100})
	for _, n := range []int{0, 1, 99, 100, 101, 1000} {
		body := bytes.Repeat([]byte{'x'}, n)
		d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: io.MultiReader(bytes.NewReader(body)), Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Wait(ctx); err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		c := <-p.rb.complete
		if c.Size != int64(n) || c.MessageID != d.MessageID {
			t.Fatalf("size %d: completion %+v", n, c)
		}
	}
}

func TestSessionFailureReportModes(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{})
	p.rb.status = StatusUnsupportedMedia // the receiver refuses complete messages
	for _, tt := range []struct {
		mode       ReportMode
		wantReport bool
	}{{ReportYes, true}, {ReportPartial, true}, {ReportNo, false}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader([]byte("hi")), Size: 2, FailureReport: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			<-p.rb.complete
			if tt.mode == ReportYes {
				if _, err := d.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// A marker message with Success-Report orders the REPORTs.
			m, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader(nil), Size: 0, SuccessReport: true})
			if err != nil {
				t.Fatal(err)
			}
			<-p.rb.complete
			rep := <-p.ra.reports
			if tt.wantReport {
				if rep.MessageID != d.MessageID || rep.Status.Code != StatusUnsupportedMedia {
					t.Fatalf("want failure report, got %+v", rep)
				}
				rep = <-p.ra.reports
			}
			if rep.MessageID != m.MessageID {
				t.Fatalf("unexpected report %+v", rep)
			}
		})
	}
}

func TestSessionsShareConnection(t *testing.T) {
	ctx := testContext(t)
	l, err := Listen(ctx, "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := DialConn(ctx, l.Addr().String(), false, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 3
	var accepted, dialled [n]*Session
	recs := [n]*recorder{}
	for i := range n {
		recs[i] = newRecorder()
		local := l.URI("")
		peer := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
		acc, err := l.Prepare(SessionOptions{Local: local, Remote: []URI{peer}, Handler: recs[i]})
		if err != nil {
			t.Fatal(err)
		}
		dialled[i], err = c.Bind(ctx, SessionOptions{Local: peer, Remote: []URI{local}})
		if err != nil {
			t.Fatal(err)
		}
		if accepted[i], err = acc.Accept(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, err := dialled[i].SendMessage(ctx, "text/plain", []byte{byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		comp := <-recs[i].complete
		want := sha256.Sum256([]byte{byte('0' + i)})
		if !bytes.Equal(recs[i].sum(comp.MessageID), want[:]) {
			t.Fatalf("session %d got another session's message", i)
		}
	}
	// Closing one session leaves the others working.
	dialled[0].Close()
	accepted[0].Close()
	if _, err := dialled[1].SendMessage(ctx, "text/plain", []byte("still here")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		accepted[i].Close()
	}
}

func TestDialUnknownSession(t *testing.T) {
	ctx := testContext(t)
	l, err := Listen(ctx, "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := URI{Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
	_, err = Dial(ctx, local, []URI{l.URI("nobody-waits")}, nil, Config{})
	if !errors.Is(err, ErrBindFailed) || !errors.Is(err, ErrNoSuchSession) {
		t.Fatalf("err = %v, want ErrBindFailed and ErrNoSuchSession", err)
	}
}

// TestSessionBidirectional has both sides send large messages at once with
// small chunks, so each side's responses compete with its own chunks; the
// reader must never wait on the writer or the peers deadlock.
func TestSessionBidirectional(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{KeepAliveInterval: -1})
	p.ra.discard, p.rb.discard = true, true
	body := bytes.Repeat([]byte("x"), 8<<20)
	da, err := p.a.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	db, err := p.b.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Delivery{da, db} {
		if res, err := d.Wait(ctx); err != nil {
			t.Fatalf("delivery %+v: %v", res, err)
		}
	}
	for _, r := range []*recorder{p.ra, p.rb} {
		if c := <-r.complete; c.Size != int64(len(body)) {
			t.Fatalf("completion %+v", c)
		}
	}
}

// TestSendBackPressure: with one message in flight allowed, a second Send
// blocks until the first is done, and gives up when its context ends.
func TestSendBackPressure(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{MaxActiveSends: 1, KeepAliveInterval: -1})
	gate := newGateReader(bytes.Repeat([]byte("z"), 10000), 5000)
	t.Cleanup(gate.open)
	first, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: gate, Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	gate.waitServed()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.a.Send(cancelled, Outgoing{ContentType: "text/plain", Body: bytes.NewReader([]byte("x")), Size: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send while full: err = %v, want context.Canceled", err)
	}
	type sent struct {
		d   *Delivery
		err error
	}
	second := make(chan sent, 1)
	go func() {
		d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: bytes.NewReader([]byte("x")), Size: 1})
		second <- sent{d, err}
	}()
	gate.open()
	if _, err := first.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	s := <-second
	if s.err != nil {
		t.Fatal(s.err)
	}
	if _, err := s.d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSendAfterClose(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{})
	p.a.Close()
	if _, err := p.a.SendMessage(ctx, "text/plain", []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	// The peer's connection closed with the last session of the dialled side.
	<-p.b.Done()
	if _, err := p.b.SendMessage(ctx, "text/plain", []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("peer err = %v, want ErrClosed", err)
	}
	if _, err := p.a.Send(ctx, Outgoing{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty Outgoing: %v", err)
	}
}

func TestListenerDropsIdleConnection(t *testing.T) {
	l, err := Listen(context.Background(), "127.0.0.1:0", Config{BindTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := dialRaw(t, l.Addr().String())
	if _, err := p.r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
}

func TestDialTLSUntrusted(t *testing.T) {
	ctx := testContext(t)
	server, _ := selfSignedTLS(t)
	_, otherClient := selfSignedTLS(t) // trusts another certificate
	l, err := Listen(ctx, "127.0.0.1:0", Config{TLSConfig: server})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	local := URI{Secure: true, Host: "127.0.0.1", Port: 1, SessionID: NewSessionID(), Transport: "tcp"}
	_, err = Dial(ctx, local, []URI{l.URI("")}, nil, Config{TLSConfig: otherClient})
	var te *TransportError
	var ue x509.UnknownAuthorityError
	if !errors.As(err, &te) || !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a TransportError with an unknown authority", err)
	}
	if _, err := Dial(ctx, local, []URI{l.URI("")}, nil, Config{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("msrps without TLSConfig: %v", err)
	}
}

// TestDeliveryCancel stops a message half way: the receiver learns it was
// aborted and the sender's Result is ErrCancelled.
func TestDeliveryCancel(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{ChunkSize: 1000, KeepAliveInterval: -1})
	gate := newGateReader(bytes.Repeat([]byte("c"), 10000), 5000)
	t.Cleanup(gate.open)
	d, err := p.a.Send(ctx, Outgoing{ContentType: "text/plain", Body: gate, Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	gate.waitServed()
	d.Cancel()
	res, err := d.Wait(ctx)
	if !errors.Is(err, ErrCancelled) || res.Err == nil {
		t.Fatalf("result %+v, err %v; want ErrCancelled", res, err)
	}
	c := <-p.rb.complete
	if c.MessageID != d.MessageID || !c.Aborted || c.Size > 5000 || c.Size%1000 != 0 {
		t.Fatalf("completion %+v", c)
	}
	d.Cancel() // idempotent
	// The connection still works.
	if _, err := p.a.SendMessage(ctx, "text/plain", []byte("after")); err != nil {
		t.Fatal(err)
	}
}
