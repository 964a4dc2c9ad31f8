package chatstream

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// TestNewFromSDP checks the ChatStream rules on incoming m-lines, on top
// of the MSRP base's.
func TestNewFromSDP(t *testing.T) {
	line := func(extra ...string) string {
		return sessionSDP("127.0.0.1", "m=message 2855 TCP/MSRP *\r\n"+
			"a=path:msrp://127.0.0.1:2855/abcdef0123;tcp\r\n"+strings.Join(extra, ""))
	}
	tests := []struct {
		name string
		sdp  string
		want error // nil: accepted
	}{
		{"chat offer", line("a=accept-types:message/cpim text/* application/im-iscomposing+xml\r\n"), nil},
		{"wildcard accept-types", line("a=accept-types:*\r\n"), nil},
		{"plain text only", line("a=accept-types:text/plain\r\n"), nil},
		{"no accept-types", line(), sdk.ErrInvalidStream},
		{"no common type", line("a=accept-types:application/x-rfb\r\n"), sdk.ErrInvalidStream},
		{"sendonly", line("a=accept-types:text/*\r\n", "a=sendonly\r\n"), sdk.ErrInvalidStream},
		{"recvonly (file transfer)", line("a=accept-types:*\r\n", "a=recvonly\r\n", "a=file-selector:name:\"a.txt\" size:3\r\n"), sdk.ErrInvalidStream},
		{"TLS line on a TCP account", strings.Replace(line("a=accept-types:*\r\n"), "TCP/MSRP", "TCP/TLS/MSRP", 1), sdk.ErrInvalidStream},
		{"no path", sessionSDP("127.0.0.1", "m=message 2855 TCP/MSRP *\r\na=accept-types:*\r\n"), sdk.ErrInvalidStream},
	}
	lp, err := sdk.NewProvider(Plugin("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close(context.Background())
	account := &sdk.Account{ID: "a", URI: aliceID.URI, Settings: map[string]string{"msrp.transport": "tcp"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := lp.NewFromSDP(context.Background(), &sdk.NewFromSDPRequest{RemoteSDP: tt.sdp, Account: account})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if o.Type != chat.Type {
					t.Fatalf("type %q", o.Type)
				}
				if err := o.Stream.End(context.Background()); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestPluginManifest: the manifest declares the chat type as the
// reference registers ChatStream.
func TestPluginManifest(t *testing.T) {
	m := Plugin("1.0").Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(m.StreamTypes) != 1 {
		t.Fatalf("types %+v", m.StreamTypes)
	}
	st := m.StreamTypes[0]
	if st.Type != chat.Type || st.Priority != chat.Priority || st.HoldSupported || st.Match.Media[0] != chat.MediaType {
		t.Fatalf("type %+v", st)
	}
}

// TestConferenceFocus: answering a focus that offers a=chatroom with
// private-messages and nickname, the stream reports the capabilities and
// lets private messages through; without the capability they are refused.
func TestConferenceFocus(t *testing.T) {
	offer := func(chatroom string) string {
		return sessionSDP("127.0.0.1", "m=message 2855 TCP/MSRP *\r\n"+
			"a=path:msrp://127.0.0.1:2855/focus01234;tcp\r\n"+
			"a=accept-types:message/cpim text/* application/im-iscomposing+xml\r\n"+
			"a=accept-wrapped-types:*\r\n"+chatroom)
	}
	focus := chat.Identity{URI: "sip:room@conference.example.com"}
	tests := []struct {
		name        string
		chatroom    string
		wantPrivate bool
		wantNick    bool
	}{
		{"private messages and nickname", "a=chatroom:nickname private-messages com.ag-projects.screen-sharing\r\n", true, true},
		{"nickname only", "a=chatroom:nickname\r\n", false, true},
		{"no chatroom attribute", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bob := party{name: "bob", identity: bobID, settings: map[string]string{"msrp.transport": "tcp"}}
			b := newPeer(t, bob, focus)
			o, err := b.p.NewFromSDP(b.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer(tt.chatroom), Account: bob.account()})
			if err != nil {
				t.Fatal(err)
			}
			b.h, b.s = o.Handle, o.Stream
			req := b.session(sdk.DirectionIncoming)
			req.Session.RemoteFocus = true
			if err := b.s.Initialize(b.ctx, req); err != nil {
				t.Fatal(err)
			}
			b.waitFor(sdk.MediaStreamDidInitialize)
			_, own, err := chat.ReadAttributes(b.ctx, b.s)
			if err != nil {
				t.Fatal(err)
			}
			if !own.CPIMEnabled || own.PrivateMessagesAllowed != tt.wantPrivate || own.NicknameAllowed != tt.wantNick {
				t.Fatalf("attributes %+v", own)
			}
			_, err = chat.SendMessage(b.ctx, b.s, chat.Message{Content: []byte("psst"), Recipients: []chat.Identity{{URI: "sip:carol@example.com"}}})
			if tt.wantPrivate && err != nil {
				t.Fatalf("private message refused: %v", err)
			}
			if !tt.wantPrivate && !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Fatalf("private message without the capability: %v", err)
			}
			b.end()
		})
	}
}
