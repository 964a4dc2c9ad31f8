package msrpstream

import (
	"context"
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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

var fingerprintLine = regexp.MustCompile(`a=fingerprint:[^\r\n]*\r\n`)

// swapFingerprint replaces the a=fingerprint of an SDP by that of another
// certificate: the signalling now announces a certificate the endpoint
// does not present.
func swapFingerprint(t *testing.T) func(string) string {
	t.Helper()
	c, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	other := "a=fingerprint:" + NewFingerprint(c.Certificate[0]).String() + "\r\n"
	return func(sdp string) string {
		if !fingerprintLine.MatchString(sdp) {
			t.Fatalf("no a=fingerprint in %q", sdp)
		}
		return fingerprintLine.ReplaceAllString(sdp, other)
	}
}

// dropFingerprint removes the a=fingerprint of an SDP, as a peer without
// RFC 8122 sends it.
func dropFingerprint(sdp string) string { return fingerprintLine.ReplaceAllString(sdp, "") }

// exchange runs offer/answer between two new endpoints over the edits
// given (nil for none), and starts both without waiting for the outcome.
func exchange(t *testing.T, offerSettings, answerSettings map[string]string, editOffer, editAnswer func(string) string) (offerer, answerer *endpoint) {
	t.Helper()
	ctx := context.Background()
	keep := func(s string) string { return s }
	if editOffer == nil {
		editOffer = keep
	}
	if editAnswer == nil {
		editAnswer = keep
	}
	offerer = &endpoint{rec: newRecorder(), got: make(chan []byte, 8)}
	offerer.base = New(newEnv(offerer.rec), account(offerSettings), chatConfig(offerer.got))
	t.Cleanup(func() { _ = offerer.base.End(ctx) })
	if err := offerer.base.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	offer := mustLocalMedia(t, offerer.base, &sdk.GetLocalMediaRequest{ForOffer: true})

	answerer = &endpoint{rec: newRecorder(), got: make(chan []byte, 8)}
	b, err := NewFromSDP(&sdk.NewFromSDPRequest{Account: account(answerSettings), RemoteSDP: editOffer(offer)}, newEnv(answerer.rec), chatConfig(answerer.got))
	if err != nil {
		t.Fatalf("NewFromSDP: %v", err)
	}
	answerer.base = b
	t.Cleanup(func() { _ = answerer.base.End(ctx) })
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatal(err)
	}
	answerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	answer := mustLocalMedia(t, b, &sdk.GetLocalMediaRequest{RemoteSDP: editOffer(offer)})
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: editOffer(offer)}); err != nil {
		t.Fatal(err)
	}
	if err := offerer.base.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: editAnswer(answer)}); err != nil {
		t.Fatal(err)
	}
	return offerer, answerer
}

