package chat

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		in      string
		want    Identity
		wantErr bool
	}{
		{in: "sip:alice@example.com", want: Identity{URI: "sip:alice@example.com"}},
		{in: "<sip:alice@example.com>", want: Identity{URI: "sip:alice@example.com"}},
		{in: `"Alice Smith" <sip:alice@example.com>`, want: Identity{URI: "sip:alice@example.com", DisplayName: "Alice Smith"}},
		{in: `Alice <sip:alice@example.com>`, want: Identity{URI: "sip:alice@example.com", DisplayName: "Alice"}},
		{in: `"Alice" <sip:alice@example.com`, wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseIdentity(tt.in)
			if tt.wantErr {
				if !errors.Is(err, sdk.ErrInvalidArgument) {
					t.Fatalf("ParseIdentity(%q) = %+v, %v; want ErrInvalidArgument", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseIdentity(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			back, err := ParseIdentity(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip of %q via %q = %+v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestIdentityEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"sip:alice@example.com", "sip:alice@example.com", true},
		{"sip:alice@example.com", "sips:alice@EXAMPLE.com", true},
		{"sip:alice@example.com;transport=tls", "sip:alice@example.com:5061", true},
		{"sip:alice@example.com", "sip:Alice@example.com", false},
		{"sip:alice@example.com", "sip:bob@example.com", false},
		{"sip:alice@example.com", "sip:alice@example.org", false},
		{"sip:alice@[::1]:5060", "sip:alice@[::1]", true},
	}
	for _, tt := range tests {
		a, b := Identity{URI: tt.a, DisplayName: "A"}, Identity{URI: tt.b}
		if got := a.Equal(b); got != tt.want {
			t.Errorf("%q == %q: %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// recordingInvoker answers every Invoke with a fixed result and keeps the
// request.
type recordingInvoker struct {
	req    *sdk.InvokeRequest
	result any
	err    error
}

func (r *recordingInvoker) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	r.req = req
	if r.err != nil {
		return nil, r.err
	}
	raw, err := sdk.MarshalJSONValue(r.result)
	return &sdk.InvokeResponse{Result: raw}, err
}

func TestSendMessageMarshalsArguments(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 11, 12, 123456000, time.FixedZone("", 7200))
	m := Message{
		Content:            []byte("hello"),
		ContentType:        "text/html",
		Recipients:         []Identity{{URI: "sip:bob@example.com", DisplayName: "Bob"}},
		CourtesyRecipients: []Identity{{URI: "sip:carol@example.com"}},
		Subject:            "hi",
		Timestamp:          ts,
		Required:           []string{"x"},
		AdditionalHeaders:  []Header{{Namespace: "urn:x", Name: "N", Value: "v"}},
	}
	inv := &recordingInvoker{result: SendResult{MessageID: "abc123"}}
	id, err := SendMessage(context.Background(), inv, m)
	if err != nil || id != "abc123" {
		t.Fatalf("SendMessage = %q, %v", id, err)
	}
	if inv.req.Method != MethodSendMessage {
		t.Fatalf("method %q", inv.req.Method)
	}
	var back Message
	if err := json.Unmarshal(inv.req.Args, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(ts) {
		t.Fatalf("timestamp %v, want %v", back.Timestamp, ts)
	}
	back.Timestamp = ts
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("args round trip:\n got %+v\nwant %+v", back, m)
	}
}

func TestSendMessageOmitsUnsetFields(t *testing.T) {
	inv := &recordingInvoker{result: SendResult{MessageID: "1"}}
	if _, err := SendMessage(context.Background(), inv, Message{Content: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(inv.req.Args), `{"content":"eA=="}`; got != want {
		t.Fatalf("args %s, want %s", got, want)
	}
}

func TestSendMessagesMarshalsArguments(t *testing.T) {
	inv := &recordingInvoker{result: SendMessagesResult{MessageIDs: []string{"a1", "a2"}}}
	ids, err := SendMessages(context.Background(), inv, []Message{{Content: []byte("x")}, {Content: []byte("y"), Subject: "s"}})
	if err != nil || !reflect.DeepEqual(ids, []string{"a1", "a2"}) {
		t.Fatalf("SendMessages = %q, %v", ids, err)
	}
	if got, want := string(inv.req.Args), `{"messages":[{"content":"eA=="},{"content":"eQ==","subject":"s"}]}`; inv.req.Method != MethodSendMessages || got != want {
		t.Fatalf("request %s %s, want %s %s", inv.req.Method, got, MethodSendMessages, want)
	}
	inv.err = sdk.Errorf(sdk.ErrInvalidArgument, "message 1: no")
	if _, err := SendMessages(context.Background(), inv, []Message{{}, {}}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("err %v, want ErrInvalidArgument", err)
	}
}

func TestSendComposingIndication(t *testing.T) {
	inv := &recordingInvoker{result: SendResult{MessageID: "c1"}}
	id, err := SendComposingIndication(context.Background(), inv, StateActive, 60, time.Time{}, nil)
	if err != nil || id != "c1" {
		t.Fatalf("= %q, %v", id, err)
	}
	if inv.req.Method != MethodSendComposingIndication || string(inv.req.Args) != `{"state":"active","refresh":60}` {
		t.Fatalf("request %s %s", inv.req.Method, inv.req.Args)
	}
}

func TestSendErrorsPassThrough(t *testing.T) {
	inv := &recordingInvoker{err: sdk.Errorf(sdk.ErrIllegalState, "stream ended")}
	if _, err := SendMessage(context.Background(), inv, Message{Content: []byte("x")}); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("err %v, want ErrIllegalState", err)
	}
}

func TestAcceptTypesAreFresh(t *testing.T) {
	a := AcceptTypes()
	a[0] = "mutated"
	if AcceptTypes()[0] != ContentTypeCPIM {
		t.Fatal("AcceptTypes shares its slice")
	}
}

func TestSetLocalNickname(t *testing.T) {
	tests := []struct {
		nick, args string
	}{
		{"Alice", `{"nickname":"Alice"}`},
		{"", `{"nickname":""}`},
		{`a "b"`, `{"nickname":"a \"b\""}`},
	}
	for _, tt := range tests {
		inv := &recordingInvoker{result: SendResult{MessageID: "n1"}}
		id, err := SetLocalNickname(context.Background(), inv, tt.nick)
		if err != nil || id != "n1" {
			t.Fatalf("SetLocalNickname(%q) = %q, %v", tt.nick, id, err)
		}
		if inv.req.Method != MethodSetLocalNickname || string(inv.req.Args) != tt.args {
			t.Fatalf("request %s %s, want %s", inv.req.Method, inv.req.Args, tt.args)
		}
	}
	inv := &recordingInvoker{err: sdk.Errorf(sdk.ErrIllegalState, "%s", ReasonNicknameNotSupported)}
	if _, err := SetLocalNickname(context.Background(), inv, "x"); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("err %v, want ErrIllegalState", err)
	}
}

func TestNicknameDataJSON(t *testing.T) {
	raw, err := json.Marshal(NicknameData{MessageID: "m1", Nickname: "Alice", Code: 425, Reason: "Nickname reserved or already in use"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"message_id":"m1","nickname":"Alice","code":425,"reason":"Nickname reserved or already in use"}`
	if string(raw) != want {
		t.Fatalf("%s, want %s", raw, want)
	}
}
