package msrpstream

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

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

const rfbType = "application/x-rfb"

// rawEnd is one side of a test session in raw mode: the bodies it
// received, in order, go to got.
type rawEnd struct {
	raw *Raw
	mu  sync.Mutex
	got bytes.Buffer
	in  chan struct{} // a body arrived
}

func (e *rawEnd) received() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.got.Bytes())
}

func rawConfig(e *rawEnd) RawConfig {
	return RawConfig{
		MediaType:   "application",
		AcceptTypes: []string{rfbType},
		Attributes:  []sdp.Attribute{{Key: "rfbsetup", Value: "active"}},
		Receive: func(_ context.Context, contentType string, body io.Reader) {
			b, _ := io.ReadAll(body)
			e.mu.Lock()
			e.got.Write(b)
			e.mu.Unlock()
			select {
			case e.in <- struct{}{}:
			default:
			}
		},
		MSRP: quietConfig(Config{}).MSRP,
	}
}

// waitReceived waits until e has received want, and fails on other bytes.
func (e *rawEnd) waitReceived(t *testing.T, want []byte) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		got := e.received()
		if bytes.Equal(got, want) {
			return
		}
		if len(got) >= len(want) || !bytes.Equal(got, want[:len(got)]) {
			t.Fatalf("received %d bytes that differ from the %d sent (first %q)", len(got), len(want), got[:min(len(got), 32)])
		}
		select {
		case <-e.in:
		case <-deadline:
			t.Fatalf("received %d of %d bytes", len(got), len(want))
		}
	}
}

// TestRawExchange: two raw streams carry every Write, in order and
// unchanged, both ways, over TCP and TLS; Write refuses before the start
// and after the end.
func TestRawExchange(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			ctx := context.Background()
			settings := map[string]string{SettingTransport: transport}
			orec, arec := newRecorder(), newRecorder()
			o := &rawEnd{in: make(chan struct{}, 1)}
			a := &rawEnd{in: make(chan struct{}, 1)}
			o.raw = NewRaw(newEnv(orec), account(settings), rawConfig(o))
			t.Cleanup(func() { _ = o.raw.End(ctx) })
			if _, err := o.raw.Write([]byte("early")); !errors.Is(err, sdk.ErrIllegalState) {
				t.Fatalf("Write before Start: %v, want ErrIllegalState", err)
			}
			if err := o.raw.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
				t.Fatal(err)
			}
			orec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
			offer := mustLocalMedia(t, o.raw.Base, &sdk.GetLocalMediaRequest{ForOffer: true})
			if !strings.Contains(offer, "m=application ") || !strings.Contains(offer, "a=accept-types:application/x-rfb\r\n") || !strings.Contains(offer, "a=rfbsetup:active\r\n") {
				t.Fatalf("offer %q lacks m=application, the accept-types or the type's attribute", offer)
			}
			var err error
			a.raw, err = NewRawFromSDP(&sdk.NewFromSDPRequest{Account: account(settings), RemoteSDP: offer}, newEnv(arec), rawConfig(a))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.raw.End(ctx) })
			if err := a.raw.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
				t.Fatal(err)
			}
			arec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
			answer := mustLocalMedia(t, a.raw.Base, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
			if err := a.raw.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
				t.Fatal(err)
			}
			if err := o.raw.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
				t.Fatal(err)
			}
			orec.WaitFor(t, 0, sdk.MediaStreamDidStart)
			arec.WaitFor(t, 0, sdk.MediaStreamDidStart)

			// Many writes of varied sizes, both ways at once.
			var sent [2]bytes.Buffer
			var wg sync.WaitGroup
			for i, from := range []*rawEnd{o, a} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range 200 {
						p := bytes.Repeat([]byte{byte(n), byte(i)}, 1+n*37%3000)
						sent[i].Write(p)
						if _, err := from.raw.Write(p); err != nil {
							t.Errorf("Write %d: %v", n, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			a.waitReceived(t, sent[0].Bytes())
			o.waitReceived(t, sent[1].Bytes())
			if !o.raw.Active() {
				t.Error("a started stream is not Active")
			}

			if err := o.raw.End(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := o.raw.Write([]byte("late")); !errors.Is(err, sdk.ErrIllegalState) {
				t.Fatalf("Write after End: %v, want ErrIllegalState", err)
			}
			if o.raw.Fail("sending", "too late", nil) {
				t.Error("Fail after End failed the stream")
			}
			for _, n := range orec.Names(0) {
				if n == sdk.MediaStreamDidFail {
					t.Fatalf("notifications %v", orec.Names(0))
				}
			}
		})
	}
}

// rawPeer is a hand-driven MSRP peer: it listens, takes the stream's
// connection, answers its binding SEND and then writes what the test
// says, reading back what the stream writes.
type rawPeer struct {
	uri  msrp.URI
	ln   net.Listener
	nc   net.Conn
	r    *msrp.Reader
	path string // the stream's URI: To-Path of our requests
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &rawPeer{ln: ln}
	p.uri = msrp.URI{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, SessionID: "rawpeer0001", Transport: "tcp"}
	return p
}

