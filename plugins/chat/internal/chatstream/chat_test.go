package chatstream

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

var transports = []string{"tcp", "tls"}

func parties(transport string) (alice, bob party) {
	return party{name: "alice", identity: aliceID, settings: map[string]string{"msrp.transport": transport}},
		party{name: "bob", identity: bobID, settings: map[string]string{"msrp.transport": transport}}
}

// gotMessage waits for the next message at p.
func gotMessage(p *peer) chat.GotMessageData {
	p.t.Helper()
	var d chat.GotMessageData
	p.waitData(chat.GotMessage, &d)
	return d
}

// delivered waits for the outcome of message id at p and checks it.
func delivered(p *peer, id string, wantName string, wantCode int) chat.DeliveryData {
	p.t.Helper()
	var d chat.DeliveryData
	n := p.find(func(n *sdk.Notification) bool {
		if n.Name != chat.DidDeliverMessage && n.Name != chat.DidNotDeliverMessage {
			return false
		}
		var x chat.DeliveryData
		return n.Decode(&x) == nil && x.MessageID == id
	})
	if err := n.Decode(&d); err != nil {
		p.t.Fatal(err)
	}
	if n.Name != wantName || d.Code != wantCode {
		p.t.Fatalf("%s: %s for %s with code %d %q, want %s %d", p.me.name, n.Name, id, d.Code, d.Reason, wantName, wantCode)
	}
	return d
}

// sentIDs returns the IDs of the DidSendMessage notifications seen at p,
// waiting until there are n.
func sentIDs(p *peer, n int) []string {
	p.t.Helper()
	var ids []string
	for _, x := range p.rec.WaitCount(p.t, p.h, n, chat.DidSendMessage)[:n] {
		var d chat.DidSendMessageData
		if err := x.Decode(&d); err != nil {
			p.t.Fatal(err)
		}
		ids = append(ids, d.MessageID)
	}
	return ids
}

// TestChatBothWays: messages sent before start arrive in order once both
// streams start, messages flow both ways (CPIM-wrapped between SDK peers),
// each gets DidSendMessage then DidDeliverMessage, and is-composing
// indications arrive.
func TestChatBothWays(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			alice, bob := parties(transport)
			a, b, offer, answer := pair(t, alice, bob)
			wantProto, wantScheme := map[string]string{"tcp": "TCP/MSRP", "tls": "TCP/TLS/MSRP"}[transport], map[string]string{"tcp": "msrp://", "tls": "msrps://"}[transport]
			if !strings.Contains(offer, " "+wantProto+" *") || !strings.Contains(answer, "a=path:"+wantScheme) {
				t.Fatalf("offer/answer not %s:\n%s\n%s", wantProto, offer, answer)
			}
			var early []string
			for i := range 3 {
				early = append(early, a.send(chat.Message{Content: fmt.Appendf(nil, "early %d", i)}))
			}
			if _, own, err := chat.ReadAttributes(a.ctx, a.s); err != nil || own.Queued != 3 {
				t.Fatalf("attributes before start: %+v %v", own, err)
			}
			startPair(a, b, offer, answer)

			for i, id := range early {
				m := gotMessage(b).Message
				if want := fmt.Sprintf("early %d", i); string(m.Content) != want || m.MessageID != id {
					t.Fatalf("message %d: %q (%s), want %q (%s)", i, m.Content, m.MessageID, want, id)
				}
				if m.Sender != aliceID || len(m.Recipients) != 1 || m.Recipients[0] != bobID || m.ContentType != chat.ContentTypeText {
					t.Fatalf("message %d: %+v", i, m)
				}
			}
			if got := sentIDs(a, len(early)); fmt.Sprint(got) != fmt.Sprint(early) {
				t.Fatalf("DidSendMessage for %v, want %v (in order)", got, early)
			}
			for _, id := range early {
				delivered(a, id, chat.DidDeliverMessage, 200)
			}

			// Bob answers with metadata, which needs CPIM.
			when := time.Date(2024, 5, 1, 10, 11, 12, 123456000, time.UTC)
			id := b.send(chat.Message{Content: []byte("<b>hi</b>"), ContentType: "text/html", Subject: "re", Timestamp: when,
				AdditionalHeaders: []chat.Header{{Namespace: "urn:example", Name: "Tag", Value: "v"}}})
			m := gotMessage(a).Message
			if string(m.Content) != "<b>hi</b>" || m.ContentType != "text/html" || m.Subject != "re" || !m.Timestamp.Equal(when) ||
				m.Sender != bobID || len(m.AdditionalHeaders) != 1 || m.AdditionalHeaders[0] != (chat.Header{Namespace: "urn:example", Name: "Tag", Value: "v"}) {
				t.Fatalf("alice got %+v", m)
			}
			delivered(b, id, chat.DidDeliverMessage, 200)

			// Binary content survives the JSON of the contract and CPIM.
			png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0xff}
			id = a.send(chat.Message{Content: png, ContentType: "image/png"})
			if m := gotMessage(b).Message; !bytes.Equal(m.Content, png) || m.ContentType != "image/png" {
				t.Fatalf("bob got %+v", m)
			}
			delivered(a, id, chat.DidDeliverMessage, 200)

			// Is-composing, both ways.
			last := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
			if _, err := chat.SendComposingIndication(a.ctx, a.s, chat.StateActive, 60, last, nil); err != nil {
				t.Fatal(err)
			}
			var c chat.ComposingData
			b.waitData(chat.GotComposingIndication, &c)
			if c.State != chat.StateActive || c.Refresh != 60 || !c.LastActive.Equal(last) || c.Sender != aliceID || c.Private {
				t.Fatalf("bob got composing %+v", c)
			}
			if _, err := chat.SendComposingIndication(b.ctx, b.s, chat.StateIdle, 0, time.Time{}, nil); err != nil {
				t.Fatal(err)
			}
			a.waitData(chat.GotComposingIndication, &c)
			if c.State != chat.StateIdle || c.Refresh != chat.DefaultComposingRefresh || c.Sender != bobID {
				t.Fatalf("alice got composing %+v", c)
			}

			_, own, err := chat.ReadAttributes(a.ctx, a.s)
			if err != nil || !own.CPIMEnabled || own.Queued != 0 || own.LocalPath == "" || own.RemotePath == "" {
				t.Fatalf("attributes %+v %v", own, err)
			}
			endAll(a, b)
			for _, p := range []*peer{a, b} {
				for _, n := range p.seen() {
					if n.Name == sdk.MediaStreamDidFail || n.Name == chat.DidNotDeliverMessage {
						t.Fatalf("%s: unexpected %s %s", p.me.name, n.Name, n.Data)
					}
				}
			}
		})
	}
}

