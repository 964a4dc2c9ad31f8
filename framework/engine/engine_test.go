package engine

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// pair starts two engines, alice and bob, listening on tr over the given
// family; both hold the same test certificate when tr is TLS.
func pair(t *testing.T, tr Transport, v6 bool) (alice, bob *Engine) {
	t.Helper()
	addr := "127.0.0.1:0"
	if v6 {
		addr = "[::1]:0"
	}
	var cert testCert
	if tr == TransportTLS {
		cert = newTestCert(t)
	}
	cfg := func(ua string) Config {
		c := Config{UserAgent: ua, Listen: []Listen{{Transport: tr, Address: addr}}}
		if tr == TransportTLS {
			c = cert.withTLS(c)
		}
		return c
	}
	return start(t, cfg("alice-ua/1.0")), start(t, cfg("bob-ua/2.0"))
}

func TestOptionsExchange(t *testing.T) {
	tests := []struct {
		tr Transport
		v6 bool
	}{
		{TransportUDP, false},
		{TransportTCP, false},
		{TransportTLS, false},
		{TransportUDP, true},
		{TransportTCP, true},
		{TransportTLS, true},
	}
	for _, tc := range tests {
		name := tc.tr.String()
		if tc.v6 {
			name += "/ipv6"
		}
		t.Run(name, func(t *testing.T) {
			alice, bob := pair(t, tc.tr, tc.v6)
			got := make(chan *sip.Request, 1)
			bob.OnRequest(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
				got <- req
				if err := bob.Respond(tx, req, 200, "OK", nil); err != nil {
					t.Errorf("Respond: %v", err)
				}
			})
			r := routeTo(t, bob, tc.tr, tc.v6)
			for i := range 2 { // the second request reuses the connection
				req := sip.NewRequest(sip.OPTIONS, uriFor("bob", r))
				res := final(t, alice, req, r, nil)
				if res.StatusCode != 200 {
					t.Fatalf("request %d: got %d %s, want 200", i, res.StatusCode, res.Reason)
				}
				if ua := header(res, "User-Agent"); ua != "bob-ua/2.0" {
					t.Errorf("response User-Agent = %q, want bob-ua/2.0", ua)
				}
				in := recv(t, got, "OPTIONS at bob")
				if ua := header(in, "User-Agent"); ua != "alice-ua/1.0" {
					t.Errorf("request User-Agent = %q, want alice-ua/1.0", ua)
				}
				via := in.Via()
				ar := routeTo(t, alice, tc.tr, tc.v6)
				if strings.Trim(via.Host, "[]") != ar.Address || via.Port != ar.Port {
					t.Errorf("Via sent-by = %s:%d, want alice's listener %s", via.Host, via.Port, ar)
				}
				if !strings.EqualFold(via.Transport, tc.tr.String()) {
					t.Errorf("Via transport = %s, want %s", via.Transport, tc.tr)
				}
			}
		})
	}
}

func TestUnhandledRequests(t *testing.T) {
	alice, bob := pair(t, TransportUDP, false)
	bob.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		_ = bob.Respond(tx, req, 200, "OK", nil)
	})
	r := routeTo(t, bob, TransportUDP, false)
	tests := []struct {
		method    sip.RequestMethod
		code      int
		wantAllow bool
	}{
		{sip.SUBSCRIBE, 405, true},
		{sip.INVITE, 405, true},
		{sip.OPTIONS, 200, true},
		{sip.CANCEL, 481, false},
		{sip.MESSAGE, 200, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.method), func(t *testing.T) {
			res := final(t, alice, sip.NewRequest(tc.method, uriFor("bob", r)), r, nil)
			if res.StatusCode != tc.code {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			if ua := header(res, "User-Agent"); ua != "bob-ua/2.0" {
				t.Errorf("User-Agent = %q", ua)
			}
			if tc.wantAllow {
				if allow := header(res, "Allow"); allow != "MESSAGE, OPTIONS" {
					t.Errorf("Allow = %q, want %q", allow, "MESSAGE, OPTIONS")
				}
			}
		})
	}
}

