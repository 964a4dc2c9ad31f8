package msrpstream

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// fingerprintInputs are the a=fingerprint values of
// testdata/fingerprints.txt, good and bad: the golden inputs and the fuzz
// seeds.
func fingerprintInputs(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fingerprints.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
}

// TestFingerprintGolden parses each value of testdata/fingerprints.txt and
// writes the a=fingerprint line it gives, or why it is refused, to
// testdata/fingerprints.golden.
func TestFingerprintGolden(t *testing.T) {
	var out strings.Builder
	for _, in := range fingerprintInputs(t) {
		f, err := ParseFingerprint(in)
		if err != nil {
			if !errors.Is(err, sdk.ErrInvalidStream) {
				t.Errorf("ParseFingerprint(%q): %v does not wrap ErrInvalidStream", in, err)
			}
			out.WriteString("refused: " + err.Error() + "\r\n")
			continue
		}
		out.WriteString("a=fingerprint:" + f.String() + "\r\n")
	}
	golden(t, "fingerprints.golden", out.String())
}

func TestFingerprintMatches(t *testing.T) {
	c, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	der := c.Certificate[0]
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s256, s1 := sha256.Sum256(der), sha1.Sum(der)
	own := NewFingerprint(der)
	if own.Hash != "sha-256" || !bytes.Equal(own.Value, s256[:]) || !own.Matches(der) || !own.Supported() {
		t.Fatalf("NewFingerprint = %v", own)
	}
	back, err := ParseFingerprint(own.String())
	if err != nil || back.String() != own.String() {
		t.Fatalf("ParseFingerprint(String()) = %v, %v", back, err)
	}
	other := Fingerprint{Hash: "sha-256", Value: bytes.Repeat([]byte{1}, 32)}
	weak := Fingerprint{Hash: "sha-1", Value: s1[:]}
	md5 := Fingerprint{Hash: "md5", Value: bytes.Repeat([]byte{1}, 16)}

	tests := []struct {
		name  string
		want  []Fingerprint
		certs []*x509.Certificate
		ok    bool
	}{
		{"matches", []Fingerprint{own}, []*x509.Certificate{cert}, true},
		{"one of several of the strongest function", []Fingerprint{other, own}, []*x509.Certificate{cert}, true},
		{"sha-1 alone", []Fingerprint{weak}, []*x509.Certificate{cert}, true},
		{"the strongest function decides: sha-256 does not match, sha-1 would", []Fingerprint{weak, other}, []*x509.Certificate{cert}, false},
		{"another certificate", []Fingerprint{other}, []*x509.Certificate{cert}, false},
		{"no certificate presented", []Fingerprint{own}, nil, false},
		{"only a hash function we never trust", []Fingerprint{md5}, []*x509.Certificate{cert}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPeer(tt.want, tt.certs)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckPeer: %v, want ok %v", err, tt.ok)
			}
			var fe *FingerprintError
			if err != nil && (!errors.Is(err, ErrFingerprintMismatch) || !errors.As(err, &fe) || !strings.Contains(err.Error(), "a=fingerprint")) {
				t.Fatalf("CheckPeer error %v is not a FingerprintError naming a=fingerprint", err)
			}
		})
	}
}

// FuzzParseFingerprint: what ParseFingerprint accepts writes back into a
// value that parses to the same fingerprint; what it refuses is refused
// with ErrInvalidStream.
func FuzzParseFingerprint(f *testing.F) {
	for _, in := range fingerprintInputs(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fp, err := ParseFingerprint(in)
		if err != nil {
			if !errors.Is(err, sdk.ErrInvalidStream) {
				t.Fatalf("error %v does not wrap ErrInvalidStream", err)
			}
			return
		}
		if len(fp.Value) == 0 || len(fp.Value) > maxFingerprintSize || fp.Hash != strings.ToLower(fp.Hash) {
			t.Fatalf("accepted %q as %#v", in, fp)
		}
		back, err := ParseFingerprint(fp.String())
		if err != nil || back.Hash != fp.Hash || !bytes.Equal(back.Value, fp.Value) {
			t.Fatalf("round trip of %q: %v, %v", fp.String(), back, err)
		}
		_ = fp.Matches([]byte(in))
	})
}

// TestParseMediaFingerprints: a=fingerprint of the media section wins over
// the session's, which applies otherwise; a broken one refuses the m-line.
func TestParseMediaFingerprints(t *testing.T) {
	text := readSDP(t, "remote_offer_tls_fingerprint.sdp")
	m, err := ParseMediaAt(text, 0, TransportTLS)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Fingerprints) != 1 || m.Fingerprints[0].String() != "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4B:65:BA:F1:D4:0E:7A:6D:0C:99:4E" {
		t.Fatalf("m-line 0 (session-level a=fingerprint): %v", m.Fingerprints)
	}
	m, err = ParseMediaAt(text, 1, TransportTLS)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Fingerprints) != 2 || m.Fingerprints[0].Hash != "sha-1" || m.Fingerprints[1].Hash != "sha-256" || m.Fingerprints[1].Value[31] != 0x1f {
		t.Fatalf("m-line 1 (its own a=fingerprint): %v", m.Fingerprints)
	}
	broken := strings.Replace(text, "a=fingerprint:sha-1 4A:AD", "a=fingerprint:sha-1 4A;AD", 1)
	if _, err := ParseMediaAt(broken, 1, TransportTLS); !errors.Is(err, sdk.ErrInvalidStream) {
		t.Fatalf("a broken a=fingerprint: %v, want ErrInvalidStream", err)
	}
}