// TestPlainMessages: with chat.prefer_cpim false, a message without
// metadata goes out as a bare text/plain body. The receiver then learns
// the sender from the session (the display name it was told) rather than
// from a CPIM From header (the sender's own).
func TestPlainMessages(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			alice, bob := parties(transport)
			alice.settings["chat.prefer_cpim"] = "false"
			sessionAlice := chat.Identity{URI: "SIP:alice@EXAMPLE.com", DisplayName: "Alice as bob's session knows her"}
			a, b := newPeer(t, alice, bob.identity), newPeer(t, bob, sessionAlice)
			a.create()
			offer := a.offer()
			b.accept(offer)
			answer := b.answer(offer)
			startPair(a, b, offer, answer)

			id := a.send(chat.Message{Content: []byte("plain ünïcode")})
			m := gotMessage(b).Message
			if string(m.Content) != "plain ünïcode" || m.ContentType != chat.ContentTypeText || m.Sender != sessionAlice {
				t.Fatalf("bob got %+v", m)
			}
			delivered(a, id, chat.DidDeliverMessage, 200)

			// The same message from bob (prefer_cpim true) is wrapped.
			id = b.send(chat.Message{Content: []byte("wrapped")})
			if m := gotMessage(a).Message; m.Sender != bobID || string(m.Content) != "wrapped" {
				t.Fatalf("alice got %+v", m)
			}
			delivered(b, id, chat.DidDeliverMessage, 200)
		})
	}
}

// TestNotDelivered: a message over the receiver's size limit is refused
// with 413 and reported as not delivered; the stream keeps going.
func TestNotDelivered(t *testing.T) {
	alice, bob := parties("tcp")
	bob.settings["chat.max_message_size"] = "1000"
	a, b, offer, answer := pair(t, alice, bob)
	startPair(a, b, offer, answer)

	big := a.send(chat.Message{Content: bytes.Repeat([]byte("x"), 5000)})
	d := delivered(a, big, chat.DidNotDeliverMessage, 413)
	if d.Reason == "" {
		t.Fatal("no reason")
	}
	small := a.send(chat.Message{Content: []byte("still here")})
	if m := gotMessage(b).Message; string(m.Content) != "still here" {
		t.Fatalf("bob got %+v", m)
	}
	delivered(a, small, chat.DidDeliverMessage, 200)
	for _, n := range b.seen() {
		if n.Name == sdk.MediaStreamDidFail {
			t.Fatalf("bob failed: %s", n.Data)
		}
	}
}

