package msrpstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Names of the TLS settings (shared with SIP) this package reads.
const (
	SettingTLSCertificate  = "tls.certificate"   // PEM certificate chain (and key, unless tls.private_key)
	SettingTLSPrivateKey   = "tls.private_key"   // PEM private key
	SettingTLSCAList       = "tls.ca_list"       // PEM trusted CAs; "" means the system's
	SettingTLSVerifyServer = "tls.verify_server" // yes (default) | no
)

// VerifyServer reads tls.verify_server: yes (the default when unset) or
// no; true/false, on/off and 1/0 are read too. Another value gives an
// error wrapping sdk.ErrInvalidArgument.
func VerifyServer(a *sdk.Account) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(a.Setting(SettingTLSVerifyServer, ""))); v {
	case "", "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	default:
		return false, sdk.Errorf(sdk.ErrInvalidArgument, "%s must be yes or no, not %q", SettingTLSVerifyServer, v)
	}
}

// TLSSettings builds the TLS configurations of msrps connections from the
// account. The certificate (and key) come from tls.certificate /
// tls.private_key; without one, a fresh self-signed certificate (the
// reference falls back to anonymous credentials). Both configurations
// present the same certificate — a client too, when the server asks — so
// that one a=fingerprint describes the stream whichever side connects; the
// server asks for the client's certificate without verifying it, for the
// a=fingerprint check (see Base).
//
// Servers are verified by default, against the system's roots plus
// tls.ca_list: the peer's name must be in its certificate. tls.verify_server
// = no turns that off (the reference's default, not a safe one). A peer
// whose SDP carries a=fingerprint is checked against it instead, whatever
// tls.verify_server says. Errors wrap sdk.ErrInvalidArgument.
func TLSSettings(a *sdk.Account) (client, server *tls.Config, err error) {
	var certs []tls.Certificate
	if certFile := a.Setting(SettingTLSCertificate, ""); certFile != "" {
		keyFile := a.Setting(SettingTLSPrivateKey, "")
		if keyFile == "" {
			keyFile = certFile
		}
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.ErrInvalidArgument, "%s: %v", SettingTLSCertificate, err)
		}
		certs = []tls.Certificate{c}
	}
	verify, err := VerifyServer(a)
	if err != nil {
		return nil, nil, err
	}
	if len(certs) == 0 {
		c, err := selfSigned()
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.ErrInternal, "self-signed certificate: %v", err)
		}
		certs = []tls.Certificate{c}
	}
	client = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs, InsecureSkipVerify: !verify} //nolint:gosec // tls.verify_server = no, asked for
	if caFile := a.Setting(SettingTLSCAList, ""); caFile != "" && verify {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.ErrInvalidArgument, "%s: %v", SettingTLSCAList, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, sdk.Errorf(sdk.ErrInvalidArgument, "%s: no certificate in %s", SettingTLSCAList, caFile)
		}
		client.RootCAs = pool
	}
	server = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs, ClientAuth: tls.RequestClientCert}
	return client, server, nil
}

// selfSigned makes a short-lived ECDSA certificate for an account that has
// none configured; peers authenticate it by its a=fingerprint.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sipstreams msrp"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
