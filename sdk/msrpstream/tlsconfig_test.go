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
		configured bool // the configured certificate, not a self-signed one
	}{
		{name: "defaults: self-signed, servers verified", settings: nil, verify: true},
		{name: "certificate and key files", settings: map[string]string{SettingTLSCertificate: certFile, SettingTLSPrivateKey: keyFile}, verify: true, configured: true},
		{name: "key in the certificate file", settings: map[string]string{SettingTLSCertificate: both}, verify: true, configured: true},
		{name: "verify with a CA list", settings: map[string]string{SettingTLSCAList: certFile}, verify: true, roots: true},
		{name: "verify with system roots, said yes", settings: map[string]string{SettingTLSVerifyServer: "yes"}, verify: true},
		{name: "verify as the host flattens it", settings: map[string]string{SettingTLSVerifyServer: "true"}, verify: true},
		{name: "opt-out", settings: map[string]string{SettingTLSVerifyServer: "no"}},
		{name: "opt-out as the host flattens it", settings: map[string]string{SettingTLSVerifyServer: "false"}},
		{name: "CA list ignored without verification", settings: map[string]string{SettingTLSVerifyServer: "no", SettingTLSCAList: filepath.Join(dir, "missing.pem")}},
		{name: "missing CA list", settings: map[string]string{SettingTLSCAList: filepath.Join(dir, "missing.pem")}, wantErr: sdk.ErrInvalidArgument},
		{name: "missing certificate", settings: map[string]string{SettingTLSCertificate: filepath.Join(dir, "missing.pem")}, wantErr: sdk.ErrInvalidArgument},
		{name: "CA list without certificates", settings: map[string]string{SettingTLSCAList: keyFile}, wantErr: sdk.ErrInvalidArgument},
		{name: "verify_server neither yes nor no", settings: map[string]string{SettingTLSVerifyServer: "maybe"}, wantErr: sdk.ErrInvalidArgument},
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
			if len(server.Certificates) != 1 || len(client.Certificates) != 1 {
				t.Fatalf("server has %d certificates, client %d, want 1 each", len(server.Certificates), len(client.Certificates))
			}
			if string(client.Certificates[0].Certificate[0]) != string(server.Certificates[0].Certificate[0]) {
				t.Error("the client does not present the server's certificate: one a=fingerprint could not describe both")
			}
			if server.ClientAuth != tls.RequestClientCert {
				t.Errorf("server ClientAuth %v, want RequestClientCert (for the a=fingerprint check)", server.ClientAuth)
			}
			isConfigured := string(server.Certificates[0].Certificate[0]) == string(configured.Certificate[0])
			if isConfigured != tt.configured {
				t.Errorf("server uses the configured certificate: %v, want %v", isConfigured, tt.configured)
			}
		})
	}
}