func TestAddrsAndContact(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.Addrs(); len(got) != 0 {
		t.Fatalf("Addrs before Start = %v", got)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	addrs := e.Addrs()
	if len(addrs) != 2 || addrs[0].Transport != TransportUDP || addrs[1].Transport != TransportTCP {
		t.Fatalf("Addrs = %v, want udp and tcp", addrs)
	}
	for _, a := range addrs {
		if a.Port == 0 || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("Addr %v: want 127.0.0.1 and a real port", a)
		}
	}
	// The ports are really bound.
	if _, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(addrs[0].Port))); err == nil {
		t.Errorf("udp port %d is not bound", addrs[0].Port)
	}
	tests := []struct {
		tr   Transport
		want string
	}{
		{TransportUDP, "sip:alice@127.0.0.1:" + strconv.Itoa(addrs[0].Port)},
		{TransportTCP, "sip:alice@127.0.0.1:" + strconv.Itoa(addrs[1].Port) + ";transport=tcp"},
		{TransportTLS, ""},
	}
	for _, tc := range tests {
		c := e.Contact(tc.tr, "alice")
		got := c.String()
		if c.Host == "" {
			got = ""
		}
		if got != tc.want {
			t.Errorf("Contact(%s) = %q, want %q", tc.tr, got, tc.want)
		}
	}
	if err := e.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
}

func TestStartFailsWhenPortTaken(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// A free UDP port, released again, and a TCP port someone holds.
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpAddr := pc.LocalAddr().String()
	pc.Close()
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	cfg := Config{Listen: []Listen{
		{Transport: TransportUDP, Address: udpAddr},
		{Transport: TransportTCP, Address: taken.Addr().String()},
	}}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Start(t.Context())
	var le *ListenError
	if !errors.Is(err, ErrListen) || !errors.As(err, &le) {
		t.Fatalf("Start = %v, want a *ListenError", err)
	}
	if le.Listen != cfg.Listen[1] || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Errorf("error %q does not name the TCP listener %v", err, cfg.Listen[1])
	}
	if got := e.Addrs(); len(got) != 0 {
		t.Errorf("Addrs after failed Start = %v", got)
	}
	// The UDP socket bound before the failure was released.
	again, err := net.ListenPacket("udp4", udpAddr)
	if err != nil {
		t.Fatalf("UDP port of the failed Start is still bound: %v", err)
	}
	again.Close()
	if _, err := e.Request(t.Context(), sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "127.0.0.1"}), Route{Address: "127.0.0.1", Port: 5060, Transport: TransportUDP}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Request before Start = %v, want ErrNotStarted", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStartTLSUnusable(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	garbage := filepath.Join(dir, "broken.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTLS, Address: "127.0.0.1:0"},
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"broken certificate", Config{Listen: listen, TLSCertFile: garbage, TLSKeyFile: garbage}},
		{"missing file", Config{Listen: listen, TLSCertFile: filepath.Join(dir, "absent.pem")}},
		{"nothing configured", Config{Listen: listen}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			err = e.Start(t.Context())
			var te *TLSError
			if !errors.Is(err, ErrTLS) || !errors.As(err, &te) {
				t.Fatalf("Start = %v, want ErrTLS", err)
			}
			if len(e.Addrs()) != 0 {
				t.Errorf("Addrs after failed Start = %v", e.Addrs())
			}
			// The application goes on without TLS.
			e2 := start(t, tc.cfg.WithoutTLS())
			addrs := e2.Addrs()
			if len(addrs) != 1 || addrs[0].Transport != TransportUDP {
				t.Errorf("Addrs without TLS = %v, want the udp listener only", addrs)
			}
		})
	}
}

