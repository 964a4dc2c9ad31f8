package session

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// host is one side of a call: engine, registry (real echo plugin), center
// and session manager, on loopback.
type host struct {
	name   string
	eng    *engine.Engine
	reg    *registry.Registry
	center *notify.Center
	mgr    *Manager
	acc    *Account
}

// netConf is where a test host listens.
type netConf struct {
	transport engine.Transport
	ip        string
}

var udp4 = netConf{engine.TransportUDP, "127.0.0.1"}

// hostsOf remembers each test's hosts, to find the host of a session.
var (
	hostsMu sync.Mutex
	hostsOf = map[string][]*host{}
)

func newHost(t *testing.T, name string) *host { return newHostOn(t, name, udp4) }

func newHostOn(t testing.TB, name string, nc netConf, opts ...func(*Config)) *host {
	t.Helper()
	center := notify.New()
	reg := registry.New(registry.WithDir(pluginDir), registry.WithNotifier(notifierOf(center)))
	cfg := engine.Config{
		UserAgent: "sipstreams-test " + name,
		Listen:    []engine.Listen{{Transport: nc.transport, Address: net.JoinHostPort(nc.ip, "0")}},
	}
	if nc.transport == engine.TransportTLS {
		cfg.TLSConfig, cfg.ClientTLSConfig = testTLS(t)
	}
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	uri := sip.Uri{Scheme: "sip", User: name, Host: nc.ip}
	acc := &Account{ID: name + "@127.0.0.1", URI: uri}
	mcfg := Config{Signalling: eng, Streams: sourceOf(reg), Center: center, Account: acc, UserAgent: "sipstreams-test " + name}
	for _, o := range opts {
		o(&mcfg)
	}
	mgr := NewManager(mcfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	h := &host{name: name, eng: eng, reg: reg, center: center, mgr: mgr, acc: acc}
	hostsMu.Lock()
	hostsOf[t.Name()] = append(hostsOf[t.Name()], h)
	hostsMu.Unlock()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		mgr.Close(ctx)
		_ = reg.Close(ctx)
		_ = eng.Close()
		center.Close()
	})
	return h
}

// notifierOf posts a registry's notifications into c, as the application
// wires it.
func notifierOf(c *notify.Center) registry.Notifier {
	return registry.NotifierFunc(func(n registry.Notification) { c.Post(notify.Notification(n)) })
}

// sourceOf is reg as the sessions' StreamSource.
func sourceOf(reg *registry.Registry) StreamSource {
	return StreamSourceFunc(func(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
		setupCtx := ctx // as application.StreamSource: a restart's wait is not queueing
		st, err := reg.NewFromSDP(registry.WithWaitHook(ctx, func() func() { SetupWait(setupCtx); return nil }), req)
		if err != nil {
			return nil, err
		}
		return st, nil
	})
}

// route reaches h's listener.
func (h *host) route() engine.Route {
	a := h.eng.Addrs()[0]
	return engine.Route{Address: a.IP.String(), Port: a.Port, Transport: a.Transport}
}

func (h *host) uri() sip.Uri {
	a := h.eng.Addrs()[0]
	u := sip.Uri{Scheme: "sip", User: h.name, Host: a.IP.String(), Port: a.Port}
	if a.Transport != engine.TransportUDP {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", string(a.Transport))
	}
	return u
}

// testCert is one self-signed certificate shared by every TLS host of the
// test binary, so that each host trusts the others.
var testCert struct {
	once           sync.Once
	server, client *tls.Config
	err            error
}

// testTLS returns server and client configurations around testCert.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	testCert.once.Do(func() { testCert.server, testCert.client, testCert.err = makeTestTLS() })
	if testCert.err != nil {
		t.Fatal(testCert.err)
	}
	return testCert.server.Clone(), testCert.client.Clone()
}

// makeTestTLS makes a self-signed certificate for the loopback addresses.
func makeTestTLS() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sipstreams test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	pair := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// sessionNames records the SIPSession* notifications of every session of h.
func sessionRecorder(t *testing.T, h *host) *notify.Recorder {
	rec := &notify.Recorder{}
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if _, ok := n.Sender.(*Session); ok {
			rec.HandleNotification(n)
		}
	}), "", nil)
	t.Cleanup(unsub)
	return rec
}

func waitFor(t *testing.T, rec *notify.Recorder, name string) notify.Notification {
	t.Helper()
	var got notify.Notification
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := rec.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == name {
				got = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	return got
}

func assertNames(t *testing.T, who string, rec *notify.Recorder, want ...string) {
	t.Helper()
	if got := rec.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s notifications:\n got  %v\n want %v", who, got, want)
	}
}

// call places a call from a to b with one echo stream; b's side is
// handled by answer, run on SIPSessionNewIncoming.
func call(t *testing.T, a, b *host, answer func(*Session, []Stream)) *Session {
	t.Helper()
	return callWith(t, a, b, func(st Stream) Stream { return st }, answer)
}

