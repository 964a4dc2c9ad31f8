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

// focusOffer is a conference focus's offer: CPIM, and the nickname and
// private-messages chatroom capabilities (RFC 7701 §7).
const focusOffer = "m=message 9 TCP/MSRP *\r\n" +
	"c=IN IP4 127.0.0.1\r\n" +
	"a=path:msrp://127.0.0.1:9/rawpeer0001;tcp\r\n" +
	"a=accept-types:message/cpim text/plain\r\n" +
	"a=accept-wrapped-types:text/plain\r\n" +
	"a=chatroom:nickname private-messages\r\n" +
	"a=setup:active\r\n"

var tcpOnly = map[string]string{"msrp.transport": "tcp"}

// readNickname reads the stream's next message, which must be a NICKNAME
// asking for nick, and checks it against the golden file when golden is
// not "".
func (rp *rawPeer) readNickname(nick, goldenName string) *msrp.Message {
	rp.t.Helper()
	m := rp.read()
	if m.Method != msrp.MethodNICKNAME || m.HasBody() {
		rp.t.Fatalf("got %q, want a bodiless NICKNAME", m.Marshal())
	}
	if got, want := m.Header(msrp.HeaderUseNickname), msrp.QuoteString(nick); got != want {
		rp.t.Fatalf("Use-Nickname %s, want %s", got, want)
	}
	if m.Header(msrp.HeaderToPath) != rp.self || m.Header(msrp.HeaderFromPath) != rp.stream {
		rp.t.Fatalf("paths of %q", m.Marshal())
	}
	if goldenName != "" {
		if !tidRE.MatchString(m.TransactionID) {
			rp.t.Fatalf("transaction id %q malformed", m.TransactionID)
		}
		out := strings.ReplaceAll(string(m.Marshal()), m.TransactionID, "TID")
		golden(rp.t, goldenName, []byte(strings.ReplaceAll(out, rp.stream, "STREAMURI")))
	}
	return m
}

// respond answers request m with code and comment.
func (rp *rawPeer) respond(m *msrp.Message, code int, comment string) {
	rp.t.Helper()
	if _, err := fmt.Fprintf(rp.conn, "MSRP %s %d %s\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n",
		m.TransactionID, code, comment, rp.stream, rp.self, m.TransactionID); err != nil {
		rp.t.Fatal(err)
	}
}

// TestSetLocalNickname asks a raw focus for nicknames: it grants the
// first (200), refuses the second (425), and a third still waiting when
// the stream ends is not set either.
func TestSetLocalNickname(t *testing.T) {
	rp := dialRawOffer(t, tcpOnly, focusOffer, true)
	b := rp.b
	_, own, err := chat.ReadAttributes(b.ctx, b.s)
	if err != nil || !own.NicknameAllowed || !own.PrivateMessagesAllowed {
		t.Fatalf("attributes %+v, %v: want nickname and private messages allowed", own, err)
	}

	steps := []struct {
		nick, golden  string
		code          int
		comment, name string
	}{
		{"Alice", "nickname.golden.msrp", 200, "OK", chat.DidSetNickname},
		{`Al "the" ice`, "", 425, "Nickname reserved or already in use", chat.DidNotSetNickname},
		{"", "", 403, "Forbidden", chat.DidNotSetNickname},
	}
	for _, st := range steps {
		id, err := chat.SetLocalNickname(b.ctx, b.s, st.nick)
		if err != nil {
			t.Fatalf("set_local_nickname(%q): %v", st.nick, err)
		}
		if !idRE.MatchString(id) {
			t.Fatalf("id %q", id)
		}
		m := rp.readNickname(st.nick, st.golden)
		rp.respond(m, st.code, st.comment)
		var d chat.NicknameData
		b.waitData(st.name, &d)
		want := chat.NicknameData{MessageID: id, Nickname: st.nick, Code: st.code, Reason: st.comment}
		if d != want {
			t.Fatalf("%s %+v, want %+v", st.name, d, want)
		}
	}

	// Unanswered when the stream ends: not set, before MediaStreamDidEnd.
	id, err := chat.SetLocalNickname(b.ctx, b.s, "late")
	if err != nil {
		t.Fatal(err)
	}
	rp.readNickname("late", "")
	b.end()
	var d chat.NicknameData
	n := b.find(func(n *sdk.Notification) bool {
		return n.Name == chat.DidNotSetNickname && strings.Contains(string(n.Data), id)
	})
	if err := n.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Code != 0 || d.Reason != chat.ReasonStreamEnded {
		t.Fatalf("after End: %+v", d)
	}
	if !strings.HasSuffix(b.names(), sdk.MediaStreamDidEnd) {
		t.Fatalf("notifications: %s", b.names())
	}
}

// TestSetLocalNicknameNotAllowed: unless the remote is a focus offering
// the nickname capability with CPIM, set_local_nickname fails with the
// reference's error and sends nothing.
func TestSetLocalNicknameNotAllowed(t *testing.T) {
	tests := []struct {
		name  string
		media string
		focus bool
		nick  string
		want  error
		text  string
	}{
		{"not a focus", focusOffer, false, "Alice", sdk.ErrIllegalState, chat.ReasonNicknameNotSupported},
		{"focus without CPIM", rawOffer + "a=chatroom:nickname\r\n", true, "Alice", sdk.ErrIllegalState, chat.ReasonNicknameNotSupported},
		{"focus without the capability", strings.Replace(focusOffer, "nickname ", "", 1), true, "Alice", sdk.ErrIllegalState, chat.ReasonNicknameNotSupported},
		{"control character", focusOffer, true, "Al\r\nice", sdk.ErrInvalidArgument, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := dialRawOffer(t, tcpOnly, tt.media, tt.focus)
			b := rp.b
			_, err := chat.SetLocalNickname(b.ctx, b.s, tt.nick)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err %v, want %v with %q", err, tt.want, tt.text)
			}
			// Nothing went out: the next thing the peer reads is a message
			// sent afterwards.
			id := b.send(chat.Message{Content: []byte("after")})
			if m := rp.read(); m.Method != msrp.MethodSEND || m.MessageID() != id {
				t.Fatalf("peer read %s %q first, want SEND %s", m.Method, m.MessageID(), id)
			}
			b.end()
			for _, n := range b.seen() {
				if n.Name == chat.DidSetNickname || n.Name == chat.DidNotSetNickname {
					t.Fatalf("posted %s", n.Name)
				}
			}
		})
	}
}

// TestSetLocalNicknameBeforeStart: answering a focus, the capability is
// known before Start, but there is no MSRP session to send on yet.
func TestSetLocalNicknameBeforeStart(t *testing.T) {
	b := newPeer(t, party{name: "bob", identity: bobID, settings: tcpOnly}, aliceID)
	b.focus = true
	offer := sessionSDP("127.0.0.1", focusOffer)
	b.accept(offer)
	b.answer(offer)
	_, err := chat.SetLocalNickname(b.ctx, b.s, "Bob")
	if !errors.Is(err, sdk.ErrIllegalState) || !strings.Contains(err.Error(), "not started") {
		t.Fatalf("err %v, want ErrIllegalState: not started", err)
	}
	b.end()
}
