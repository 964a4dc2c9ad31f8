package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	ReleaseAcceptedInvites() // as the host does
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait of a test.
const testTimeout = 10 * time.Second

// testCert is a self-signed certificate for 127.0.0.1, ::1 and
// sip.example.test, written to a test's temporary directory.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "sipstreams engine test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost", "sip.example.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := testCert{
		certFile: filepath.Join(dir, "cert.pem"),
		keyFile:  filepath.Join(dir, "key.pem"),
		pool:     x509.NewCertPool(),
	}
	c.pool.AddCert(cert)
	writePEM(t, c.certFile, "CERTIFICATE", der)
	writePEM(t, c.keyFile, "PRIVATE KEY", keyDER)
	return c
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// withTLS adds the certificate to cfg, server and client side.
func (c testCert) withTLS(cfg Config) Config {
	cfg.TLSCertFile, cfg.TLSKeyFile = c.certFile, c.keyFile
	cfg.ClientTLSConfig = &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
	return cfg
}

// start creates and starts an engine that the test closes at cleanup.
func start(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// routeTo returns the route to e's listener of transport t and the given
// family.
func routeTo(t *testing.T, e *Engine, tr Transport, v6 bool) Route {
	t.Helper()
	for _, a := range e.Addrs() {
		if a.Transport == tr && (a.IP.To4() == nil) == v6 {
			return Route{Address: a.IP.String(), Port: a.Port, Transport: tr}
		}
	}
	t.Fatalf("engine has no %s listener (v6=%v): %v", tr, v6, e.Addrs())
	return Route{}
}

// uriFor is sip:user@route-address:port, with a transport parameter for
// TCP and TLS.
func uriFor(user string, r Route) sip.Uri {
	return contactURI(r.Transport, user, net.ParseIP(r.Address), r.Port, false)
}

// ctxT is the test's context with the test timeout.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// final sends req over r and returns its final response, failing the test
// on error. Provisional responses are returned through prov if not nil.
func final(t *testing.T, e *Engine, req *sip.Request, r Route, prov chan<- *sip.Response) *sip.Response {
	t.Helper()
	ctx := ctxT(t)
	tx, err := e.Request(ctx, req, r)
	if err != nil {
		t.Fatalf("Request %s over %s: %v", req.Method, r, err)
	}
	defer tx.Terminate()
	return waitFinal(t, ctx, tx, prov)
}

func waitFinal(t *testing.T, ctx context.Context, tx sip.ClientTransaction, prov chan<- *sip.Response) *sip.Response {
	t.Helper()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if prov != nil {
					prov <- res
				}
				continue
			}
			return res
		case <-tx.Done():
			t.Fatalf("transaction ended without a final response: %v", tx.Err())
		case <-ctx.Done():
			t.Fatalf("no final response: %v", ctx.Err())
		}
	}
}

// header returns the value of the named header, or "".
func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
