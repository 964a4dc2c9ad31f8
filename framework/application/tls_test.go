package application

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 (and its key)
// and returns the file names.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// withSettings is a memory storage holding the default document changed
// by edit.
func withSettings(t *testing.T, edit func(*config.Settings)) storage.Storage {
	t.Helper()
	st := storage.NewMemory()
	doc := config.NewDocument()
	edit(&doc.Settings)
	if err := st.Save(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestTLSServerVerification: the caller verifies the callee's SIP TLS
// certificate by default (issue 16 item 7): a self-signed one fails the
// call with a clear reason, unless tls.ca_list trusts it or
// tls.verify_server is off.
func TestTLSServerVerification(t *testing.T) {
	cert, key := selfSigned(t)
	tlsListen := []engine.Listen{{Transport: engine.TransportTLS, Address: "127.0.0.1:0"}}
	tests := []struct {
		name  string
		edit  func(*config.Settings)
		start bool
	}{
		{"default", func(*config.Settings) {}, false},
		{"trusted with tls.ca_list", func(s *config.Settings) { s.TLS.CAList = cert }, true},
		{"tls.verify_server = no", func(s *config.Settings) { s.TLS.VerifyServer = false }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			bob, _ := newApp(t, WithUser("bob"), WithListen(tlsListen))
			if err := bob.Start(ctx, withSettings(t, func(s *config.Settings) {
				s.TLS.Certificate, s.TLS.PrivateKey = cert, key
			})); err != nil {
				t.Fatal(err)
			}
			defer bob.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
				if n.Name == session.SIPSessionNewIncoming {
					_ = n.Sender.(*session.Session).Accept(n.Data.(session.NewIncomingData).Streams)
				}
			}), "", nil)()
			// The caller needs a TLS listener to route over TLS.
			alice, _ := newApp(t, WithUser("alice"), WithListen(tlsListen))
			if err := alice.Start(ctx, withSettings(t, func(s *config.Settings) {
				s.TLS.Certificate, s.TLS.PrivateKey = cert, key
				tc.edit(s)
			})); err != nil {
				t.Fatal(err)
			}
			recA := &notify.Recorder{}
			defer alice.Center().Subscribe(recA, "", nil)()
			st, err := alice.Registry().Create(ctx, &sdk.CreateRequest{Type: "echo"})
			if err != nil {
				t.Fatal(err)
			}
			addr := bob.Engine().Addrs()[0]
			route := engine.Route{Address: addr.IP.String(), Port: addr.Port, Transport: engine.TransportTLS}
			s := alice.Sessions().NewSession()
			if err := s.Connect(ctx, bob.Account().URI, []engine.Route{route}, []session.Stream{st}, ""); err != nil {
				t.Fatal(err)
			}
			if tc.start {
				waitName(t, recA, session.SIPSessionDidStart)
				s.End()
				waitName(t, recA, session.SIPSessionDidEnd)
				return
			}
			d := waitName(t, recA, session.SIPSessionDidFail).Data.(session.DidFailData)
			if !strings.Contains(d.FailureReason, "certificate is not signed by a trusted authority") {
				t.Errorf("failure reason %q does not say why", d.FailureReason)
			}
			t.Logf("failure reason: %s", d.FailureReason)
		})
	}
}

// TestEngineConfigFromSettings: the SIP connection bounds, the trace and
// TLS settings reach the engine, and the engine holds requests until the
// application is ready.
func TestEngineConfigFromSettings(t *testing.T) {
	cert, _ := selfSigned(t)
	s := config.Default()
	s.SIP.ConnectionIdleTimeout = 45 * time.Second
	s.SIP.TLSHandshakeTimeout = 3 * time.Second
	s.SIP.MaxConnectionsPerAddress = 7
	s.Logs.TraceSIPKeys = true
	a := New()
	cfg, err := a.engineConfig(&s)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IdleTimeout != 45*time.Second || cfg.TLSHandshakeTimeout != 3*time.Second || cfg.MaxConnectionsPerAddress != 7 ||
		!cfg.TraceKeys || !cfg.WaitReady {
		t.Errorf("engine config %+v", cfg)
	}
	if c := cfg.ClientTLSConfig; c == nil || c.InsecureSkipVerify || c.RootCAs != nil {
		t.Errorf("default client TLS %+v: want verification against the system's roots", c)
	}

	s.TLS.CAList = cert
	if cfg, err = a.engineConfig(&s); err != nil {
		t.Fatal(err)
	}
	pemData, _ := os.ReadFile(cert)
	block, _ := pem.Decode(pemData)
	leaf, _ := x509.ParseCertificate(block.Bytes)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.ClientTLSConfig.RootCAs}); err != nil || cfg.ClientTLSConfig.InsecureSkipVerify {
		t.Errorf("tls.ca_list not trusted: %v", err)
	}

	s.TLS.VerifyServer = false
	if cfg, err = a.engineConfig(&s); err != nil || !cfg.ClientTLSConfig.InsecureSkipVerify {
		t.Errorf("tls.verify_server = no: %+v, %v", cfg.ClientTLSConfig, err)
	}
	s.TLS.CAList = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := a.engineConfig(&s); err == nil || !strings.Contains(err.Error(), "tls.ca_list") {
		t.Errorf("missing tls.ca_list: %v", err)
	}
}