// callWith is call with the caller's stream wrapped by wrap.
func callWith(t *testing.T, a, b *host, wrap func(Stream) Stream, answer func(*Session, []Stream)) *Session {
	t.Helper()
	b.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		d := n.Data.(NewIncomingData)
		go answer(n.Sender.(*Session), d.Streams)
	}), SIPSessionNewIncoming, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := a.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	s := a.mgr.NewSession()
	if err := s.Connect(ctx, b.uri(), []engine.Route{b.route()}, []Stream{wrap(st)}, "test call"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCallAcceptAndEnd(t *testing.T) {
	for _, ender := range []string{"caller", "callee"} {
		t.Run("ended by "+ender, func(t *testing.T) {
			a, b := newHost(t, "alice"), newHost(t, "bob")
			recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
			var incoming *Session
			got := make(chan *Session, 1)
			s := call(t, a, b, func(in *Session, streams []Stream) {
				if err := in.SendRingIndication(); err != nil {
					t.Errorf("SendRingIndication: %v", err)
				}
				// Answer once the caller hears the ring: sipgo handles each
				// UDP datagram in its own goroutine, so a 180 sent just before
				// the 200 may be processed after it and dropped.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := recA.Wait(ctx, func(ns []notify.Notification) bool {
					for _, n := range ns {
						if n.Name == SIPSessionGotRingIndication {
							return true
						}
					}
					return false
				}); err != nil {
					t.Errorf("caller never heard the ring: %v", err)
				}
				if err := in.Accept(streams); err != nil {
					t.Errorf("Accept: %v", err)
				}
				got <- in
			})
			incoming = <-got
			waitFor(t, recA, SIPSessionDidStart)
			waitFor(t, recB, SIPSessionDidStart)
			if s.State() != StateConnected || incoming.State() != StateConnected {
				t.Fatalf("states %v / %v", s.State(), incoming.State())
			}
			if len(s.Streams()) != 1 || len(incoming.Streams()) != 1 {
				t.Fatalf("streams %d / %d", len(s.Streams()), len(incoming.Streams()))
			}
			if incoming.Subject() != "test call" || incoming.RemoteUserAgent() != "sipstreams-test alice" || s.RemoteUserAgent() != "sipstreams-test bob" {
				t.Errorf("subject %q, user agents %q %q", incoming.Subject(), incoming.RemoteUserAgent(), s.RemoteUserAgent())
			}
			// Media flows through the negotiated streams.
			res, err := s.Streams()[0].Invoke(context.Background(), &sdk.InvokeRequest{Method: "send", Args: []byte(`{"payload":"over SIP"}`)})
			if err != nil {
				t.Fatalf("send: %v (%v)", err, res)
			}
			ender, other, recEnder, recOther := s, incoming, recA, recB
			if t.Name() == "TestCallAcceptAndEnd/ended_by_callee" {
				ender, other, recEnder, recOther = incoming, s, recB, recA
			}
			ender.End()
			end := waitFor(t, recEnder, SIPSessionDidEnd)
			oend := waitFor(t, recOther, SIPSessionDidEnd)
			if d := end.Data.(DidEndData); d.Originator != Local || d.EndReason != "user request" {
				t.Errorf("ender DidEnd = %+v", d)
			}
			if d := oend.Data.(DidEndData); d.Originator != Remote {
				t.Errorf("other DidEnd = %+v", d)
			}
			if other.State() != StateTerminated || ender.State() != StateTerminated {
				t.Errorf("states after end: %v %v", ender.State(), other.State())
			}
			a.center.Flush(context.Background())
			b.center.Flush(context.Background())
			callerStart := []string{SIPSessionNewOutgoing, SIPSessionGotRingIndication, SIPSessionGotProvisionalResponse, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart}
			calleeStart := []string{SIPSessionNewIncoming, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart}
			ending := []string{SIPSessionWillEnd, SIPSessionDidProcessTransaction, SIPSessionDidEnd}
			assertNames(t, "caller", recA, append(callerStart, ending...)...)
			assertNames(t, "callee", recB, append(calleeStart, ending...)...)
		})
	}
}

