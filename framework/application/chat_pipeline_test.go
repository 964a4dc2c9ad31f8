package application

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// TestChatPipelineConnectionKilled: alice's chat stream (a chat plugin
// process of its own host) is handed 100,000 numbered messages for bob's
// (another host, another chat plugin process) before the call, and sends
// them pipelined (chat.send_window) over MSRP TCP once it starts. Once bob's chat plugin process has
// read 4 MB of them (about a tenth), it is killed with SIGKILL: the kernel
// tears the MSRP connection down mid-way, with messages queued, on the
// wire and awaiting their REPORTs. Then:
//
//   - every message has exactly one outcome at alice's, and the outcomes
//     come in the order the messages were sent: first those delivered
//     (code 200, a success REPORT each), then, after MediaStreamDidFail
//     (or MediaStreamWillEnd, when bob's host ended the session before
//     alice's plugin read the reset), all the others not delivered (code
//     0, "Stream ended") — none is lost silently, none is reported
//     delivered after one that was not;
//   - some were delivered and some not (the kill came mid-way);
//   - what bob's host got is the messages in order, without a gap or a
//     repeat.
func TestChatPipelineConnectionKilled(t *testing.T) {
	const (
		total     = 100_000
		killAfter = 4 << 20 // bytes read by bob's chat plugin
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	texts := make([]string, total)
	for i := range texts {
		texts[i] = "message " + strconv.Itoa(i)
	}
	var (
		ids  []string
		pid  int
		base int64
	)
	// The messages are all handed to alice's stream before the call, so
	// that it sends them pipelined, as fast as it can, from the start.
	c := startChatCall(t, ctx, config.TransportTCP, func(c *chatCall) {
		for start := 0; start < total; start += chatBatch {
			msgs := make([]chat.Message, 0, chatBatch)
			for _, text := range texts[start:min(start+chatBatch, total)] {
				msgs = append(msgs, chat.Message{Content: []byte(text)})
			}
			got, err := chat.SendMessages(ctx, c.from, msgs)
			if err != nil {
				t.Fatalf("send_messages from message %d: %v", start, err)
			}
			if len(got) != len(msgs) {
				t.Fatalf("send_messages returned %d ids for %d messages", len(got), len(msgs))
			}
			ids = append(ids, got...)
		}
		pid = chatPluginPID(t, c.bob)
		var err error
		if base, err = bytesRead(pid); err != nil {
			t.Fatal(err)
		}
	})

	// Each message is more than 250 bytes on the wire, so 100,000 are
	// more than 25 MB: once bob's plugin has read 4 MB of them (the host's
	// notifications lag behind, much more under -race), it is killed.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		n, err := bytesRead(pid)
		if err != nil {
			t.Fatal(err)
		}
		if n-base >= killAfter {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("bob's chat plugin read %d bytes before the deadline", n-base)
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	outcomes := c.out.wait(t, ctx, total)
	if len(outcomes) != total {
		t.Fatalf("%d outcomes for %d messages", len(outcomes), total)
	}
	delivered := 0
	for delivered < total && outcomes[delivered].delivered {
		delivered++
	}
	for i, o := range outcomes {
		if o.MessageID != ids[i] {
			t.Fatalf("outcome %d is for message %s, want %s (message %d): outcomes out of order or repeated", i, o.MessageID, ids[i], i)
		}
		switch {
		case i < delivered && o.Code != 200:
			t.Fatalf("message %d delivered with code %d %q", i, o.Code, o.Reason)
		case i >= delivered && o.delivered:
			t.Fatalf("message %d reported delivered after message %d was not", i, delivered)
		case i >= delivered && (o.Code != 0 || o.Reason != chat.ReasonStreamEnded):
			t.Fatalf("message %d not delivered with %d %q, want 0 %q", i, o.Code, o.Reason, chat.ReasonStreamEnded)
		}
	}
	if delivered == 0 || delivered == total {
		t.Fatalf("%d of %d messages delivered: the connection was not killed mid-way", delivered, total)
	}
	c.out.mu.Lock()
	endedAt, stream := c.out.endedAt, c.out.stream
	c.out.mu.Unlock()
	reasons := map[string]int{}
	for _, o := range outcomes[delivered:] {
		reasons[strconv.Itoa(o.Code)+" "+o.Reason]++
	}
	t.Logf("%d delivered, %d not delivered %v", delivered, total-delivered, reasons)
	t.Logf("alice's stream: %q", stream)
	if endedAt < 0 || endedAt > delivered {
		t.Fatalf("MediaStreamDidFail or WillEnd came after %d outcomes, want it before the first not delivered (%d)", endedAt, delivered)
	}

	got := c.in.all()
	for i, text := range got {
		if text != texts[i] {
			t.Fatalf("bob's message %d is %q, want %q", i, text, texts[i])
		}
	}
	t.Logf("bob's host got %d messages (those whose notification was still in the killed plugin are lost with it)", len(got))
}
