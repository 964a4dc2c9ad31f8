package chatstream

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// TestSendPipelined: with chat.send_window 3, a raw peer that answers
// nothing still receives three SENDs, in order; each 200 lets one more
// out, still in order; and every message is reported delivered, in the
// order sent, once its REPORT comes. The stream does not wait for each
// SEND's response (before issue 15 the second SEND waited for the first's
// 200, and this test timed out reading it).
func TestSendPipelined(t *testing.T) {
	settings := tcpOnlySettings()
	settings[chat.SettingSendWindow] = "3"
	rp := dialRaw(t, settings)
	b := rp.b
	msgs := make([]chat.Message, 5)
	for i := range msgs {
		msgs[i] = chat.Message{Content: fmt.Appendf(nil, "m%d", i)}
	}
	ids, err := chat.SendMessages(b.ctx, b.s, msgs)
	if err != nil || len(ids) != len(msgs) {
		t.Fatalf("send_messages: %v %v", ids, err)
	}
	var sends []*msrp.Message
	readSEND := func() {
		t.Helper()
		i := len(sends)
		sends = append(sends, rp.readWholeSEND(ids[i], msgs[i].Content))
	}
	readSEND() // m0, m1 and m2 without a response sent: the window
	readSEND()
	readSEND()
	rp.respond(sends[0], 200, "OK")
	readSEND() // m3
	rp.respond(sends[1], 200, "OK")
	readSEND() // m4
	for _, m := range sends[2:] {
		rp.respond(m, 200, "OK")
	}
	for i, id := range ids {
		rp.report(id, fmt.Sprintf("1-%d/%d", len(msgs[i].Content), len(msgs[i].Content)), 200, "OK")
	}
	for i, id := range ids {
		n := b.cur.NextFor(t, b.h, chat.DidDeliverMessage, chat.DidNotDeliverMessage)
		var d chat.DeliveryData
		if err := n.Decode(&d); err != nil || n.Name != chat.DidDeliverMessage || d.MessageID != id || d.Code != 200 {
			t.Fatalf("outcome %d: %s %+v (%v), want %s delivered", i, n.Name, d, err, id)
		}
	}
}

// TestSendMessagesAllOrNone: send_messages checks every message before it
// queues any: a list with one the remote cannot take (it accepts
// text/plain only) is refused with the index of the culprit and nothing
// of it goes out; the messages of the next call are the first on the
// wire.
func TestSendMessagesAllOrNone(t *testing.T) {
	rp := dialRaw(t, tcpOnlySettings())
	b := rp.b
	bad := []chat.Message{{Content: []byte("fine")}, {Content: []byte("%PDF"), ContentType: "application/pdf"}, {Content: []byte("fine too")}}
	ids, err := chat.SendMessages(b.ctx, b.s, bad)
	if !errors.Is(err, sdk.ErrInvalidArgument) || !strings.Contains(err.Error(), "message 1") || len(ids) != 0 {
		t.Fatalf("send_messages with an unsendable message 1: %v %v, want ErrInvalidArgument naming message 1", ids, err)
	}
	if ids, err := chat.SendMessages(b.ctx, b.s, nil); err != nil || len(ids) != 0 {
		t.Fatalf("send_messages of nothing: %v %v", ids, err)
	}
	good := []chat.Message{{Content: []byte("first")}, {Content: []byte("second")}}
	if ids, err = chat.SendMessages(b.ctx, b.s, good); err != nil {
		t.Fatal(err)
	}
	for i, m := range good {
		s := rp.readWholeSEND(ids[i], m.Content)
		rp.respond(s, 200, "OK")
		rp.report(ids[i], fmt.Sprintf("1-%d/%d", len(m.Content), len(m.Content)), 200, "OK")
		delivered(b, ids[i], chat.DidDeliverMessage, 200)
	}
}
