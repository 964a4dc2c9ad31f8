package msrp

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"testing"
)

// fakeRelay emulates the relay side of RFC 4976 AUTH on a real socket and
// then plays the remote network: it answers the binding SEND and injects a
// SEND from the peer. It is the only fake of this package's tests, since
// no relay implementation is available.
type fakeRelay struct {
	ln       net.Listener
	password string
	uri      URI
}

func newFakeRelay(t *testing.T, password string) *fakeRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	return &fakeRelay{ln: ln, password: password, uri: URI{Host: "127.0.0.1", Port: port, Transport: "tcp"}}
}

func md5hexTest(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

const relayNonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"

// serveAuth accepts one client and runs the AUTH exchange; it returns the
// peer for further scripting, or nil if authentication failed.
func (f *fakeRelay) serveAuth(t *testing.T) *rawPeer {
	nc, err := f.ln.Accept()
	if err != nil {
		t.Error(err)
		return nil
	}
	p := newRawPeer(t, nc)
	first, err := p.r.ReadMessage(1 << 16)
	if err != nil || first.Method != MethodAUTH || first.Header(HeaderAuthorization) != "" {
		t.Errorf("first AUTH: %v %q", err, first.Marshal())
		return nil
	}
	if first.Header(HeaderToPath) != f.uri.String() {
		t.Errorf("AUTH To-Path %q, want %q", first.Header(HeaderToPath), f.uri)
	}
	chal := &Message{TransactionID: first.TransactionID, StatusCode: StatusUnauthorized, Comment: "Unauthorized"}
	chal.SetHeader(HeaderToPath, first.Header(HeaderFromPath))
	chal.SetHeader(HeaderFromPath, f.uri.String())
	chal.SetHeader(HeaderWWWAuth, `Digest realm="relay.test", qop="auth", nonce="`+relayNonce+`", opaque="op1"`)
	_, _ = chal.WriteTo(nc)

	second, err := p.r.ReadMessage(1 << 16)
	if err != nil || second.Method != MethodAUTH {
		t.Errorf("second AUTH: %v", err)
		return nil
	}
	d, err := ParseDigest(second.Header(HeaderAuthorization))
	if err != nil {
		t.Errorf("Authorization: %v", err)
		return nil
	}
	// The digest computed independently of the client code.
	ha1 := md5hexTest("alice:relay.test:" + f.password)
	ha2 := md5hexTest("AUTH:" + f.uri.String())
	want := md5hexTest(ha1 + ":" + relayNonce + ":" + d["nc"] + ":" + d["cnonce"] + ":auth:" + ha2)
	resp := &Message{TransactionID: second.TransactionID}
	resp.SetHeader(HeaderToPath, second.Header(HeaderFromPath))
	resp.SetHeader(HeaderFromPath, f.uri.String())
	if d["username"] != "alice" || d["response"] != want || d["opaque"] != "op1" || d["qop"] != "auth" {
		resp.StatusCode, resp.Comment = StatusForbidden, "Forbidden"
		_, _ = resp.WriteTo(nc)
		return nil
	}
	resp.StatusCode, resp.Comment = StatusOK, "OK"
	resp.SetHeader(HeaderUsePath, "msrp://127.0.0.1:"+strconv.Itoa(f.uri.Port)+"/relaysess;tcp")
	resp.SetHeader(HeaderExpires, "900")
	_, _ = resp.WriteTo(nc)
	return p
}

func TestRelayAuthAndSession(t *testing.T) {
	ctx := testContext(t)
	f := newFakeRelay(t, "secret")
	peers := make(chan *rawPeer, 1)
	go func() { peers <- f.serveAuth(t) }()
	r, err := ConnectRelay(ctx, RelayConfig{URI: f.uri, Username: "alice", Password: "secret"}, Config{KeepAliveInterval: -1})
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	defer r.Close()
	p := <-peers
	if p == nil {
		t.FailNow()
	}
	use := r.UsePath()
	if len(use) != 1 || use[0].SessionID != "relaysess" || r.Expires().Seconds() != 900 {
		t.Fatalf("Use-Path %v, Expires %v", use, r.Expires())
	}
	if r.LocalURI().Port != r.Conn().LocalAddr().(*net.TCPAddr).Port {
		t.Fatalf("local URI %v does not carry the relay connection's port", r.LocalURI())
	}
	remote := []URI{MustParseURI("msrp://192.0.2.9:2855/peerrelay;tcp"), MustParseURI("msrp://192.0.2.10:2855/peer;tcp")}

	// Active: the binding SEND goes To-Path = Use-Path + remote path.
	type bindRes struct {
		s   *Session
		err error
	}
	done := make(chan bindRes, 1)
	rec := newRecorder()
	go func() {
		s, err := r.Bind(ctx, remote, rec)
		done <- bindRes{s, err}
	}()
	bind := p.next()
	wantTo := FormatPath(append(use, remote...))
	if bind.Header(HeaderToPath) != wantTo || bind.Header(HeaderFromPath) != r.LocalURI().String() {
		t.Fatalf("bind paths %q", bind.Marshal())
	}
	p.answer(bind, StatusOK)
	br := <-done
	if br.err != nil {
		t.Fatal(br.err)
	}
	defer br.s.Close()
	if lp := br.s.LocalPath(); len(lp) != 2 || !lp[0].Equal(use[0]) || !lp[1].Equal(r.LocalURI()) {
		t.Fatalf("LocalPath %v", lp)
	}
	// The peer's message arrives through the relay: To-Path is our URI,
	// From-Path the relays back to the peer.
	p.send(sendReq("rly00001", r.LocalURI().String(), "msrp://127.0.0.1:1/relaysess;tcp "+FormatPath(remote), "Byte-Range: 1-5/5\n", "hello"))
	p.expectResponse("rly00001", StatusOK)
	c := <-rec.complete
	if !bytes.Equal(rec.sum(c.MessageID), sha256Of("hello")) {
		t.Fatal("relayed body differs")
	}
}

func TestRelayAuthRefused(t *testing.T) {
	ctx := testContext(t)
	f := newFakeRelay(t, "secret")
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.serveAuth(t)
	}()
	_, err := ConnectRelay(ctx, RelayConfig{URI: f.uri, Username: "alice", Password: "wrong"}, Config{})
	var se *StatusError
	if !errors.Is(err, ErrRelayAuth) || !errors.As(err, &se) || se.Code != StatusForbidden {
		t.Fatalf("err = %v, want ErrRelayAuth with 403", err)
	}
	<-done
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in   string
		want Digest
		ok   bool
	}{
		{`Digest realm="a b", nonce="n1", qop="auth"`, Digest{"realm": "a b", "nonce": "n1", "qop": "auth"}, true},
		{`digest Realm=r,nonce=n, opaque="x,y"`, Digest{"realm": "r", "nonce": "n", "opaque": "x,y"}, true},
		{`Basic realm="r"`, nil, false},
		{`Digest realm="r"`, nil, false},
		{`Digest realm="r, nonce=n`, nil, false},
		{`Digest =x, realm=r, nonce=n`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDigest(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if tt.ok && len(got) != len(tt.want) {
				t.Fatalf("got %v", got)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestDigestResponse checks the RFC 4976 §5.1 computation against a value
// computed by hand with md5sum.
func TestDigestResponse(t *testing.T) {
	ha1 := md5hexTest("Alice:intra.example.com:secret")
	ha2 := md5hexTest("AUTH:msrps://alice@intra.example.com;tcp")
	want := md5hexTest(ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:" + ha2)
	if got := DigestResponse("Alice", "intra.example.com", "secret", "msrps://alice@intra.example.com;tcp",
		"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b"); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"`)
	f.Add(`Digest username="Alice", realm="r", nonce="n", qop=auth, nc=00000001, cnonce="0a4f113b", response="x"`)
	f.Add(`Digest realm="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if d["realm"] == "" || d["nonce"] == "" {
			t.Fatalf("accepted %q without realm or nonce", s)
		}
	})
}

func sha256Of(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// TestRelayPassive registers the passive side through the relay: the
// peer's first request arrives over the relay connection and binds it.
func TestRelayPassive(t *testing.T) {
	ctx := testContext(t)
	f := newFakeRelay(t, "secret")
	peers := make(chan *rawPeer, 1)
	go func() { peers <- f.serveAuth(t) }()
	r, err := ConnectRelay(ctx, RelayConfig{URI: f.uri, Username: "alice", Password: "secret", SessionID: "alicesess"}, Config{KeepAliveInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := <-peers
	if p == nil {
		t.FailNow()
	}
	if r.LocalURI().SessionID != "alicesess" {
		t.Fatalf("local URI %v", r.LocalURI())
	}
	remote := []URI{MustParseURI("msrp://192.0.2.10:2855/peer;tcp")}
	rec := newRecorder()
	pending, err := r.Expect(remote, rec)
	if err != nil {
		t.Fatal(err)
	}
	from := "msrp://127.0.0.1:1/relaysess;tcp " + remote[0].String()
	p.send(sendReq("rly00002", r.LocalURI().String(), from, "Byte-Range: 1-0/0\n", ""))
	p.expectResponse("rly00002", StatusOK)
	s, err := pending.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Expect(remote, rec); !errors.Is(err, ErrBindFailed) {
		t.Fatalf("second Expect for the same session-id: %v", err)
	}
	// Replies go back through the relay: To-Path = Use-Path + peer.
	go func() { _, _ = s.SendMessage(ctx, "text/plain", []byte("hi")) }()
	m := p.next()
	if m.Header(HeaderToPath) != FormatPath(append(r.UsePath(), remote...)) || string(m.Body) != "hi" {
		t.Fatalf("reply %q", m.Marshal())
	}
	p.answer(m, StatusOK)
}