// failReason waits for e's MediaStreamDidFail, which must be a start
// failure, and returns its reason.
func failReason(t *testing.T, e *endpoint) string {
	t.Helper()
	d := data[sdk.DidFailData](t, e.rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	t.Logf("MediaStreamDidFail: %s", d.Reason)
	if d.Context != "start" {
		t.Fatalf("MediaStreamDidFail %+v, want context start", d)
	}
	return d.Reason
}

// TestFingerprintAuthenticatesPeers: two TLS endpoints with self-signed
// certificates start once each has checked the other's certificate
// against its a=fingerprint — both the side that connects and the side
// that accepts — and a certificate the signalling did not announce fails
// the stream of the side that sees it, with the reason.
func TestFingerprintAuthenticatesPeers(t *testing.T) {
	acm := map[string]string{SettingConnectionModel: "acm"}
	mismatch := "the peer's certificate does not match its a=fingerprint"

	t.Run("announced certificates, both checked", func(t *testing.T) {
		o, a := exchange(t, nil, nil, nil, nil)
		for _, e := range []*endpoint{o, a} {
			e.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
		}
		// Each side saw the certificate the other announced.
		for _, pair := range []struct{ self, peer *endpoint }{{o, a}, {a, o}} {
			st, ok := pair.self.base.Session().Conn().ConnectionState()
			if !ok || len(st.PeerCertificates) == 0 {
				t.Fatal("no peer certificate on the TLS connection")
			}
			lm, err := pair.peer.base.LocalMedia()
			if err != nil {
				t.Fatal(err)
			}
			if len(lm.Fingerprints) != 1 || !lm.Fingerprints[0].Matches(st.PeerCertificates[0].Raw) {
				t.Fatalf("the peer announced %v, not the certificate it presented", lm.Fingerprints)
			}
		}
		send(t, o, a, "authenticated")
		send(t, a, o, "both ways")
	})
	t.Run("the connecting side refuses", func(t *testing.T) {
		o, a := exchange(t, nil, nil, nil, swapFingerprint(t))
		if r := failReason(t, o); !strings.Contains(r, mismatch) {
			t.Fatalf("offerer (dialing) failed with %q, want the mismatch", r)
		}
		_ = a
	})
	t.Run("the accepting side refuses", func(t *testing.T) {
		o, a := exchange(t, nil, nil, swapFingerprint(t), nil)
		if r := failReason(t, a); !strings.Contains(r, mismatch) {
			t.Fatalf("answerer (accepting) failed with %q, want the mismatch", r)
		}
		if r := failReason(t, o); !strings.Contains(r, "403") {
			t.Fatalf("offerer failed with %q, want the 403 of the refused binding", r)
		}
	})
	t.Run("the accepting offerer refuses", func(t *testing.T) {
		o, a := exchange(t, acm, nil, nil, swapFingerprint(t))
		if got := a.base.Role(); got.Connect != Dial {
			t.Fatalf("answerer role %+v, want dial", got)
		}
		if r := failReason(t, o); !strings.Contains(r, mismatch) {
			t.Fatalf("offerer (accepting) failed with %q, want the mismatch", r)
		}
	})
	t.Run("the connecting answerer refuses", func(t *testing.T) {
		o, a := exchange(t, acm, nil, swapFingerprint(t), nil)
		if r := failReason(t, a); !strings.Contains(r, mismatch) {
			t.Fatalf("answerer (dialing) failed with %q, want the mismatch", r)
		}
		_ = o
	})
}

// caSigned writes a CA and a certificate it signs for ip, as PEM files.
func caSigned(t *testing.T, dir string, ip net.IP) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip.String()},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{ip}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, block := range map[string]*pem.Block{caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

// TestVerifyServerByDefault: towards a peer that announces no
// a=fingerprint, the connecting side verifies the certificate by
// certificate authority and name, unless tls.verify_server = no.
func TestVerifyServerByDefault(t *testing.T) {
	t.Run("self-signed, no a=fingerprint: refused", func(t *testing.T) {
		o, _ := exchange(t, nil, nil, nil, dropFingerprint)
		if r := failReason(t, o); !strings.Contains(r, "certificate") {
			t.Fatalf("failed with %q, want a certificate verification error", r)
		}
	})
	t.Run("self-signed, no a=fingerprint, tls.verify_server = no: accepted", func(t *testing.T) {
		o, a := exchange(t, map[string]string{SettingTLSVerifyServer: "no"}, nil, nil, dropFingerprint)
		o.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
		a.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
		send(t, o, a, "unverified, as asked")
	})
	dir := t.TempDir()
	caFile, certFile, keyFile := caSigned(t, dir, net.IPv4(127, 0, 0, 1))
	signed := map[string]string{SettingTLSCertificate: certFile, SettingTLSPrivateKey: keyFile}
	t.Run("CA-signed for its address, no a=fingerprint: accepted", func(t *testing.T) {
		o, a := exchange(t, map[string]string{SettingTLSCAList: caFile}, signed, nil, dropFingerprint)
		o.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
		a.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
		send(t, o, a, "verified by name")
	})
	t.Run("CA-signed for another address: refused", func(t *testing.T) {
		other := t.TempDir()
		caFile, certFile, keyFile := caSigned(t, other, net.IPv4(127, 0, 0, 2))
		o, _ := exchange(t, map[string]string{SettingTLSCAList: caFile}, map[string]string{SettingTLSCertificate: certFile, SettingTLSPrivateKey: keyFile}, nil, dropFingerprint)
		if r := failReason(t, o); !strings.Contains(r, "127.0.0.1") {
			t.Fatalf("failed with %q, want the name mismatch", r)
		}
	})
}