// TestEndWithQueuedMessages: every message still queued when the stream
// ends is reported not delivered (code 0, "Stream ended"), in order,
// between MediaStreamWillEnd and MediaStreamDidEnd; send_message then
// fails.
func TestEndWithQueuedMessages(t *testing.T) {
	alice, bob := parties("tcp")
	a, _, _, _ := pair(t, alice, bob)
	var ids []string
	for i := range 4 {
		ids = append(ids, a.send(chat.Message{Content: fmt.Appendf(nil, "m%d", i)}))
	}
	a.end()
	var got []string
	if names := a.names(); !strings.HasPrefix(names, "MediaStreamDidInitialize MediaStreamWillEnd ChatStreamDidNotDeliverMessage") ||
		!strings.HasSuffix(names, "ChatStreamDidNotDeliverMessage MediaStreamDidEnd") {
		t.Fatalf("notifications %s", names)
	}
	for _, n := range a.seen() {
		switch n.Name {
		case chat.DidNotDeliverMessage:
			var d chat.DeliveryData
			if err := n.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if d.Code != 0 || d.Reason != chat.ReasonStreamEnded {
				t.Fatalf("not delivered with %d %q", d.Code, d.Reason)
			}
			got = append(got, d.MessageID)
		case chat.DidSendMessage, chat.DidDeliverMessage:
			t.Fatalf("unexpected %s", n.Name)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("not delivered %v, want %v (in order)", got, ids)
	}
	if _, err := chat.SendMessage(a.ctx, a.s, chat.Message{Content: []byte("late")}); !errors.Is(err, sdk.ErrStreamNotFound) && !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("send after end: %v", err)
	}
}

// TestPeerEndsWithMessagesInFlight: when the remote goes away, what was
// not yet acknowledged is reported not delivered, exactly once each.
func TestPeerEndsWithMessagesInFlight(t *testing.T) {
	alice, bob := parties("tcp")
	a, b, offer, answer := pair(t, alice, bob)
	startPair(a, b, offer, answer)
	b.end()
	a.waitFor(sdk.MediaStreamDidFail)
	var ids []string
	for i := range 3 {
		id, err := chat.SendMessage(a.ctx, a.s, chat.Message{Content: fmt.Appendf(nil, "m%d", i)})
		if err != nil {
			break // the outbox closed when the session did: also fine
		}
		ids = append(ids, id)
	}
	a.end()
	outcomes := map[string]int{}
	for _, n := range a.seen() {
		if n.Name == chat.DidNotDeliverMessage || n.Name == chat.DidDeliverMessage {
			var d chat.DeliveryData
			if err := n.Decode(&d); err != nil {
				t.Fatal(err)
			}
			outcomes[d.MessageID]++
		}
	}
	for _, id := range ids {
		if outcomes[id] != 1 {
			t.Fatalf("message %s has %d outcomes: %s", id, outcomes[id], a.names())
		}
	}
}

// TestSendMessageRefusals: once the remote's accept-types are known,
// what cannot be sent is refused at once with the reference's errors.
func TestSendMessageRefusals(t *testing.T) {
	alice, bob := parties("tcp")
	a, b, offer, answer := pair(t, alice, bob)
	startPair(a, b, offer, answer)
	tests := []struct {
		name string
		m    chat.Message
	}{
		{"unsupported content type", chat.Message{Content: []byte("%PDF"), ContentType: "application/pdf"}},
		{"private message to a non-focus", chat.Message{Content: []byte("psst"), Recipients: []chat.Identity{{URI: "sip:carol@example.com"}}}},
		{"malformed content type", chat.Message{Content: []byte("x"), ContentType: "text/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := chat.SendMessage(a.ctx, a.s, tt.m); !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Fatalf("err %v, want ErrInvalidArgument", err)
			}
		})
	}
	if _, err := a.s.Invoke(a.ctx, &sdk.InvokeRequest{Method: chat.MethodSendMessage, Args: []byte(`{"content":7}`)}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("bad arguments: %v", err)
	}
}

// TestStartFailsWithQueuedMessages: when connecting fails, the queued
// messages are reported not delivered right after MediaStreamDidFail, as
// the reference does, without waiting for End.
func TestStartFailsWithQueuedMessages(t *testing.T) {
	alice, bob := parties("tcp")
	a, b, offer, answer := pair(t, alice, bob)
	id := a.send(chat.Message{Content: []byte("into the void")})
	b.end() // nobody listens at the answer's path any more
	a.start(offer, answer)
	var fail sdk.DidFailData
	a.waitData(sdk.MediaStreamDidFail, &fail)
	if fail.Context != "start" {
		t.Fatalf("failed with %+v", fail)
	}
	if n := a.waitFor(chat.DidNotDeliverMessage); !strings.Contains(string(n.Data), id) {
		t.Fatalf("not delivered: %s", n.Data)
	}
	if strings.Contains(a.names(), sdk.MediaStreamWillEnd) {
		t.Fatalf("ended already: %s", a.names())
	}
	a.end()
}
