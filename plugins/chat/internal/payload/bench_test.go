package payload

import (
	"testing"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

// BenchmarkEncodeCPIM measures wrapping a typical chat line.
func BenchmarkEncodeCPIM(b *testing.B) {
	m := chat.Message{Content: []byte("Are we still on for lunch tomorrow?")}
	p := sdkPeer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(m, p, when); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeCPIM measures unwrapping it on the other side.
func BenchmarkDecodeCPIM(b *testing.B) {
	body, err := Encode(chat.Message{Content: []byte("Are we still on for lunch tomorrow?")}, sdkPeer(), when)
	if err != nil {
		b.Fatal(err)
	}
	p := sdkPeer()
	p.Local, p.Remote = bob, alice
	b.ReportAllocs()
	b.SetBytes(int64(len(body.Data)))
	for b.Loop() {
		if _, err := Decode(body.ContentType, body.Data, "id", p, when); err != nil {
			b.Fatal(err)
		}
	}
}