// TestInviteAnswerAndAck shows the INVITE flow the session layer builds
// on: 180 and 200 carry the same To tag and a Contact, and the ACK for the
// 2xx (a request of its own, sent with Write) reaches the ACK handler.
func TestInviteAnswerAndAck(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP, TransportTLS} {
		t.Run(tr.String(), func(t *testing.T) {
			alice, bob := pair(t, tr, false)
			acks := make(chan *sip.Request, 1)
			// sipgo hands every incoming message to its transaction layer
			// in a goroutine of its own, so a 200 sent right after a 180
			// may overtake it and the 180 is then dropped. Bob waits.
			proceed := make(chan struct{})
			bob.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
				if err := bob.Respond(tx, req, 180, "Ringing", nil); err != nil {
					t.Errorf("180: %v", err)
				}
				select {
				case <-proceed:
				case <-tx.Done():
					return
				}
				if err := bob.Respond(tx, req, 200, "OK", nil); err != nil {
					t.Errorf("200: %v", err)
				}
			})
			bob.OnRequest(sip.ACK, func(req *sip.Request, tx sip.ServerTransaction) { acks <- req })

			r := routeTo(t, bob, tr, false)
			invite := sip.NewRequest(sip.INVITE, uriFor("bob", r))
			invite.AppendHeader(&sip.ContactHeader{Address: alice.ContactFor(r, "alice")})
			ctx := ctxT(t)
			tx, err := alice.Request(ctx, invite, r)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Terminate()
			ringing := recv(t, tx.Responses(), "180")
			close(proceed)
			res := waitFinal(t, ctx, tx, nil)
			if ringing.StatusCode != 180 || res.StatusCode != 200 {
				t.Fatalf("got %d then %d, want 180 then 200", ringing.StatusCode, res.StatusCode)
			}
			tag180, _ := ringing.To().Params.Get("tag")
			tag200, _ := res.To().Params.Get("tag")
			if tag180 == "" || tag180 != tag200 {
				t.Errorf("To tags: 180 %q, 200 %q; want one non-empty tag", tag180, tag200)
			}
			contact := res.Contact()
			if contact == nil {
				t.Fatal("200 has no Contact")
			}
			if want := uriFor("bob", r); contact.Address.String() != want.String() {
				t.Errorf("Contact = %s, want %s", contact.Address.String(), want.String())
			}

			ack := sip.NewRequest(sip.ACK, contact.Address)
			ack.AppendHeader(sip.HeaderClone(invite.From()))
			ack.AppendHeader(sip.HeaderClone(res.To()))
			ack.AppendHeader(sip.HeaderClone(invite.CallID()))
			ack.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.ACK})
			if err := alice.Write(ack, r); err != nil {
				t.Fatalf("Write ACK: %v", err)
			}
			got := recv(t, acks, "ACK")
			if got.CallID().Value() != invite.CallID().Value() {
				t.Errorf("ACK Call-ID %s, want %s", got.CallID().Value(), invite.CallID().Value())
			}
			if ua := header(got, "User-Agent"); ua != "alice-ua/1.0" {
				t.Errorf("ACK User-Agent = %q", ua)
			}
		})
	}
}

// TestCancel shows sipgo's CANCEL handling: the transaction layer answers
// the CANCEL with 200 and the INVITE with 487 by itself, the INVITE
// handler learns it through OnCancel and tx.Done(), and the engine's
// socket tap gives those sipgo-made responses the User-Agent header too.
func TestCancel(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(tr.String(), func(t *testing.T) {
			alice, bob := pair(t, tr, false)
			cancelled := make(chan struct{})
			bob.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
				tx.OnCancel(func(*sip.Request) { close(cancelled) })
				if err := bob.Respond(tx, req, 180, "Ringing", nil); err != nil {
					t.Errorf("180: %v", err)
				}
				<-tx.Done()
			})
			r := routeTo(t, bob, tr, false)
			invite := sip.NewRequest(sip.INVITE, uriFor("bob", r))
			ctx := ctxT(t)
			tx, err := alice.Request(ctx, invite, r)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Terminate()
			ringing := recv(t, tx.Responses(), "180")
			if ringing.StatusCode != 180 {
				t.Fatalf("got %d, want 180", ringing.StatusCode)
			}

			cancel := sip.NewRequest(sip.CANCEL, invite.Recipient)
			cancel.AppendHeader(sip.HeaderClone(invite.Via()))
			cancel.AppendHeader(sip.HeaderClone(invite.From()))
			cancel.AppendHeader(sip.HeaderClone(invite.To()))
			cancel.AppendHeader(sip.HeaderClone(invite.CallID()))
			cancel.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
			res := final(t, alice, cancel, r, nil)
			if res.StatusCode != 200 {
				t.Fatalf("CANCEL got %d, want 200", res.StatusCode)
			}
			if ua := header(res, "User-Agent"); ua != "bob-ua/2.0" {
				t.Errorf("200 to CANCEL: User-Agent = %q", ua)
			}
			terminated := waitFinal(t, ctx, tx, nil)
			if terminated.StatusCode != 487 {
				t.Fatalf("INVITE got %d, want 487", terminated.StatusCode)
			}
			if ua := header(terminated, "User-Agent"); ua != "bob-ua/2.0" {
				t.Errorf("487: User-Agent = %q", ua)
			}
			recv(t, cancelled, "OnCancel")
		})
	}
}

func TestCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cert := newTestCert(t)
	listen := []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
		{Transport: TransportTLS, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "[::1]:0"},
	}
	var engines []*Engine
	for _, ua := range []string{"a", "b"} {
		e, err := New(cert.withTLS(Config{UserAgent: ua, Listen: listen}))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	a, b := engines[0], engines[1]
	// An INVITE left hanging in b's handler until Close.
	b.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		_ = b.Respond(tx, req, 180, "Ringing", nil)
		<-tx.Done()
	})
	for _, tc := range []struct {
		tr Transport
		v6 bool
	}{{TransportUDP, false}, {TransportTCP, false}, {TransportTLS, false}, {TransportTCP, true}} {
		r := routeTo(t, b, tc.tr, tc.v6)
		if res := final(t, a, sip.NewRequest(sip.OPTIONS, uriFor("b", r)), r, nil); res.StatusCode != 200 {
			t.Fatalf("OPTIONS over %s: %d", r, res.StatusCode)
		}
	}
	r := routeTo(t, b, TransportTCP, false)
	tx, err := a.Request(ctxT(t), sip.NewRequest(sip.INVITE, uriFor("b", r)), r)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, tx.Responses(), "180")

	for _, e := range engines {
		if err := e.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	select {
	case <-tx.Done():
	default:
		t.Error("client transaction still alive after Close")
	}
	if _, err := a.Request(t.Context(), sip.NewRequest(sip.OPTIONS, uriFor("b", r)), r); !errors.Is(err, ErrClosed) {
		t.Errorf("Request after Close = %v, want ErrClosed", err)
	}
	if err := a.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"zero value", Config{}, ""},
		{"bad transport", Config{Listen: []Listen{{Transport: "sctp", Address: "127.0.0.1:0"}}}, "Listen[0].Transport"},
		{"host name", Config{Listen: []Listen{{Transport: TransportUDP, Address: "localhost:5060"}}}, "Listen[0].Address"},
		{"no port", Config{Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1"}}}, "Listen[0].Address"},
		{"header injection", Config{UserAgent: "x\r\nVia: evil"}, "UserAgent"},
		{"empty host", Config{Listen: []Listen{{Transport: TransportTCP, Address: ":0"}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("Validate = %v, want a ConfigError on %s", err, tc.field)
			}
			if _, err := New(tc.cfg); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestRespondStateless(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(tr.String(), func(t *testing.T) {
			alice, bob := pair(t, tr, false)
			bob.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
				if err := bob.Respond(nil, req, 202, "Accepted", nil); err != nil {
					t.Errorf("Respond: %v", err)
				}
			})
			r := routeTo(t, bob, tr, false)
			res := final(t, alice, sip.NewRequest(sip.MESSAGE, uriFor("bob", r)), r, nil)
			if res.StatusCode != 202 || header(res, "User-Agent") != "bob-ua/2.0" {
				t.Fatalf("got %d (User-Agent %q), want 202 from bob", res.StatusCode, header(res, "User-Agent"))
			}
		})
	}
}

// TestNoSocketAfterClose: a request that passed the engine's checks before
// Close and reaches sipgo's transport after it (a session's BYE or ACK
// racing the application's Stop) must not make sipgo bind the listening
// port again, with a reader goroutine nobody stops.
func TestNoSocketAfterClose(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0", "[::1]:0", ":0"} {
		t.Run(listen, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			e, err := New(Config{UserAgent: "a", Listen: []Listen{{Transport: TransportUDP, Address: listen}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			// A request as the engine prepares it (Request.Laddr the
			// listener's address), to a peer the engine never heard.
			dst := "127.0.0.1"
			if listen == "[::1]:0" {
				dst = "::1"
			}
			req := sip.NewRequest(sip.BYE, sip.Uri{User: "b", Host: dst, Port: 9})
			req.AppendHeader(&sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Params: sip.NewParams()})
			if err := e.prepare(context.WithValue(t.Context(), routeKey{}, Route{Address: dst, Port: 9, Transport: TransportUDP}), req); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			c, err := e.ua.TransportLayer().ClientRequestConnection(t.Context(), req)
			if err != nil {
				return // refused: no socket
			}
			if err := c.WriteMsg(req); !errors.Is(err, ErrClosed) {
				t.Errorf("writing after Close through %T (laddr %v) = %v, want ErrClosed", c, req.Laddr, err)
			}
			_ = c.Close()
		})
	}
}
