package sdes

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pion/srtp/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

// counter is a deterministic io.Reader for key generation in tests.
type counter byte

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(*c)
		*c++
	}
	return len(p), nil
}

func TestParse(t *testing.T) {
	key := make([]byte, KeyLen)
	for i := range key {
		key[i] = byte(i)
	}
	tests := []struct {
		name string
		in   string
		want Crypto
		err  error
	}{
		{"reference line", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n",
			Crypto{Tag: 1, Suite: AESCM128HMACSHA180, Key: key}, nil},
		{"value only 32", "2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
			Crypto{Tag: 2, Suite: AESCM128HMACSHA132, Key: key}, nil},
		{"lifetime and MKI", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^20|1:4",
			Crypto{Tag: 1, Suite: AESCM128HMACSHA180, Key: key, Lifetime: "2^20", MKI: 1, MKILength: 4}, nil},
		{"MKI only", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|3:2",
			Crypto{Tag: 7, Suite: AESCM128HMACSHA180, Key: key, MKI: 3, MKILength: 2}, nil},
		{"decimal lifetime and session param", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|1048576 UNENCRYPTED_SRTCP",
			Crypto{Tag: 1, Suite: AESCM128HMACSHA180, Key: key, Lifetime: "1048576", SessionParams: []string{"UNENCRYPTED_SRTCP"}}, nil},
		{"unsupported suite", "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrUnsupportedSuite},
		{"short key", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka", Crypto{}, ErrKeyLength},
		{"not base64", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", Crypto{}, ErrSyntax},
		{"no inline", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrSyntax},
		{"bad tag", "a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrSyntax},
		{"negative tag", "a=crypto:-1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrSyntax},
		{"missing key params", "a=crypto:1 AES_CM_128_HMAC_SHA1_80", Crypto{}, ErrSyntax},
		{"two key params", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd;inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrSyntax},
		{"bad MKI", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|1:0", Crypto{}, ErrSyntax},
		{"bad lifetime", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^x", Crypto{}, ErrSyntax},
		{"extra field", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^20|1:4|9", Crypto{}, ErrSyntax},
		{"double space", "a=crypto:1  AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", Crypto{}, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != nil {
				var pe *ParseError
				if !errors.Is(err, tt.err) || !errors.As(err, &pe) {
					t.Fatalf("err = %v, want %v as *ParseError", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if again, err := Parse(got.Line()); err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: %+v, %v", got.Line(), again, err)
			}
		})
	}
}

// TestReferenceOffer parses the crypto lines of the seed document's Blink offer.
func TestReferenceOffer(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "blink-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	var offer []Crypto
	for _, l := range strings.Split(string(data), "\r\n") {
		if strings.HasPrefix(l, "a=crypto:") {
			c, err := Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			if c.Line() != l {
				t.Errorf("Line() = %q, want %q", c.Line(), l)
			}
			offer = append(offer, c)
		}
	}
	if len(offer) != 2 {
		t.Fatalf("%d crypto lines, want 2", len(offer))
	}
	remote, local, err := Answer(offer, []Suite{AESCM128HMACSHA132}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if remote.Tag != 2 || local.Tag != 2 || local.Suite != AESCM128HMACSHA132 {
		t.Fatalf("answer picked %v / %v", remote, local)
	}
}

func TestGolden(t *testing.T) {
	rnd := counter(0)
	offer, err := Offer(DefaultSuites(), &rnd)
	if err != nil {
		t.Fatal(err)
	}
	offer = append(offer, Crypto{Tag: 3, Suite: AESCM128HMACSHA180, Key: offer[0].Key, Lifetime: "2^31", MKI: 1, MKILength: 4})
	var b bytes.Buffer
	for _, c := range offer {
		b.WriteString(c.Line() + "\r\n")
	}
	golden := filepath.Join("testdata", "offer.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("got\n%s\nwant\n%s", b.Bytes(), want)
	}
}

func TestAnswer(t *testing.T) {
	rnd := counter(100)
	mk := func(tag int, s Suite, mki int) Crypto {
		c := Crypto{Tag: tag, Suite: s, Key: make([]byte, KeyLen), MKILength: mki}
		return c
	}
	tests := []struct {
		name      string
		offer     []Crypto
		supported []Suite
		wantTag   int
		wantSuite Suite
		err       error
	}{
		{"first offered", []Crypto{mk(5, AESCM128HMACSHA180, 0), mk(6, AESCM128HMACSHA132, 0)}, nil, 5, AESCM128HMACSHA180, nil},
		{"offer order wins", []Crypto{mk(1, AESCM128HMACSHA132, 0), mk(2, AESCM128HMACSHA180, 0)}, nil, 1, AESCM128HMACSHA132, nil},
		{"restricted local", []Crypto{mk(1, AESCM128HMACSHA180, 0), mk(2, AESCM128HMACSHA132, 0)}, []Suite{AESCM128HMACSHA132}, 2, AESCM128HMACSHA132, nil},
		{"MKI skipped", []Crypto{mk(1, AESCM128HMACSHA180, 4), mk(2, AESCM128HMACSHA180, 0)}, nil, 2, AESCM128HMACSHA180, nil},
		{"none", []Crypto{mk(1, AESCM128HMACSHA132, 0)}, []Suite{AESCM128HMACSHA180}, 0, "", ErrNoCommonSuite},
		{"empty", nil, nil, 0, "", ErrNoCommonSuite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote, local, err := Answer(tt.offer, tt.supported, &rnd)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if remote.Tag != tt.wantTag || local.Tag != tt.wantTag || local.Suite != tt.wantSuite || remote.Suite != tt.wantSuite {
				t.Fatalf("got %v / %v", remote, local)
			}
			if bytes.Equal(local.Key, remote.Key) || len(local.Key) != KeyLen {
				t.Fatalf("answer key %x not fresh", local.Key)
			}
			back, err := Select(tt.offer, local)
			if err != nil || back.Tag != tt.wantTag {
				t.Fatalf("Select = %v, %v", back, err)
			}
		})
	}
	if _, err := Select([]Crypto{mk(1, AESCM128HMACSHA180, 0)}, mk(2, AESCM128HMACSHA180, 0)); !errors.Is(err, ErrNoCommonSuite) {
		t.Fatalf("Select of an unoffered tag: %v", err)
	}
}

func TestProfile(t *testing.T) {
	tests := []struct {
		s    Suite
		want srtp.ProtectionProfile
		err  error
	}{
		{AESCM128HMACSHA180, srtp.ProtectionProfileAes128CmHmacSha1_80, nil},
		{AESCM128HMACSHA132, srtp.ProtectionProfileAes128CmHmacSha1_32, nil},
		{"F8_128_HMAC_SHA1_80", 0, ErrUnsupportedSuite},
	}
	for _, tt := range tests {
		got, err := tt.s.Profile()
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, %v", tt.s, got, err)
		}
		if err == nil {
			kl, _ := got.KeyLen()
			sl, _ := got.SaltLen()
			if kl+sl != KeyLen {
				t.Errorf("%s: key+salt = %d", tt.s, kl+sl)
			}
		}
	}
}

func TestKeysWork(t *testing.T) {
	// A key from New must be accepted by pion/srtp for its suite.
	for _, s := range DefaultSuites() {
		c, err := New(1, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := s.Profile()
		if _, err := srtp.CreateContext(c.MasterKey(), c.MasterSalt(), p); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"offer.golden", "blink-offer.sdp"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\r\n") {
			f.Add(l)
		}
	}
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^20|1:4 KDR=1")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		again, err := Parse(c.Line())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", c.Line(), err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip changed %+v into %+v", c, again)
		}
	})
}
