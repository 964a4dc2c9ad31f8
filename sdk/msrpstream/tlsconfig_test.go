package msrpstream

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	c, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	certPEM, _ := os.ReadFile(certFile)
	keyPEM, _ := os.ReadFile(keyFile)
	both := filepath.Join(dir, "both.pem")
	if err := os.WriteFile(both, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	configured, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		settings   map[string]string
		wantErr    error
		verify     bool
		roots      bool
		clientCert bool
	}{
		{name: "defaults: self-signed, no verification", settings: nil},
		{name: "certificate and key files", settings: map[string]string{SettingTLSCertificate: certFile, SettingTLSPrivateKey: keyFile}, clientCert: true},
		{name: "key in the certificate file", settings: map[string]string{SettingTLSCertificate: both}, clientCert: true},
		{name: "verify with a CA list", settings: map[string]string{SettingTLSVerifyServer: "true", SettingTLSCAList: certFile}, verify: true, roots: true},
		{name: "verify with system roots", settings: map[string]string{SettingTLSVerifyServer: "true"}, verify: true},
		{name: "CA list ignored without verification", settings: map[string]string{SettingTLSCAList: filepath.Join(dir, "missing.pem")}},
		{name: "missing certificate", settings: map[string]string{SettingTLSCertificate: filepath.Join(dir, "missing.pem")}, wantErr: sdk.ErrInvalidArgument},
		{name: "CA list without certificates", settings: map[string]string{SettingTLSVerifyServer: "true", SettingTLSCAList: keyFile}, wantErr: sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server, err := TLSSettings(&sdk.Account{Settings: tt.settings})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if client.InsecureSkipVerify == tt.verify {
				t.Errorf("InsecureSkipVerify = %v with verification %v", client.InsecureSkipVerify, tt.verify)
			}
			if (client.RootCAs != nil) != tt.roots {
				t.Errorf("RootCAs set = %v, want %v", client.RootCAs != nil, tt.roots)
			}
			if (len(client.Certificates) == 1) != tt.clientCert {
				t.Errorf("client certificates %d, want the configured one: %v", len(client.Certificates), tt.clientCert)
			}
			if len(server.Certificates) != 1 {
				t.Fatalf("server has %d certificates, want 1", len(server.Certificates))
			}
			isConfigured := string(server.Certificates[0].Certificate[0]) == string(configured.Certificate[0])
			if isConfigured != tt.clientCert {
				t.Errorf("server uses the configured certificate: %v, want %v", isConfigured, tt.clientCert)
			}
		})
	}
}
