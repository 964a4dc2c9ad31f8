package engine

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// BenchmarkInspect measures the engine's checks of one INVITE with SDP,
// against sipgo's parse of it alone (what sipgo does with every message
// anyway): the checks parse the message once more.
func BenchmarkInspect(b *testing.B) {
	msg := request(nil)
	p := sip.NewParser()
	b.Run("inspect", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if in := inspect(p, msg, policy{datagram: true}); in.verdict != verdictPass {
				b.Fatal(in.why)
			}
		}
	})
	b.Run("sipgo parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := p.ParseSIP(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFramer measures cutting a TCP stream of INVITEs into messages.
func BenchmarkFramer(b *testing.B) {
	msg := request(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	var f framer
	for b.Loop() {
		f.feed(msg)
		if fr, ok := f.next(); !ok || fr.kind != frameMessage {
			b.Fatal("not framed")
		}
	}
}
