package chatstream

import (
	"fmt"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

// BenchmarkMessages: messages from one chat stream to another over
// loopback MSRP (TCP and TLS), each sent with send_message and counted
// when its success report (ChatStreamDidDeliverMessage) is back. It
// reports delivered messages per second; the stream sends one message per
// round trip to keep them in order.
func BenchmarkMessages(b *testing.B) {
	for _, transport := range []string{"tcp", "tls"} {
		b.Run(transport, func(b *testing.B) {
			alice, bob := parties(transport)
			a, bb, offer, answer := pair(b, alice, bob)
			startPair(a, bb, offer, answer)
			ids := make([]string, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				ids[i] = a.send(chat.Message{Content: fmt.Appendf(nil, "message %d", i)})
			}
			for _, id := range ids {
				delivered(a, id, chat.DidDeliverMessage, 200)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
