package payload

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

var (
	alice = chat.Identity{URI: "sip:alice@example.com", DisplayName: "Alice"}
	bob   = chat.Identity{URI: "sip:bob@example.com", DisplayName: "Bob"}
	carol = chat.Identity{URI: "sip:carol@example.com"}
	focus = chat.Identity{URI: "sip:room@conference.example.com"}
	when  = time.Date(2024, 5, 1, 10, 11, 12, 123456000, time.FixedZone("", 2*3600))
)

// sdkPeer is the usual case between two SDK peers: CPIM both ways.
func sdkPeer() Peer {
	return Peer{
		Local: alice, Remote: bob,
		RemoteAcceptTypes:  chat.AcceptTypes(),
		RemoteWrappedTypes: chat.AcceptWrappedTypes(),
		CPIMEnabled:        true,
	}
}

// plainPeer accepts text/plain only, without CPIM.
func plainPeer() Peer {
	return Peer{Local: alice, Remote: bob, RemoteAcceptTypes: []string{"text/plain"}}
}

func TestEncodeDecision(t *testing.T) {
	focusPeer := sdkPeer()
	focusPeer.Remote, focusPeer.RemoteFocus, focusPeer.PrivateMessagesAllowed = focus, true, true
	cpimOnly := sdkPeer()
	cpimOnly.RemoteAcceptTypes = []string{"message/cpim"}
	htmlWrappedOnly := plainPeer()
	htmlWrappedOnly.RemoteWrappedTypes = []string{"text/html"}

	tests := []struct {
		name     string
		msg      chat.Message
		peer     Peer
		wantType string // MSRP Content-Type
		wrapped  bool
		wantErr  error
	}{
		{name: "preferred CPIM between SDK peers", msg: chat.Message{Content: []byte("hi")}, peer: sdkPeer(), wantType: "message/cpim", wrapped: true},
		{name: "plain preferred", msg: chat.Message{Content: []byte("hi")}, peer: func() Peer { p := sdkPeer(); p.PreferPlain = true; return p }(), wantType: `text/plain; charset="utf8"`},
		{name: "plain preferred, metadata needs CPIM", msg: chat.Message{Content: []byte("hi"), Subject: "s"}, peer: func() Peer { p := sdkPeer(); p.PreferPlain = true; return p }(), wantType: "message/cpim", wrapped: true},
		{name: "plain without CPIM", msg: chat.Message{Content: []byte("hi")}, peer: plainPeer(), wantType: `text/plain; charset="utf8"`},
		{name: "explicit charset kept", msg: chat.Message{Content: []byte("hi"), ContentType: "text/plain; charset=iso-8859-1"}, peer: plainPeer(), wantType: "text/plain; charset=iso-8859-1"},
		{name: "type only accepted wrapped", msg: chat.Message{Content: []byte("<b>hi</b>"), ContentType: "text/html"}, peer: cpimOnly, wantType: "message/cpim", wrapped: true},
		{name: "type not accepted at all", msg: chat.Message{Content: []byte{1}, ContentType: "application/octet-stream"}, peer: sdkPeer(), wantErr: ErrUnsupportedContentType},
		{name: "type only wrapped, no CPIM", msg: chat.Message{Content: []byte("x"), ContentType: "text/html"}, peer: htmlWrappedOnly, wantErr: ErrCPIMRequired},
		{name: "metadata without CPIM", msg: chat.Message{Content: []byte("hi"), Subject: "s"}, peer: Peer{Local: alice, Remote: bob, RemoteAcceptTypes: []string{"text/plain"}, RemoteWrappedTypes: []string{"text/*"}}, wantErr: ErrCPIMRequired},
		{name: "metadata, type not wrappable", msg: chat.Message{Content: []byte("hi"), Timestamp: when}, peer: plainPeer(), wantErr: ErrUnsupportedContentType},
		{name: "remote as explicit recipient", msg: chat.Message{Content: []byte("hi"), Recipients: []chat.Identity{{URI: "sips:bob@EXAMPLE.com"}}}, peer: sdkPeer(), wantType: "message/cpim", wrapped: true},
		{name: "private without capability", msg: chat.Message{Content: []byte("hi"), Recipients: []chat.Identity{carol}}, peer: sdkPeer(), wantErr: ErrPrivateMessagesNotAllowed},
		{name: "courtesy recipients without capability", msg: chat.Message{Content: []byte("hi"), CourtesyRecipients: []chat.Identity{carol}}, peer: sdkPeer(), wantErr: ErrPrivateMessagesNotAllowed},
		{name: "private to a focus", msg: chat.Message{Content: []byte("hi"), Recipients: []chat.Identity{carol}}, peer: focusPeer, wantType: "message/cpim", wrapped: true},
		{name: "bad content type", msg: chat.Message{Content: []byte("hi"), ContentType: "text/"}, peer: sdkPeer(), wantErr: ErrUnsupportedContentType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.msg, tt.peer, when)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.ContentType != tt.wantType || b.Wrapped != tt.wrapped {
				t.Fatalf("got %q wrapped=%v, want %q wrapped=%v", b.ContentType, b.Wrapped, tt.wantType, tt.wrapped)
			}
			if !b.Wrapped && !bytes.Equal(b.Data, tt.msg.Content) {
				t.Fatalf("plain body %q, want %q", b.Data, tt.msg.Content)
			}
		})
	}
}

