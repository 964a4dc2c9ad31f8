package dsstream

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// msrpPeer is a hand-driven MSRP peer standing for the remote side: it
// listens, takes the stream's connection and reads its binding SEND.
type msrpPeer struct {
	uri      msrp.URI
	ln       net.Listener
	nc       net.Conn
	r        *msrp.Reader
	ourPath  string // the stream's URI
	bindTID  string // the binding SEND's transaction
	received chan *msrp.Message
}

func newMSRPPeer(t *testing.T) *msrpPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &msrpPeer{ln: ln, uri: msrp.URI{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, SessionID: "peer0001", Transport: "tcp"}}
}

// answer is the SDP answer of a passive peer with our role's other end.
func (p *msrpPeer) answer(rfbsetup string) string {
	return sessionHead + fmt.Sprintf("m=application %d TCP/MSRP *\r\na=path:%s\r\na=accept-types:%s\r\na=setup:passive\r\na=rfbsetup:%s\r\n",
		p.uri.Port, p.uri, ds.ContentType, rfbsetup)
}

func (p *msrpPeer) accept(t *testing.T) {
	t.Helper()
	nc, err := p.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(waitLimit))
	p.nc, p.r = nc, msrp.NewReader(nc)
	m, err := p.r.ReadMessage(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	p.ourPath, p.bindTID = m.Header(msrp.HeaderFromPath), m.TransactionID
}

func (p *msrpPeer) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.nc, s); err != nil {
		t.Fatal(err)
	}
}

func (p *msrpPeer) ok(t *testing.T) {
	p.write(t, fmt.Sprintf("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n", p.bindTID, p.ourPath, p.uri, p.bindTID))
}

func (p *msrpPeer) send(t *testing.T, tid, contentType, body string) {
	p.write(t, fmt.Sprintf("MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\nByte-Range: 1-%d/%d\r\nSuccess-Report: no\r\nFailure-Report: partial\r\nContent-Type: %s\r\n\r\n%s\r\n-------%s$\r\n",
		tid, p.ourPath, p.uri, tid, len(body), len(body), contentType, body, tid))
}

// offerTo starts an outgoing stream with params whose answer is the
// peer's, and takes its connection.
func offerTo(t *testing.T, p *msrpPeer, params ds.Params) *end {
	t.Helper()
	ctx := context.Background()
	e := newEnd(nil)
	raw := fmt.Sprintf(`{"role":%q,"handler":%q}`, params.Role, params.Handler)
	acc := &sdk.Account{ID: "alice", Settings: map[string]string{"msrp.transport": "tcp"}}
	st, err := create(ctx, &sdk.CreateRequest{Type: ds.Type, Account: acc, Params: []byte(raw)}, e.env)
	if err != nil {
		t.Fatal(err)
	}
	e.s = st.(*stream)
	t.Cleanup(func() { _ = e.s.End(ctx) })
	if err := e.s.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := localMedia(t, e.s, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err := e.s.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: p.answer(map[ds.Role]string{ds.RoleViewer: "passive", ds.RoleServer: "active"}[params.Role])}); err != nil {
		t.Fatal(err)
	}
	p.accept(t)
	return e
}

// TestDataBeforeBindResponse: a peer whose first RFB bytes overtake the
// 200 that completes our binding (its raw writes do not queue behind its
// responses) does not stall the stream: the bytes wait for the viewer and
// reach it first.
func TestDataBeforeBindResponse(t *testing.T) {
	p := newMSRPPeer(t)
	e := offerTo(t, p, ds.Params{Role: ds.RoleViewer})
	p.send(t, "early0001", ds.ContentType, "RFB 003.008\n")
	p.ok(t)
	e.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	addr := decode[ds.AddressData](t, e.rec.WaitFor(t, 0, ds.HandlerDidStartListening)).Address
	p.send(t, "later0001", ds.ContentType, "more")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	got := make([]byte, 16)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "RFB 003.008\nmore" {
		t.Fatalf("the viewer read %q, %v", got, err)
	}
	// The viewer's answer goes to the peer as one SEND.
	if _, err := io.WriteString(c, "RFB 003.008\n"); err != nil {
		t.Fatal(err)
	}
	m, err := p.r.ReadMessage(1 << 20)
	if err != nil || m.Method != msrp.MethodSEND || string(m.Body) != "RFB 003.008\n" || m.ContentType() != ds.ContentType {
		t.Fatalf("peer got %v, %v", m, err)
	}
}

// TestPeerInput: what the stream answers a raw MSRP peer, as the
// reference's: a SEND of another content type 415, another method 501;
// garbage fails the stream with context reading and a reason; the
// process goes on.
func TestPeerInput(t *testing.T) {
	p := newMSRPPeer(t)
	e := offerTo(t, p, ds.Params{Role: ds.RoleViewer, Handler: ds.HandlerInternal})
	p.ok(t)
	e.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	p.send(t, "plain0001", "text/plain", "hello")
	if m, err := p.r.ReadMessage(1 << 20); err != nil || m.TransactionID != "plain0001" || m.StatusCode != 415 {
		t.Fatalf("answer to text/plain: %v, %v", m, err)
	}
	p.write(t, "MSRP other0001 NICKNAME\r\nTo-Path: "+p.ourPath+"\r\nFrom-Path: "+p.uri.String()+"\r\nUse-Nickname: \"x\"\r\n-------other0001$\r\n")
	if m, err := p.r.ReadMessage(1 << 20); err != nil || m.TransactionID != "other0001" || m.StatusCode != 501 {
		t.Fatalf("answer to NICKNAME: %v, %v", m, err)
	}
	p.send(t, "rfb000001", ds.ContentType, "RFB 003.008\n")
	if d := decode[ds.DataData](t, e.rec.WaitFor(t, 0, ds.GotData)); string(d.Data) != "RFB 003.008\n" {
		t.Fatalf("GotData %q", d.Data)
	}
	p.write(t, "\x00\x01garbage that is no MSRP\r\n\r\n")
	d := decode[sdk.DidFailData](t, e.rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	if d.Context != "reading" || d.Reason == "" || strings.Contains(d.Reason, "panic") {
		t.Fatalf("MediaStreamDidFail %+v", d)
	}
}