// accept takes the stream's connection and answers its binding SEND.
func (p *rawPeer) accept(t *testing.T) {
	t.Helper()
	p.okBind(t, p.take(t))
}

// take takes the stream's connection and reads its binding SEND, which
// okBind answers.
func (p *rawPeer) take(t *testing.T) *msrp.Message {
	t.Helper()
	nc, err := p.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(waitLimit))
	p.nc, p.r = nc, msrp.NewReader(nc)
	m := p.next(t)
	if m.Method != msrp.MethodSEND || m.ContentType() != "" {
		t.Fatalf("first request %s %q, want the binding empty SEND", m.Method, m.ContentType())
	}
	p.path = m.Header(msrp.HeaderFromPath)
	return m
}

// okBind answers the binding SEND with 200.
func (p *rawPeer) okBind(t *testing.T, bind *msrp.Message) {
	t.Helper()
	p.write(t, fmt.Sprintf("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n", bind.TransactionID, p.path, p.uri, bind.TransactionID))
}

func (p *rawPeer) next(t *testing.T) *msrp.Message {
	t.Helper()
	m, err := p.r.ReadMessage(1 << 20)
	if err != nil {
		t.Fatalf("peer reading: %v", err)
	}
	return m
}

func (p *rawPeer) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.nc, s); err != nil {
		t.Fatalf("peer writing: %v", err)
	}
}

// request writes a request of the peer; body "" means none.
func (p *rawPeer) request(t *testing.T, tid, method string, headers []string, contentType, body string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "MSRP %s %s\r\nTo-Path: %s\r\nFrom-Path: %s\r\n", tid, method, p.path, p.uri)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n\r\n%s\r\n", contentType, body)
	}
	fmt.Fprintf(&b, "-------%s$\r\n", tid)
	p.write(t, b.String())
}

// TestRawPeerInput: what a raw stream answers to a peer's requests, as
// the reference's desktop sharing: a SEND of another content type 415
// "Invalid Content-Type", another method 501, nothing to REPORTs, to
// responses, nor to SENDs of its type with Failure-Report partial (whose
// bodies are delivered, in order); garbage fails the stream with context
// "reading" and the parser's reason.
func TestRawPeerInput(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	e := &rawEnd{in: make(chan struct{}, 1)}
	e.raw = NewRaw(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), rawConfig(e))
	defer e.raw.End(ctx)
	if err := e.raw.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := mustLocalMedia(t, e.raw.Base, &sdk.GetLocalMediaRequest{ForOffer: true})
	p := newRawPeer(t)
	answer := sessionHead + fmt.Sprintf("m=application %d TCP/MSRP *\r\na=path:%s\r\na=accept-types:%s\r\na=setup:passive\r\na=rfbsetup:passive\r\n", p.uri.Port, p.uri, rfbType)
	if err := e.raw.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	p.accept(t)
	rec.WaitFor(t, 0, sdk.MediaStreamDidStart)

	// Our Write, as the peer sees it.
	if _, err := e.raw.Write([]byte("RFB 003.008\n")); err != nil {
		t.Fatal(err)
	}
	m := p.next(t)
	br, _ := m.ByteRange()
	if m.Method != msrp.MethodSEND || string(m.Body) != "RFB 003.008\n" || m.ContentType() != rfbType ||
		m.SuccessReport() != msrp.ReportNo || m.FailureReport() != msrp.ReportPartial ||
		br != (msrp.ByteRange{Start: 1, End: 12, Total: 12}) || m.MessageID() == "" {
		t.Fatalf("our SEND: %q", m.Marshal())
	}

	p.request(t, "tidplain01", "SEND", []string{"Message-ID: m1", "Byte-Range: 1-5/5"}, "text/plain", "hello")
	if m := p.next(t); m.TransactionID != "tidplain01" || m.StatusCode != msrp.StatusUnsupportedMedia || m.Comment != RawResponseComment {
		t.Fatalf("answer to a text/plain SEND: %q, want 415 %s", m.Marshal(), RawResponseComment)
	}
	p.request(t, "tidfoo0001", "FOO", nil, "", "")
	if m := p.next(t); m.TransactionID != "tidfoo0001" || m.StatusCode != msrp.StatusNotImplemented {
		t.Fatalf("answer to FOO: %q, want 501", m.Marshal())
	}
	// Nothing answers these three; the 501 to BAR comes next.
	p.request(t, "tidrep0001", "REPORT", []string{"Message-ID: " + m.MessageID(), "Byte-Range: 1-12/12", "Status: 000 200 OK"}, "", "")
	p.write(t, "MSRP tidunknown1 200 OK\r\nTo-Path: "+p.path+"\r\nFrom-Path: "+p.uri.String()+"\r\n-------tidunknown1$\r\n")
	p.request(t, "tidrfb0001", "SEND", []string{"Message-ID: m2", "Byte-Range: 1-5/5", "Success-Report: no", "Failure-Report: partial"}, rfbType, "abcde")
	p.request(t, "tidrfb0002", "SEND", []string{"Message-ID: m3", "Byte-Range: 1-3/3", "Success-Report: no", "Failure-Report: partial"}, rfbType, "fgh")
	p.request(t, "tidbar0001", "BAR", nil, "", "")
	if m := p.next(t); m.TransactionID != "tidbar0001" || m.StatusCode != msrp.StatusNotImplemented {
		t.Fatalf("after the REPORT, the response and two x-rfb SENDs: %q, want BAR's 501 and nothing before", m.Marshal())
	}
	e.waitReceived(t, []byte("abcdefgh"))

	p.write(t, "this is no MSRP at all\r\n\r\n")
	d := data[sdk.DidFailData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	if d.Context != "reading" || d.Reason == "" {
		t.Fatalf("MediaStreamDidFail %+v, want context reading with a reason", d)
	}
	if _, err := e.raw.Write([]byte("x")); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("Write after the failure: %v, want ErrIllegalState", err)
	}
	if err := e.raw.End(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.Names(0); got[len(got)-1] != sdk.MediaStreamDidEnd {
		t.Fatalf("notifications %v", got)
	}
}

