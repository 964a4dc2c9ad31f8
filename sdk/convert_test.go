package sdk

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// wire sends m through the protobuf encoding, as gRPC does.
func wire[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip checks that from(to(v)) equals v, directly and through the wire.
func roundTrip[V any, M proto.Message](t *testing.T, name string, cases []V, to func(V) M, from func(M) V) {
	t.Helper()
	for i, v := range cases {
		if got := from(to(v)); !reflect.DeepEqual(got, v) {
			t.Errorf("%s case %d: round trip\ngot  %+v\nwant %+v", name, i, got, v)
		}
		if !to(v).ProtoReflect().IsValid() {
			continue // a nil message only travels as an unset field
		}
		if got := from(wire(t, to(v))); !reflect.DeepEqual(got, v) {
			t.Errorf("%s case %d: round trip over the wire\ngot  %+v\nwant %+v", name, i, got, v)
		}
	}
}

var fullMatch = MatchRule{
	Media:       []string{"audio", "video"},
	Protos:      []string{"RTP/AVP", "RTP/SAVP"},
	AcceptTypes: []string{"message/cpim"},
	RTPMapNames: []string{"opus", "PCMU"},
	Formats:     []string{"0", "8"},
}

var fullAccount = &Account{
	ID: "alice@example.com", URI: "sip:alice@example.com", DisplayName: "Alice",
	Settings: map[string]string{"rtp.port_range": "50000-50500", "msrp.transport": "tls"},
}

func TestConvertMatchRule(t *testing.T) {
	roundTrip(t, "MatchRule", []MatchRule{{}, fullMatch, {Media: []string{"message"}}}, matchToProto, matchFromProto)
	if got := matchFromProto(nil); !reflect.DeepEqual(got, MatchRule{}) {
		t.Errorf("matchFromProto(nil) = %+v", got)
	}
}

func TestConvertManifest(t *testing.T) {
	cases := []*Manifest{
		{},
		{
			Name: "audio", Version: "1.2.3", ContractMajor: ContractMajor, ContractMinor: ContractMinor,
			Capabilities: []string{"fused-start"},
			StreamTypes: []StreamTypeInfo{
				{Type: "audio", Priority: 1, HoldSupported: true, Match: fullMatch, Codecs: []string{"opus", "G722"}},
				{Type: "video", Priority: -3},
			},
			Methods: []string{"list_devices", "play_tone"},
		},
	}
	roundTrip(t, "Manifest", cases, manifestToProto, manifestFromProto)
}

func TestConvertAccount(t *testing.T) {
	roundTrip(t, "Account", []*Account{nil, {}, {ID: "x"}, fullAccount}, accountToProto, accountFromProto)
}

func TestConvertSessionInfo(t *testing.T) {
	cases := []*SessionInfo{nil, {}, {
		ID: "s1", Direction: DirectionIncoming, LocalIdentity: "sip:alice@example.com", RemoteIdentity: "sip:bob@example.com",
		LocalFocus: true, RemoteFocus: true, LocalIP: "2001:db8::1",
	}}
	roundTrip(t, "SessionInfo", cases, sessionToProto, sessionFromProto)
}

func TestConvertNewFromSDPRequest(t *testing.T) {
	cases := []*NewFromSDPRequest{
		{},
		{Types: []string{"file-transfer", "chat"}, Account: fullAccount, RemoteSDP: "v=0\r\n", StreamIndex: 3},
	}
	roundTrip(t, "NewFromSDPRequest", cases, newFromSDPToProto, newFromSDPFromProto)
}

func TestConvertCreateRequest(t *testing.T) {
	cases := []*CreateRequest{
		{},
		{Type: "file-transfer", Account: fullAccount, Params: json.RawMessage(`{"file":"a.txt","size":3}`)},
	}
	roundTrip(t, "CreateRequest", cases, createToProto, createFromProto)
}

func TestConvertAttributes(t *testing.T) {
	cases := []*Attributes{
		{},
		{HoldSupported: true, OnHoldByLocal: true, OnHoldByRemote: true, Extra: json.RawMessage(`{"codec":"opus"}`)},
		{HoldSupported: true, OnHoldByRemote: true},
	}
	roundTrip(t, "Attributes", cases, attributesToProto, attributesFromProto)
}

func TestConvertNotification(t *testing.T) {
	cases := []*Notification{
		{},
		{Handle: 7, Name: MediaStreamDidFail, Time: time.Unix(0, 1_700_000_000_123_456_789), Data: json.RawMessage(`{"context":"start","reason":"x"}`), Seq: 42},
		{Name: "EchoTick", Time: time.Unix(-5, 0)},
	}
	roundTrip(t, "Notification", cases, notificationToProto, notificationFromProto)
	// A zero time stays zero (not 1970).
	if got := notificationFromProto(notificationToProto(&Notification{})); !got.Time.IsZero() {
		t.Errorf("zero time became %v", got.Time)
	}
}

// The generated getters make the fromproto side safe on nil messages.
func TestConvertFromNilMessages(t *testing.T) {
	if m := manifestFromProto(nil); m.Name != "" || m.StreamTypes != nil {
		t.Errorf("manifestFromProto(nil) = %+v", m)
	}
	if r := newFromSDPFromProto(nil); r.Account != nil || r.RemoteSDP != "" {
		t.Errorf("newFromSDPFromProto(nil) = %+v", r)
	}
	if r := createFromProto(nil); r.Type != "" {
		t.Errorf("createFromProto(nil) = %+v", r)
	}
	if a := attributesFromProto(nil); a.HoldSupported {
		t.Errorf("attributesFromProto(nil) = %+v", a)
	}
	if n := notificationFromProto(nil); n.Name != "" {
		t.Errorf("notificationFromProto(nil) = %+v", n)
	}
}