// TestEncodeGolden pins the CPIM payloads byte for byte.
func TestEncodeGolden(t *testing.T) {
	focusPeer := sdkPeer()
	focusPeer.Remote, focusPeer.RemoteFocus, focusPeer.PrivateMessagesAllowed = focus, true, true
	tests := []struct {
		file string
		body func() (Body, error)
	}{
		{"text.golden.cpim", func() (Body, error) {
			return Encode(chat.Message{Content: []byte("Hello, Bob")}, sdkPeer(), when)
		}},
		{"metadata.golden.cpim", func() (Body, error) {
			return Encode(chat.Message{
				Content:            []byte("<p>agenda</p>"),
				ContentType:        "text/html",
				Recipients:         []chat.Identity{carol},
				CourtesyRecipients: []chat.Identity{bob},
				Subject:            "Meeting",
				Timestamp:          when.Add(time.Hour),
				Required:           []string{"ns1.Priority"},
				AdditionalHeaders: []chat.Header{
					{Namespace: "urn:example:prio", Name: "Priority", Value: "high"},
					{Namespace: "urn:ietf:params:imdn", Name: "Message-ID", Value: "34jk324j"},
				},
			}, focusPeer, when)
		}},
		{"composing.golden.cpim", func() (Body, error) {
			return EncodeComposing(chat.ComposingIndication{State: "active", Refresh: 60, LastActive: when}, sdkPeer(), when)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := tt.body()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, b.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Data, want) {
				t.Fatalf("payload differs from %s:\n%s\nwant:\n%s", path, b.Data, want)
			}
		})
	}
}

// TestRoundTrip: what one end encodes, the other decodes to the same
// message, seen from the other side.
func TestRoundTrip(t *testing.T) {
	sender, receiver := sdkPeer(), sdkPeer()
	receiver.Local, receiver.Remote = bob, alice
	msgs := []chat.Message{
		{Content: []byte("plain hello")},
		{Content: []byte("¡hola! ünïcode"), ContentType: "text/plain"},
		{Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}, ContentType: "image/png"},
		{Content: []byte("with headers"), Subject: "subj", Timestamp: when, Required: []string{"x"},
			AdditionalHeaders: []chat.Header{{Namespace: "urn:x", Name: "A", Value: "1"}, {Name: "Plain", Value: "2"}}},
	}
	for _, m := range msgs {
		b, err := Encode(m, sender, when)
		if err != nil {
			t.Fatal(err)
		}
		in, err := Decode(b.ContentType, b.Data, "id1", receiver, when.Add(time.Minute))
		if err != nil {
			t.Fatalf("decode %q: %v", b.Data, err)
		}
		if in.Message == nil {
			t.Fatalf("decoded %+v, want a message", in)
		}
		got := in.Message.Message
		wantType := m.ContentType
		if wantType == "" {
			wantType = "text/plain"
		}
		ts := m.Timestamp
		if ts.IsZero() {
			ts = when
		}
		want := chat.ReceivedMessage{
			Content: m.Content, ContentType: wantType, Sender: alice, Recipients: []chat.Identity{bob},
			Subject: m.Subject, Timestamp: ts, Required: m.Required, AdditionalHeaders: m.AdditionalHeaders, MessageID: "id1",
		}
		if !got.Timestamp.Equal(want.Timestamp) {
			t.Fatalf("timestamp %v, want %v", got.Timestamp, want.Timestamp)
		}
		got.Timestamp = want.Timestamp
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded\n %+v\nwant\n %+v", got, want)
		}
		if in.Message.Private {
			t.Fatal("private between two parties")
		}
	}
}

