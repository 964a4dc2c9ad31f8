package rtpcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Errors of Unprotect, for errors.Is.
var (
	// ErrShort: the packet is shorter than its header and tag.
	ErrShort = errors.New("rtpcrypto: packet too short")
	// ErrAuth: the authentication tag does not match.
	ErrAuth = errors.New("rtpcrypto: authentication failed")
	// ErrReplay: the packet was received before, or is older than the
	// replay window.
	ErrReplay = errors.New("rtpcrypto: replayed packet")
)

// Key sizes of the AES_CM_128 suites.
const (
	KeyLen  = 16
	SaltLen = 14
)

// Tag lengths of the two suites.
const (
	TagLen80 = 10 // AES_CM_128_HMAC_SHA1_80
	TagLen32 = 4  // AES_CM_128_HMAC_SHA1_32
)

// replayWindow is how many packets behind the highest one are still
// accepted once (RFC 3711 §3.3.2 asks for at least 64).
const replayWindow = 128

// maxStreams bounds the SSRCs a context keeps state for; the oldest is
// forgotten beyond (a session has one or two: a peer that restarted its
// stream).
const maxStreams = 4

// Context protects or unprotects the RTP packets of one direction.
type Context struct {
	block  cipher.Block
	salt   [SaltLen]byte
	mac    hash.Hash
	tagLen int

	streams [maxStreams]stream
	n       int // streams in use
	next    int // the slot to reuse when all are in use

	iv, ks [aes.BlockSize]byte
	roc    [4]byte
	sum    []byte // the HMAC's output buffer
}

// stream is the state of one SSRC.
type stream struct {
	ssrc uint32
	roc  uint32 // rollover counter
	seq  uint16 // highest sequence number (s_l)
	// window has bit i set when index (roc<<16|seq)-i was received.
	window [2]uint64
	init   bool
}

// New derives the session keys from the master key and salt for a suite
// with tagLen-byte tags (TagLen80 or TagLen32).
func New(masterKey, masterSalt []byte, tagLen int) (*Context, error) {
	if len(masterKey) != KeyLen || len(masterSalt) != SaltLen {
		return nil, fmt.Errorf("rtpcrypto: want a %d-byte key and a %d-byte salt, have %d and %d", KeyLen, SaltLen, len(masterKey), len(masterSalt))
	}
	if tagLen != TagLen80 && tagLen != TagLen32 {
		return nil, fmt.Errorf("rtpcrypto: tag length %d: want %d or %d", tagLen, TagLen80, TagLen32)
	}
	master, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	var key [KeyLen]byte
	var auth [20]byte
	c := &Context{tagLen: tagLen, sum: make([]byte, 0, sha1.Size)}
	derive(master, masterSalt, 0x00, key[:])
	derive(master, masterSalt, 0x01, auth[:])
	derive(master, masterSalt, 0x02, c.salt[:])
	if c.block, err = aes.NewCipher(key[:]); err != nil {
		return nil, err
	}
	c.mac = hmac.New(sha1.New, auth[:])
	return c, nil
}

// derive is the AES-CM key derivation of RFC 3711 §4.3 with a key
// derivation rate of 0: x = (label << 48) XOR master salt, and out is the
// keystream of AES-CM under the master key from IV x·2^16.
func derive(master cipher.Block, salt []byte, label byte, out []byte) {
	var iv, ks [aes.BlockSize]byte
	copy(iv[:SaltLen], salt)
	iv[7] ^= label
	for i := 0; i < len(out); i += aes.BlockSize {
		binary.BigEndian.PutUint16(iv[14:], uint16(i/aes.BlockSize))
		master.Encrypt(ks[:], iv[:])
		copy(out[i:], ks[:])
	}
}

// TagLen returns the authentication tag's length.
func (c *Context) TagLen() int { return c.tagLen }

// Protect encrypts pkt's payload (after its hdrLen-byte header) and
// appends the tag, writing the packet to dst (reused, grown if needed) and
// returning it. ssrc and seq are the header's.
func (c *Context) Protect(dst, pkt []byte, hdrLen int, ssrc uint32, seq uint16) ([]byte, error) {
	if hdrLen < 12 || hdrLen > len(pkt) {
		return nil, ErrShort
	}
	s := c.stream(ssrc)
	var roc uint32
	if !s.init {
		s.init, s.seq = true, seq
	} else if roc = s.estimate(seq); index(roc, seq) > index(s.roc, s.seq) {
		s.roc, s.seq = roc, seq // past 65535 the ROC counts the wraps
	}
	out := append(dst[:0], pkt...)
	c.xor(out[hdrLen:], ssrc, uint64(roc)<<16|uint64(seq))
	return append(out, c.tag(out, roc)[:c.tagLen]...), nil
}