// TestRawFail: the vendor's own failure posts its notification first, then
// MediaStreamDidFail with the same context and reason, once.
func TestRawFail(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	e := &rawEnd{in: make(chan struct{}, 1)}
	e.raw = NewRaw(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), rawConfig(e))
	defer e.raw.End(ctx)
	if e.raw.Fail("connecting", "before start", nil) {
		t.Fatal("Fail before Start failed the stream")
	}
	if err := e.raw.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := mustLocalMedia(t, e.raw.Base, &sdk.GetLocalMediaRequest{ForOffer: true})
	p := newRawPeer(t)
	answer := sessionHead + fmt.Sprintf("m=application %d TCP/MSRP *\r\na=path:%s\r\na=accept-types:%s\r\na=setup:passive\r\n", p.uri.Port, p.uri, rfbType)
	if err := e.raw.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	p.accept(t)
	rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	if !e.raw.Fail("connecting", "no VNC server at 127.0.0.1:1", func() { rec.Post("VendorDidFail", nil) }) {
		t.Fatal("Fail of a started stream did nothing")
	}
	if e.raw.Fail("reading", "again", nil) {
		t.Fatal("a second Fail failed the stream again")
	}
	names := rec.Names(0)
	if len(names) < 2 || names[len(names)-2] != "VendorDidFail" || names[len(names)-1] != sdk.MediaStreamDidFail {
		t.Fatalf("notifications %v, want VendorDidFail then MediaStreamDidFail", names)
	}
	d := data[sdk.DidFailData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	if d.Context != "connecting" || d.Reason != "no VNC server at 127.0.0.1:1" {
		t.Fatalf("MediaStreamDidFail %+v", d)
	}
	if e.raw.Active() {
		t.Error("a failed stream is Active")
	}
}

// TestNewRawFromSDPRefuses: an m-line whose accept-types have none of the
// raw type's is not ours (sdk.ErrUnknownStream), as the reference says of
// its desktop sharing; another media type neither.
func TestNewRawFromSDPRefuses(t *testing.T) {
	e := &rawEnd{in: make(chan struct{}, 1)}
	for name, media := range map[string]string{
		"other accept-types": "m=application 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\na=accept-types:text/plain\r\n",
		"no accept-types":    "m=application 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\n",
		"m=message":          "m=message 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\na=accept-types:application/x-rfb\r\n",
	} {
		_, err := NewRawFromSDP(&sdk.NewFromSDPRequest{Account: account(map[string]string{SettingTransport: "tcp"}), RemoteSDP: sessionHead + media},
			newEnv(newRecorder()), rawConfig(e))
		if !errors.Is(err, sdk.ErrUnknownStream) {
			t.Errorf("%s: %v, want ErrUnknownStream", name, err)
		}
	}
}

// TestPrepareLocked: the vendor's PrepareLocked runs in Initialize; its
// error is MediaStreamDidNotInitialize with its reason.
func TestPrepareLocked(t *testing.T) {
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		rec := newRecorder()
		e := &rawEnd{in: make(chan struct{}, 1)}
		cfg := rawConfig(e)
		ran := false
		cfg.PrepareLocked = func() error {
			ran = true
			if fail {
				return errors.New("no loopback port")
			}
			return nil
		}
		e.raw = NewRaw(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), cfg)
		if err := e.raw.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
			t.Fatal(err)
		}
		n := rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize)
		switch {
		case !ran:
			t.Error("PrepareLocked did not run")
		case fail && (n.Name != sdk.MediaStreamDidNotInitialize || data[sdk.DidNotInitializeData](t, n).Reason != "no loopback port"):
			t.Errorf("failing PrepareLocked: %s %s", n.Name, n.Data)
		case !fail && n.Name != sdk.MediaStreamDidInitialize:
			t.Errorf("PrepareLocked: %s %s", n.Name, n.Data)
		}
		_ = e.raw.End(ctx)
	}
}