func TestDecode(t *testing.T) {
	now := when.Add(time.Minute)
	me := Peer{Local: bob, Remote: alice}
	roomPeer := Peer{Local: bob, Remote: focus, RemoteFocus: true}
	cpimFrom := func(inner string) []byte {
		return []byte("From: <sip:carol@example.com>\r\nTo: <sip:bob@example.com>\r\n\r\n" + inner)
	}
	tests := []struct {
		name        string
		contentType string
		data        []byte
		peer        Peer
		wantErr     error
		wantStatus  int
		check       func(t *testing.T, in Incoming)
	}{
		{name: "plain text", contentType: `text/plain; charset="utf8"`, data: []byte("hi"), peer: me, check: func(t *testing.T, in Incoming) {
			m := in.Message.Message
			if m.Sender != alice || m.ContentType != "text/plain" || string(m.Content) != "hi" || !m.Timestamp.Equal(now) {
				t.Fatalf("%+v", m)
			}
		}},
		{name: "unwanted type", contentType: "application/pdf", data: []byte("%PDF"), peer: me, wantErr: ErrUnwanted, wantStatus: 413},
		{name: "broken CPIM", contentType: "message/cpim", data: []byte("From <garbage\r\n"), peer: me, wantErr: ErrCPIMParse, wantStatus: 400},
		{name: "unwanted wrapped type", contentType: "message/cpim", data: cpimFrom("Content-Type: application/pdf\r\n\r\n%PDF"), peer: me, wantErr: ErrUnwanted, wantStatus: 413},
		{name: "CPIM in CPIM", contentType: "message/cpim", data: cpimFrom("Content-Type: message/cpim\r\n\r\nx"), peer: me, wantErr: ErrUnwanted, wantStatus: 413},
		{name: "LF-only inner MIME as the reference writes it", contentType: "Message/CPIM", data: cpimFrom("MIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf8\"\nContent-Transfer-Encoding: \n\nhello"), peer: me,
			check: func(t *testing.T, in Incoming) {
				m := in.Message.Message
				if m.Sender != carol || string(m.Content) != "hello" || m.ContentType != "text/plain" || !m.Timestamp.Equal(now) {
					t.Fatalf("%+v", m)
				}
			}},
		{name: "CPIM without From is from the remote", contentType: "message/cpim", data: []byte("To: <sip:bob@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nx"), peer: me,
			check: func(t *testing.T, in Incoming) {
				if in.Message.Message.Sender != alice {
					t.Fatalf("sender %+v", in.Message.Message.Sender)
				}
			}},
		{name: "private message from a focus", contentType: "message/cpim", data: cpimFrom("Content-Type: text/plain\r\n\r\nsecret"), peer: roomPeer,
			check: func(t *testing.T, in Incoming) {
				if !in.Message.Private {
					t.Fatal("not private")
				}
			}},
		{name: "composing, bare", contentType: "application/im-iscomposing+xml", peer: me,
			data: []byte(`<?xml version="1.0"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><contenttype>text</contenttype></isComposing>`),
			check: func(t *testing.T, in Incoming) {
				c := in.Composing
				if c == nil || c.State != "active" || c.Refresh != 120 || c.Sender != alice || c.ContentType != "text" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "composing, broken", contentType: "application/im-iscomposing+xml", data: []byte("<nope"), peer: me, wantErr: ErrComposingParse, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Decode(tt.contentType, tt.data, "m1", tt.peer, now)
			if code, _ := Status(err); tt.wantErr != nil && code != tt.wantStatus {
				t.Fatalf("status %d, want %d", code, tt.wantStatus)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (in.Message == nil) == (in.Composing == nil) {
				t.Fatalf("want exactly one of message and composing: %+v", in)
			}
			tt.check(t, in)
		})
	}
}

func TestComposingRoundTrip(t *testing.T) {
	receiver := sdkPeer()
	receiver.Local, receiver.Remote = bob, alice
	for _, state := range []string{"active", "idle", "bogus"} {
		b, err := EncodeComposing(chat.ComposingIndication{State: state, Refresh: 30, LastActive: when}, sdkPeer(), when)
		if err != nil {
			t.Fatal(err)
		}
		in, err := Decode(b.ContentType, b.Data, "c", receiver, when)
		if err != nil {
			t.Fatal(err)
		}
		want := state
		if state == "bogus" {
			want = "idle"
		}
		c := in.Composing
		if c == nil || c.State != want || c.Refresh != 30 || !c.LastActive.Equal(when) || c.Sender != alice {
			t.Fatalf("%s: %+v", state, c)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		err     error
		code    int
		comment string
	}{
		{nil, 200, "OK"},
		{ErrUnwanted, 413, "Unwanted Message"},
		{ErrCPIMParse, 400, "CPIM Parser Error"},
		{ErrComposingParse, 400, "Bad Request"},
	}
	for _, tt := range tests {
		if code, comment := Status(tt.err); code != tt.code || comment != tt.comment {
			t.Errorf("Status(%v) = %d %q, want %d %q", tt.err, code, comment, tt.code, tt.comment)
		}
	}
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		types []string
		ct    string
		want  bool
	}{
		{[]string{"text/*"}, "text/plain; charset=utf8", true},
		{[]string{"text/*"}, "TEXT/HTML", true},
		{[]string{"message/cpim"}, "Message/CPIM", true},
		{[]string{"*"}, "application/pdf", true},
		{[]string{"text/plain"}, "text/html", false},
		{[]string{"text/*"}, "textual/plain", false},
		{nil, "text/plain", false},
	}
	for _, tt := range tests {
		if got := Accepts(tt.types, tt.ct); got != tt.want {
			t.Errorf("Accepts(%q, %q) = %v", tt.types, tt.ct, got)
		}
	}
}