// Unprotect authenticates pkt, checks it against the replay window and
// writes the packet with its payload decrypted and without its tag to dst
// (reused, grown if needed), returning it. pkt is not changed.
func (c *Context) Unprotect(dst, pkt []byte, hdrLen int, ssrc uint32, seq uint16) ([]byte, error) {
	if hdrLen < 12 || len(pkt) < hdrLen+c.tagLen {
		return nil, ErrShort
	}
	s := c.find(ssrc)
	var roc uint32
	var fresh stream
	if s == nil {
		fresh = stream{ssrc: ssrc, seq: seq, init: true}
		s = &fresh
	} else {
		roc = s.estimate(seq)
		if !s.fresh(roc, seq) {
			return nil, ErrReplay
		}
	}
	body := pkt[:len(pkt)-c.tagLen]
	if subtle.ConstantTimeCompare(c.tag(body, roc)[:c.tagLen], pkt[len(body):]) != 1 {
		return nil, ErrAuth
	}
	out := append(dst[:0], body...)
	c.xor(out[hdrLen:], ssrc, uint64(roc)<<16|uint64(seq))
	if s == &fresh {
		s = c.stream(ssrc)
		*s = fresh
		s.window[0] = 1
		return out, nil
	}
	s.accept(roc, seq)
	return out, nil
}

// xor applies the AES-CM keystream of packet index i of ssrc to p (RFC
// 3711 §4.1.1: IV = (salt·2^16) XOR (SSRC·2^64) XOR (i·2^16)).
func (c *Context) xor(p []byte, ssrc uint32, i uint64) {
	iv := &c.iv
	copy(iv[:SaltLen], c.salt[:])
	iv[14], iv[15] = 0, 0
	iv[4] ^= byte(ssrc >> 24)
	iv[5] ^= byte(ssrc >> 16)
	iv[6] ^= byte(ssrc >> 8)
	iv[7] ^= byte(ssrc)
	for k := range 6 {
		iv[8+k] ^= byte(i >> (40 - 8*k))
	}
	for off, n := 0, uint16(0); off < len(p); off, n = off+aes.BlockSize, n+1 {
		binary.BigEndian.PutUint16(iv[14:], n)
		c.block.Encrypt(c.ks[:], iv[:])
		subtle.XORBytes(p[off:], p[off:], c.ks[:])
	}
}

// tag is HMAC-SHA1(authentication key, p || ROC) (RFC 3711 §4.2).
func (c *Context) tag(p []byte, roc uint32) []byte {
	binary.BigEndian.PutUint32(c.roc[:], roc)
	c.mac.Reset()
	c.mac.Write(p)
	c.mac.Write(c.roc[:])
	c.sum = c.mac.Sum(c.sum[:0])
	return c.sum
}

// find returns ssrc's state, nil when it has none.
func (c *Context) find(ssrc uint32) *stream {
	for i := range c.n {
		if c.streams[i].ssrc == ssrc {
			return &c.streams[i]
		}
	}
	return nil
}

// stream returns ssrc's state, making it (in place of the oldest made
// when all slots are in use).
func (c *Context) stream(ssrc uint32) *stream {
	if s := c.find(ssrc); s != nil {
		return s
	}
	i := c.n
	if c.n < maxStreams {
		c.n++
	} else {
		i = c.next
		c.next = (c.next + 1) % maxStreams
	}
	c.streams[i] = stream{ssrc: ssrc}
	return &c.streams[i]
}

// estimate guesses the ROC of a received seq (RFC 3711 Appendix A).
func (s *stream) estimate(seq uint16) uint32 {
	switch {
	case s.seq < 0x8000:
		if seq > s.seq && seq-s.seq > 0x8000 {
			return s.roc - 1
		}
	default:
		if seq < s.seq-0x8000 {
			return s.roc + 1
		}
	}
	return s.roc
}

func index(roc uint32, seq uint16) uint64 { return uint64(roc)<<16 | uint64(seq) }

// fresh reports whether the packet with this ROC and seq was not received
// yet and is within the window.
func (s *stream) fresh(roc uint32, seq uint16) bool {
	top, i := index(s.roc, s.seq), index(roc, seq)
	if i > top {
		return true
	}
	d := top - i
	if d >= replayWindow {
		return false
	}
	return s.window[d/64]&(1<<(d%64)) == 0
}

// accept records an authenticated packet.
func (s *stream) accept(roc uint32, seq uint16) {
	top, i := index(s.roc, s.seq), index(roc, seq)
	if i > top {
		shift := i - top
		switch {
		case shift >= replayWindow:
			s.window = [2]uint64{}
		case shift >= 64:
			s.window[1] = s.window[0] << (shift - 64)
			s.window[0] = 0
		default:
			s.window[1] = s.window[1]<<shift | s.window[0]>>(64-shift)
			s.window[0] <<= shift
		}
		s.window[0] |= 1
		s.roc, s.seq = roc, seq
		return
	}
	d := top - i
	s.window[d/64] |= 1 << (d % 64)
}
