package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// tag returns prefix and the hex of the first 8 bytes of the engine's
// HMAC-SHA256 of parts, each followed by a 0 byte: a tag stable for the
// same parts and unguessable without the engine's key (RFC 3261 §19.3).
// The keyed HMACs are pooled (tagMACs): a new one hashes the key's two
// pads, and every response of a call needs a tag.
func (e *Engine) tag(prefix string, parts ...string) string {
	m, _ := e.tagMACs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.tagKey[:])
	}
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	in := make([]byte, 0, n)
	for _, p := range parts {
		in = append(append(in, p...), 0)
	}
	m.Write(in)
	var sum [sha256.Size]byte
	out := m.Sum(sum[:0])
	m.Reset()
	e.tagMACs.Put(m)
	var buf [24]byte
	b := append(buf[:0], prefix...)
	return string(hex.AppendEncode(b, out[:8]))
}
