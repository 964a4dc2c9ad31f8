package chatstream

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// tcpOnlySettings is an account on plain TCP.
func tcpOnlySettings() map[string]string { return map[string]string{"msrp.transport": "tcp"} }

// report writes a REPORT about message id's bytes rng with status.
func (rp *rawPeer) report(id, rng string, code int, comment string) {
	rp.t.Helper()
	rp.seq++
	tid := fmt.Sprintf("rawrep%04d", rp.seq)
	if _, err := fmt.Fprintf(rp.conn, "MSRP %s REPORT\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\nByte-Range: %s\r\nStatus: 000 %d %s\r\n-------%s$\r\n",
		tid, rp.stream, rp.self, id, rng, code, comment, tid); err != nil {
		rp.t.Fatal(err)
	}
}

// readWholeSEND reads the stream's next request and checks that it is
// message id in one SEND: the whole body, Byte-Range 1-N/N, flag '$'.
func (rp *rawPeer) readWholeSEND(id string, body []byte) *msrp.Message {
	rp.t.Helper()
	m := rp.read()
	if m.Method != msrp.MethodSEND || m.MessageID() != id {
		rp.t.Fatalf("got %s %q, want SEND %s", m.Method, m.MessageID(), id)
	}
	want := fmt.Sprintf("1-%d/%d", len(body), len(body))
	if got := m.Header(msrp.HeaderByteRange); got != want || m.Flag != msrp.FlagEnd || !bytes.Equal(m.Body, body) {
		rp.t.Fatalf("SEND Byte-Range %s flag %c with %d body bytes, want the whole message (%s $)", got, m.Flag, len(m.Body), want)
	}
	if m.Header(msrp.HeaderSuccessReport) != "yes" {
		rp.t.Fatalf("SEND without Success-Report: yes")
	}
	return m
}

// TestDeliveryNeedsEveryByte sends 5,000- and 10,000-byte messages to a
// raw MSRP peer: each goes out as one SEND (the reference's receiver
// cannot reassemble chunks), and it counts as delivered only when success
// REPORTs cover all its bytes; a peer that confirms the first 2,048 bytes
// and refuses the rest with 413 has not received it.
func TestDeliveryNeedsEveryByte(t *testing.T) {
	rp := dialRaw(t, tcpOnlySettings())
	b := rp.b
	outcomes := func(id string) (n int) {
		for _, x := range b.seen() {
			var d chat.DeliveryData
			if (x.Name == chat.DidDeliverMessage || x.Name == chat.DidNotDeliverMessage) && x.Decode(&d) == nil && d.MessageID == id {
				n++
			}
		}
		return n
	}
	var whole string // the 10,000-byte message

	{
		t.Log("confirmed in part, refused in part")
		body := bytes.Repeat([]byte("a"), 5000)
		id := b.send(chat.Message{Content: body})
		m := rp.readWholeSEND(id, body)
		rp.respond(m, 200, "OK")
		rp.report(id, "1-2048/5000", 200, "OK")
		rp.report(id, "2049-4096/5000", 413, "Stop Sending")
		rp.report(id, "4097-5000/5000", 413, "Stop Sending")
		if d := delivered(b, id, chat.DidNotDeliverMessage, 413); d.Reason != "Stop Sending" {
			t.Fatalf("reason %q", d.Reason)
		}
	}
	{
		t.Log("refused by its transaction after a partial REPORT")
		body := bytes.Repeat([]byte("b"), 5000)
		id := b.send(chat.Message{Content: body})
		m := rp.readWholeSEND(id, body)
		rp.report(id, "1-2048/5000", 200, "OK")
		rp.respond(m, 413, "Stop Sending")
		delivered(b, id, chat.DidNotDeliverMessage, 413)
	}
	{
		t.Log("confirmed chunk by chunk")
		body := bytes.Repeat([]byte("c"), 10000)
		id := b.send(chat.Message{Content: body})
		whole = id
		m := rp.readWholeSEND(id, body)
		rp.respond(m, 200, "OK")
		for start := 1; start <= 10000; start += 2048 {
			rp.report(id, fmt.Sprintf("%d-%d/10000", start, min(start+2047, 10000)), 200, "OK")
		}
		delivered(b, id, chat.DidDeliverMessage, 200)
		// A late, duplicate REPORT changes nothing.
		rp.report(id, "1-10000/10000", 200, "OK")
	}
	{
		t.Log("confirmed in part only")
		body := bytes.Repeat([]byte("d"), 5000)
		id := b.send(chat.Message{Content: body})
		m := rp.readWholeSEND(id, body)
		rp.respond(m, 200, "OK")
		rp.report(id, "1-2048/5000", 200, "OK")
		// The next message goes out (its predecessor has its response)
		// and is delivered, while the first still is not.
		next := b.send(chat.Message{Content: []byte("next")})
		m2 := rp.readWholeSEND(next, []byte("next"))
		rp.respond(m2, 200, "OK")
		rp.report(next, "1-4/4", 200, "OK")
		delivered(b, next, chat.DidDeliverMessage, 200)
		if n := outcomes(id); n != 0 {
			t.Fatalf("a message confirmed for 2,048 of 5,000 bytes has %d outcomes: %s", n, b.names())
		}
		if n := outcomes(whole); n != 1 {
			t.Fatalf("the 10,000-byte message has %d outcomes, want 1: %s", n, b.names())
		}
		b.end()
		delivered(b, id, chat.DidNotDeliverMessage, 0)
	}
	for _, x := range b.seen() {
		if x.Name == sdk.MediaStreamDidFail {
			t.Fatalf("the stream failed: %s", x.Data)
		}
	}
}

// TestSendLargerThanMaxMessageSize: a message whose body would exceed
// chat.max_message_size in its one SEND is refused at once.
func TestSendLargerThanMaxMessageSize(t *testing.T) {
	settings := tcpOnlySettings()
	settings["chat.max_message_size"] = "1000"
	rp := dialRaw(t, settings)
	b := rp.b
	if _, err := chat.SendMessage(b.ctx, b.s, chat.Message{Content: bytes.Repeat([]byte("x"), 1001)}); err == nil {
		t.Fatal("a message over chat.max_message_size was queued")
	}
	body := bytes.Repeat([]byte("y"), 1000)
	id := b.send(chat.Message{Content: body})
	m := rp.readWholeSEND(id, body)
	rp.respond(m, 200, "OK")
	rp.report(id, "1-1000/1000", 200, "OK")
	delivered(b, id, chat.DidDeliverMessage, 200)
}