func TestCallRejected(t *testing.T) {
	for _, code := range []int{486, 603} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			a, b := newHost(t, "alice"), newHost(t, "bob")
			recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
			call(t, a, b, func(in *Session, _ []Stream) {
				if err := in.Reject(code, ""); err != nil {
					t.Errorf("Reject: %v", err)
				}
			})
			fail := waitFor(t, recA, SIPSessionDidFail).Data.(DidFailData)
			if fail.Originator != Remote || fail.Code != code {
				t.Errorf("caller DidFail = %+v", fail)
			}
			bfail := waitFor(t, recB, SIPSessionDidFail).Data.(DidFailData)
			if bfail.Originator != Local || bfail.Code != code || bfail.FailureReason != "user request" {
				t.Errorf("callee DidFail = %+v", bfail)
			}
			pt := recB.All()[1].Data.(ProcessTransactionData)
			if pt.Code != code || pt.AckReceived != AckYes {
				t.Errorf("callee transaction = %+v", pt)
			}
			assertNames(t, "caller", recA, SIPSessionNewOutgoing, SIPSessionDidFail)
			assertNames(t, "callee", recB, SIPSessionNewIncoming, SIPSessionDidProcessTransaction, SIPSessionDidFail)
		})
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	a, b := newHost(t, "alice"), newHost(t, "bob")
	recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
	ringing := make(chan struct{})
	s := call(t, a, b, func(in *Session, _ []Stream) {
		_ = in.SendRingIndication()
		close(ringing)
	})
	<-ringing
	waitFor(t, recA, SIPSessionGotRingIndication)
	s.End()
	fail := waitFor(t, recA, SIPSessionDidFail).Data.(DidFailData)
	if fail.Originator != Local || fail.Code != 487 || fail.FailureReason != "user request" {
		t.Errorf("caller DidFail = %+v", fail)
	}
	bfail := waitFor(t, recB, SIPSessionDidFail).Data.(DidFailData)
	if bfail.Originator != Remote || bfail.Code != 487 {
		t.Errorf("callee DidFail = %+v", bfail)
	}
	pt := recB.All()[1].Data.(ProcessTransactionData)
	if pt.Code != 487 || pt.AckReceived != AckUnknown {
		t.Errorf("callee transaction = %+v", pt)
	}
	assertNames(t, "callee", recB, SIPSessionNewIncoming, SIPSessionDidProcessTransaction, SIPSessionDidFail)
}

// TestTransports: the call flow (ring, accept, media, end) over every
// transport and over IPv6 loopback.
func TestTransports(t *testing.T) {
	for _, nc := range []netConf{
		{engine.TransportUDP, "127.0.0.1"},
		{engine.TransportTCP, "127.0.0.1"},
		{engine.TransportTLS, "127.0.0.1"},
		{engine.TransportUDP, "::1"},
		{engine.TransportTCP, "::1"},
	} {
		t.Run(fmt.Sprintf("%s %s", nc.transport, nc.ip), func(t *testing.T) {
			a, b := newHostOn(t, "alice", nc), newHostOn(t, "bob", nc)
			recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
			got := make(chan *Session, 1)
			s := call(t, a, b, func(in *Session, streams []Stream) {
				if err := in.Accept(streams); err != nil {
					t.Errorf("Accept: %v", err)
				}
				got <- in
			})
			var in *Session
			select {
			case in = <-got:
			case <-time.After(20 * time.Second):
				t.Fatalf("no incoming session; caller saw %v %+v", recA.Names(), recA.All())
			}
			waitFor(t, recA, SIPSessionDidStart)
			waitFor(t, recB, SIPSessionDidStart)
			if s.Transport() != string(nc.transport) || in.Transport() != string(nc.transport) {
				t.Errorf("transports %q %q", s.Transport(), in.Transport())
			}
			if _, err := s.Streams()[0].Invoke(context.Background(), &sdk.InvokeRequest{Method: "send", Args: []byte(`{"payload":"x"}`)}); err != nil {
				t.Fatal(err)
			}
			in.End()
			waitFor(t, recA, SIPSessionDidEnd)
			waitFor(t, recB, SIPSessionDidEnd)
			a.center.Flush(context.Background())
			b.center.Flush(context.Background())
			assertNames(t, "caller", recA, SIPSessionNewOutgoing, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart,
				SIPSessionWillEnd, SIPSessionDidProcessTransaction, SIPSessionDidEnd)
		})
	}
}

// TestEndWhileAccepting: End called while the answer is on its way ends the
// session once it has started, on both sides.
func TestEndWhileAccepting(t *testing.T) {
	a, b := newHost(t, "alice"), newHost(t, "bob")
	recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
	call(t, a, b, func(in *Session, streams []Stream) {
		if err := in.Accept(streams); err != nil {
			t.Errorf("Accept: %v", err)
		}
		in.End() // state accepting
	})
	waitFor(t, recB, SIPSessionDidEnd)
	waitFor(t, recA, SIPSessionDidEnd)
}

// TestManagerCloseCancelsPendingCall: closing the manager does not wait out
// the INVITE transaction of a call nobody answers.
func TestManagerCloseCancelsPendingCall(t *testing.T) {
	a, b := newHost(t, "alice"), newHost(t, "bob")
	recA := sessionRecorder(t, a)
	rang := make(chan struct{})
	call(t, a, b, func(in *Session, _ []Stream) { close(rang) }) // never answers
	<-rang
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.mgr.Close(ctx)
	if ctx.Err() != nil {
		t.Fatal("Close did not finish in time")
	}
	if d := waitFor(t, recA, SIPSessionDidFail).Data.(DidFailData); d.Code != 487 {
		t.Errorf("DidFail = %+v", d)
	}
}
