package chatstream

import (
	"fmt"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

// BenchmarkMessages: messages from one chat stream to another over
// loopback MSRP (TCP and TLS), each sent with send_message and counted
// when its success report (ChatStreamDidDeliverMessage) is back; the
// deliveries must come in the order sent. It reports delivered messages
// per second; the stream pipelines them (chat.send_window).
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
				n := a.cur.NextFor(b, a.h, chat.DidDeliverMessage, chat.DidNotDeliverMessage)
				var d chat.DeliveryData
				if err := n.Decode(&d); err != nil || n.Name != chat.DidDeliverMessage || d.MessageID != id {
					b.Fatalf("%s %+v (%v), want %s delivered", n.Name, d, err, id)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
