package rtpcrypto

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3711 Appendix B.3: the session keys of a master key and salt.
func TestKeyDerivation(t *testing.T) {
	master, err := aes.NewCipher(unhex(t, "E1F97A0D3E018BE0D64FA32C06DE4139"))
	if err != nil {
		t.Fatal(err)
	}
	salt := unhex(t, "0EC675AD498AFEEBB6960B3AABE6")
	for _, tt := range []struct {
		label byte
		want  string
	}{
		{0x00, "C61E7A93744F39EE10734AFE3FF7A087"},
		{0x02, "30CBBC08863D8C85D49DB34A9AE1"},
		{0x01, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"},
	} {
		out := make([]byte, len(tt.want)/2)
		derive(master, salt, tt.label, out)
		if got := fmt.Sprintf("%X", out); got != tt.want {
			t.Errorf("label %d: %s, want %s", tt.label, got, tt.want)
		}
	}
}

// RFC 3711 Appendix B.2: the AES-CM keystream of a session key and salt
// for SSRC 0, index 0.
func TestKeystream(t *testing.T) {
	block, err := aes.NewCipher(unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Context{block: block}
	copy(c.salt[:], unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"))
	ks := make([]byte, 48)
	c.xor(ks, 0, 0)
	want := "E03EAD0935C95E80E166B16DD92B4EB4" + "D23513162B02D0F72A43A2FE4A5F97AB" + "41E95B3BB0A2E8DD477901E4FCA894C0"
	if got := fmt.Sprintf("%X", ks); got != want {
		t.Fatalf("keystream\n%s, want\n%s", got, want)
	}
}

func packet(t testing.TB, ssrc uint32, seq uint16, payload []byte) ([]byte, int) {
	t.Helper()
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}
	if seq%7 == 0 {
		p.Header.CSRC = []uint32{1, 2} // a longer header now and then
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b, p.Header.MarshalSize()
}

// Packets protected here are what pion unprotects and the other way
// round, for both suites, across a sequence number wrap (the ROC).
func TestInteropWithPion(t *testing.T) {
	key := bytes.Repeat([]byte{0x11}, KeyLen)
	salt := bytes.Repeat([]byte{0x22}, SaltLen)
	for _, tt := range []struct {
		profile srtp.ProtectionProfile
		tag     int
	}{{srtp.ProtectionProfileAes128CmHmacSha1_80, TagLen80}, {srtp.ProtectionProfileAes128CmHmacSha1_32, TagLen32}} {
		t.Run(fmt.Sprint(tt.tag), func(t *testing.T) {
			ours, err := New(key, salt, tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := srtp.CreateContext(key, salt, tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			oursIn, err := New(key, salt, tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			theirsIn, err := srtp.CreateContext(key, salt, tt.profile, srtp.SRTPReplayProtection(128))
			if err != nil {
				t.Fatal(err)
			}
			var enc, dec []byte
			seq := uint16(65000)
			for i := range 1200 { // past 65535: ROC 1
				payload := bytes.Repeat([]byte{byte(i)}, 1+i%200)
				plain, hlen := packet(t, 0xCAFE, seq, payload)
				enc, err = ours.Protect(enc, plain, hlen, 0xCAFE, seq)
				if err != nil {
					t.Fatal(err)
				}
				if len(enc) != len(plain)+tt.tag || bytes.Equal(enc[hlen:len(plain)], plain[hlen:]) {
					t.Fatalf("packet %d: not protected", i)
				}
				got, err := theirsIn.DecryptRTP(nil, enc, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("packet %d (seq %d): pion unprotects %v", i, seq, err)
				}
				want, err := theirs.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(want, enc) {
					t.Fatalf("packet %d (seq %d): protected differently from pion", i, seq)
				}
				dec, err = oursIn.Unprotect(dec, want, hlen, 0xCAFE, seq)
				if err != nil || !bytes.Equal(dec, plain) {
					t.Fatalf("packet %d (seq %d): unprotect %v", i, seq, err)
				}
				seq++
			}
		})
	}
}

// Replays, packets behind the window, tampered packets and wrong keys are
// refused; packets out of order within the window are not.
func TestUnprotectRefuses(t *testing.T) {
	key := bytes.Repeat([]byte{1}, KeyLen)
	salt := bytes.Repeat([]byte{2}, SaltLen)
	out, _ := New(key, salt, TagLen80)
	in, _ := New(key, salt, TagLen80)
	other, _ := New(bytes.Repeat([]byte{3}, KeyLen), salt, TagLen80)
	sent := map[uint16][]byte{}
	const hlen = 12
	for seq := uint16(100); seq < 400; seq++ {
		plain, _ := packet(t, 7, seq|1, []byte("voice")) // odd: no CSRC
		plain[2], plain[3] = byte(seq>>8), byte(seq)
		p, err := out.Protect(nil, plain, hlen, 7, seq)
		if err != nil {
			t.Fatal(err)
		}
		sent[seq] = p
	}
	mustOK := func(seq uint16) {
		t.Helper()
		if _, err := in.Unprotect(nil, sent[seq], hlen, 7, seq); err != nil {
			t.Fatalf("seq %d refused: %v", seq, err)
		}
	}
	mustFail := func(seq uint16, p []byte, want error) {
		t.Helper()
		if _, err := in.Unprotect(nil, p, hlen, 7, seq); !errors.Is(err, want) {
			t.Fatalf("seq %d: %v, want %v", seq, err, want)
		}
	}
	mustOK(100)
	mustOK(300) // a jump ahead
	mustOK(250) // late, within the window
	mustOK(299)
	mustFail(250, sent[250], ErrReplay)
	mustFail(300, sent[300], ErrReplay)
	mustFail(150, sent[150], ErrReplay) // 150 behind: outside the window
	bad := bytes.Clone(sent[301])
	bad[hlen] ^= 1
	mustFail(301, bad, ErrAuth)
	bad = bytes.Clone(sent[301])
	bad[len(bad)-1] ^= 1
	mustFail(301, bad, ErrAuth)
	mustFail(301, sent[301][:hlen+3], ErrShort)
	mustOK(301) // the tampered copies left no trace
	if _, err := other.Unprotect(nil, sent[302], hlen, 7, 302); !errors.Is(err, ErrAuth) {
		t.Fatalf("another key: %v", err)
	}
	// An unknown SSRC that does not authenticate makes no state.
	for i := range 10 {
		p, _ := packet(t, uint32(1000+i), 1, []byte("forged.............."))
		if _, err := in.Unprotect(nil, p, hlen, uint32(1000+i), 1); !errors.Is(err, ErrAuth) {
			t.Fatalf("forged packet: %v", err)
		}
	}
	if in.n != 1 {
		t.Fatalf("%d streams kept, want 1", in.n)
	}
	if _, err := New(key[:5], salt, TagLen80); err == nil {
		t.Fatal("a short key accepted")
	}
	if _, err := New(key, salt, 8); err == nil {
		t.Fatal("an 8-byte tag accepted")
	}
}

// loop protects and unprotects one 160-byte packet again and again, the
// sequence number advancing.
type loop struct {
	out, in         *Context
	plain, enc, dec []byte
	hlen            int
	seq             uint16
}

func newLoop(tb testing.TB) *loop {
	tb.Helper()
	key := bytes.Repeat([]byte{1}, KeyLen)
	salt := bytes.Repeat([]byte{2}, SaltLen)
	out, _ := New(key, salt, TagLen80)
	in, _ := New(key, salt, TagLen80)
	plain, hlen := packet(tb, 9, 1, make([]byte, 160))
	return &loop{out: out, in: in, plain: plain, hlen: hlen, seq: 1, enc: make([]byte, 0, 1500), dec: make([]byte, 0, 1500)}
}

func (l *loop) next() error {
	l.plain[2], l.plain[3] = byte(l.seq>>8), byte(l.seq)
	l.enc, _ = l.out.Protect(l.enc, l.plain, l.hlen, 9, l.seq)
	var err error
	l.dec, err = l.in.Unprotect(l.dec, l.enc, l.hlen, 9, l.seq)
	l.seq++
	return err
}

func TestNoAllocations(t *testing.T) {
	l := newLoop(t)
	if err := l.next(); err != nil { // the states are made once
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := l.next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per packet protected and unprotected", allocs)
	}
}

func BenchmarkProtectUnprotect(b *testing.B) {
	l := newLoop(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.next()
	}
}

func BenchmarkPion(b *testing.B) {
	key := bytes.Repeat([]byte{1}, KeyLen)
	salt := bytes.Repeat([]byte{2}, SaltLen)
	out, _ := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	in, _ := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80, srtp.SRTPReplayProtection(128))
	plain, _ := packet(b, 9, 1, make([]byte, 160))
	enc := make([]byte, 0, 1500)
	dec := make([]byte, 0, 1500)
	seq := uint16(1)
	b.ReportAllocs()
	for b.Loop() {
		plain[2], plain[3] = byte(seq>>8), byte(seq)
		enc, _ = out.EncryptRTP(enc[:0], plain, nil)
		dec, _ = in.DecryptRTP(dec[:0], enc, nil)
		seq++
	}
}

// FuzzUnprotect: arbitrary datagrams never panic, and only the genuine
// ones unprotect.
func FuzzUnprotect(f *testing.F) {
	key := bytes.Repeat([]byte{1}, KeyLen)
	salt := bytes.Repeat([]byte{2}, SaltLen)
	out, _ := New(key, salt, TagLen80)
	for seq := range uint16(3) {
		plain, _ := packet(f, 9, seq, []byte("payload"))
		p, _ := out.Protect(nil, plain, 12, 9, seq)
		f.Add(p, 12)
	}
	f.Add([]byte{0x80, 0, 0, 1}, 12)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, p []byte, hlen int) {
		in, _ := New(key, salt, TagLen80)
		var ssrc uint32
		var seq uint16
		if len(p) >= 12 {
			ssrc = uint32(p[8])<<24 | uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11])
			seq = uint16(p[2])<<8 | uint16(p[3])
		}
		orig := bytes.Clone(p)
		got, err := in.Unprotect(nil, p, hlen, ssrc, seq)
		if !bytes.Equal(p, orig) {
			t.Fatal("Unprotect changed its input")
		}
		if err == nil && len(got) != len(p)-TagLen80 {
			t.Fatalf("unprotected %d bytes of %d", len(got), len(p))
		}
	})
}
