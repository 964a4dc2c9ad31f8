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
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Names of the TLS settings (shared with SIP) this package reads.
const (
	SettingTLSCertificate  = "tls.certificate"   // PEM certificate chain (and key, unless tls.private_key)
	SettingTLSPrivateKey   = "tls.private_key"   // PEM private key
	SettingTLSCAList       = "tls.ca_list"       // PEM trusted CAs; "" means the system's
	SettingTLSVerifyServer = "tls.verify_server" // false (default) | true
)

// TLSSettings builds the TLS configurations of msrps connections from the
// account, as the reference does: the certificate (and key) from
// tls.certificate / tls.private_key; without one, a listener presents a
// fresh self-signed certificate (the reference falls back to anonymous
// credentials). Servers are verified only when tls.verify_server is true,
// against tls.ca_list or the system's roots. Errors wrap
// sdk.ErrInvalidArgument.
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
	verify, _ := strconv.ParseBool(strings.TrimSpace(a.Setting(SettingTLSVerifyServer, "false")))
	client = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs, InsecureSkipVerify: !verify} //nolint:gosec // the reference's default: tls.verify_server=false
	if caFile := a.Setting(SettingTLSCAList, ""); caFile != "" && verify {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.ErrInvalidArgument, "%s: %v", SettingTLSCAList, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, sdk.Errorf(sdk.ErrInvalidArgument, "%s: no certificate in %s", SettingTLSCAList, caFile)
		}
		client.RootCAs = pool
	}
	if len(certs) == 0 {
		c, err := selfSigned()
		if err != nil {
			return nil, nil, sdk.Errorf(sdk.ErrInternal, "self-signed certificate: %v", err)
		}
		certs = []tls.Certificate{c}
	}
	server = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs}
	return client, server, nil
}

// selfSigned makes a short-lived ECDSA certificate for a listener that has
// none configured.
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
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
