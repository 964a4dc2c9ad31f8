package application

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// BenchmarkChatThroughput: chat end to end between two hosts — two
// applications on loopback, each with its own registry and chat plugin
// process — over MSRP TCP and TLS. Alice sends b.N numbered messages on
// her chat stream; the clock stops when every one has its
// ChatStreamDidDeliverMessage (its SEND answered 200 and a success REPORT
// covering it) and bob's host got them all. It reports delivered messages
// per second, and the CPU time per message of the two hosts (this
// process, the benchmark's observers included) and of the two chat
// plugin processes. A message not delivered, or one arriving out of
// order, fails the benchmark.
//
// Sub-benchmarks: "per-call" sends each message with one send_message
// call across the plugin boundary; "batched" hands them over
// chatBatch at a time with send_messages (chat.SendMessages), at most
// chatAhead ahead of their outcomes.
func BenchmarkChatThroughput(b *testing.B) {
	for _, transport := range []config.Transport{config.TransportTCP, config.TransportTLS} {
		for _, mode := range chatSendModes {
			b.Run(fmt.Sprintf("%s/%s", transport, mode.name), func(b *testing.B) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				c := startChatCall(b, ctx, transport, nil)
				texts := make([]string, b.N)
				for i := range texts {
					texts[i] = "message " + strconv.Itoa(i)
				}
				cpu := c.cpuMeter(b)
				b.ResetTimer()
				start := time.Now()
				mode.send(b, ctx, c, texts)
				outcomes := c.out.wait(b, ctx, b.N)
				got := c.in.wait(ctx, b.N)
				elapsed := time.Since(start)
				b.StopTimer()
				for _, o := range outcomes {
					if !o.delivered || o.Code != 200 {
						b.Fatalf("a message was not delivered: %+v", o)
					}
				}
				if len(got) != b.N {
					b.Fatalf("bob got %d messages of %d", len(got), b.N)
				}
				for i, text := range got {
					if text != texts[i] {
						b.Fatalf("bob's message %d is %q, want %q", i, text, texts[i])
					}
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
				cpu.report(b, b.N)
			})
		}
	}
}

// chatSendMode is a way of handing messages to the chat stream.
type chatSendMode struct {
	name string
	send func(tb testing.TB, ctx context.Context, c *chatCall, texts []string)
}

// chatBatch is how many messages the batched mode gives send_messages at
// once, chatAhead how many may wait for their outcome before it sends
// more.
const (
	chatBatch = 1000
	chatAhead = 16 * chatBatch
)

var chatSendModes = []chatSendMode{
	{"batched", func(tb testing.TB, ctx context.Context, c *chatCall, texts []string) {
		for sent := 0; len(texts) > 0; sent += chatBatch {
			// At most chatAhead messages wait for their outcome, as
			// with an application that does not queue without bound.
			c.out.wait(tb, ctx, sent-chatAhead)
			n := min(len(texts), chatBatch)
			msgs := make([]chat.Message, n)
			for i, text := range texts[:n] {
				msgs[i] = chat.Message{Content: []byte(text)}
			}
			if _, err := chat.SendMessages(ctx, c.from, msgs); err != nil {
				tb.Fatal(err)
			}
			texts = texts[n:]
		}
	}},
	{"per-call", func(tb testing.TB, ctx context.Context, c *chatCall, texts []string) {
		for _, text := range texts {
			if _, err := chat.SendMessage(ctx, c.from, chat.Message{Content: []byte(text)}); err != nil {
				tb.Fatal(err)
			}
		}
	}},
}
