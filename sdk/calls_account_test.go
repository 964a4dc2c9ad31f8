package sdk

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func testAccount(id string, n int) *Account {
	s := map[string]string{}
	for i := range n {
		s["rtp.setting_"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "value"
	}
	return &Account{ID: id, URI: "sip:" + id, DisplayName: "Display " + id, Settings: s}
}

// The host encodes an account once while it stays the same and splices
// the bytes into each request; the plugin decodes them once and gives
// every request of the account the same Account. What is decoded is what
// was encoded, whatever changes.
func TestAccountCaches(t *testing.T) {
	var enc accountEncodings
	var dec accountDecodings
	roundTrip := func(what string, req proto.Message, fresh func() proto.Message) proto.Message {
		t.Helper()
		b, err := enc.marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		plain := fresh()
		if err := proto.Unmarshal(b, plain); err != nil || !proto.Equal(plain, req) {
			t.Fatalf("%s: the encoding decodes to %v (%v), want %v", what, plain, err, req)
		}
		got := fresh()
		if err := dec.unmarshal(b, got); err != nil || !proto.Equal(got, req) {
			t.Fatalf("%s: decoded %v (%v), want %v", what, got, err, req)
		}
		return got
	}
	newFromSDP := func() proto.Message { return &pb.NewFromSDPRequest{} }
	acc := testAccount("alice@example.com", 90)
	r1 := &pb.NewFromSDPRequest{Types: []string{"audio"}, Account: accountToProto(acc), RemoteSdp: "v=0\r\n", StreamIndex: 1}
	r2 := &pb.NewFromSDPRequest{Account: accountToProto(acc), RemoteSdp: "v=0 other\r\n"}
	g1 := roundTrip("first", r1, newFromSDP).(*pb.NewFromSDPRequest)
	g2 := roundTrip("second", r2, newFromSDP).(*pb.NewFromSDPRequest)
	if g1.Account != g2.Account {
		t.Error("two requests of one account decoded it twice")
	}
	if r1.Account == nil {
		t.Error("marshal left the request without its account")
	}
	c := roundTrip("create", &pb.CreateRequest{Type: "audio", Account: accountToProto(acc), Params: []byte("{}")}, func() proto.Message { return &pb.CreateRequest{} }).(*pb.CreateRequest)
	if c.Account != g1.Account {
		t.Error("a CreateRequest of the account decoded it again")
	}
	// The caller changes its settings map in place: the new value goes.
	acc.Settings["rtp.setting_aa"] = "changed"
	g3 := roundTrip("changed in place", &pb.NewFromSDPRequest{Account: accountToProto(acc)}, newFromSDP).(*pb.NewFromSDPRequest)
	if g3.Account.GetSettings()["rtp.setting_aa"] != "changed" || g3.Account == g1.Account {
		t.Fatalf("after a change: %v", g3.Account.GetSettings()["rtp.setting_aa"])
	}
	for _, tc := range []struct {
		name string
		acc  *Account
	}{
		{"another URI", &Account{ID: acc.ID, URI: "sip:other", Settings: acc.Settings}},
		{"no settings", &Account{ID: acc.ID}},
		{"another account", testAccount("bob@example.com", 3)},
	} {
		roundTrip(tc.name, &pb.NewFromSDPRequest{Account: accountToProto(tc.acc)}, newFromSDP)
	}
	roundTrip("no account", &pb.NewFromSDPRequest{RemoteSdp: "v=0\r\n"}, newFromSDP)
	roundTrip("other request", &pb.StartRequest{Handle: 3, LocalSdp: "x"}, func() proto.Message { return &pb.StartRequest{} })
	// More accounts than the caches keep: they start over, and still
	// encode and decode right.
	for i := range 3 * maxCachedAccounts {
		roundTrip("many", &pb.NewFromSDPRequest{Account: accountToProto(testAccount(string(rune('A'+i%50))+string(rune('a'+i/50)), 2))}, newFromSDP)
	}
	if len(enc.byID) > maxCachedAccounts || len(dec.byEnc) > maxCachedAccounts {
		t.Errorf("caches hold %d and %d accounts", len(enc.byID), len(dec.byEnc))
	}
}

// Over the Calls stream, the plugin's factories get the accounts the host
// sent, one Settings map per account while it stays the same.
func TestCallsAccounts(t *testing.T) {
	var mu sync.Mutex
	var seen []*Account
	record := func(a *Account) {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
	}
	typ := StreamType{
		Type: "a", Priority: 1, Match: MatchRule{Media: []string{"audio"}},
		NewFromSDP: func(_ context.Context, r *NewFromSDPRequest, env *Env) (Stream, error) {
			record(r.Account)
			return &fakeStream{env: env}, nil
		},
		Create: func(_ context.Context, r *CreateRequest, env *Env) (Stream, error) {
			record(r.Account)
			return &fakeStream{env: env}, nil
		},
	}
	lp := newLocal(t, testPlugin(typ))
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: NewGRPCPlugin(lp)})
	t.Cleanup(func() { _ = client.Close() })
	conn := &countingConn{cc: client.Conn}
	p := newGRPCProvider(conn)
	ctx := testCtx(t)
	if _, err := p.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	alice, bob := testAccount("alice@example.com", 90), testAccount("bob@example.com", 5)
	sent := []*Account{alice, alice, bob, alice}
	for i, a := range sent {
		var err error
		if i%2 == 0 {
			_, err = p.NewFromSDP(ctx, &NewFromSDPRequest{Account: a, RemoteSDP: audioOffer})
		} else {
			_, err = p.Create(ctx, &CreateRequest{Type: "a", Account: a})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := conn.get(); got["Calls"] != 1 || got["NewFromSDP"] != 0 || got["Create"] != 0 {
		t.Fatalf("RPCs %v: the calls did not go on the Calls stream", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, a := range seen {
		if !reflect.DeepEqual(a, sent[i]) {
			t.Errorf("call %d: the plugin got %+v, want %+v", i, a, sent[i])
		}
	}
	if reflect.ValueOf(seen[0].Settings).UnsafePointer() != reflect.ValueOf(seen[3].Settings).UnsafePointer() {
		t.Error("the plugin decoded alice's settings again")
	}
}

// FuzzAccountDecodings: whatever a request's encoding, the plugin's
// decoding of it is proto.Unmarshal's: the same message, or an error
// where proto.Unmarshal has one.
func FuzzAccountDecodings(f *testing.F) {
	var enc accountEncodings
	for _, m := range []proto.Message{
		&pb.NewFromSDPRequest{Types: []string{"audio"}, Account: accountToProto(testAccount("a", 4)), RemoteSdp: "v=0\r\n", StreamIndex: 2},
		&pb.NewFromSDPRequest{Account: &pb.Account{}},
		&pb.NewFromSDPRequest{},
	} {
		b, err := enc.marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		twice := protowire.AppendBytes(protowire.AppendTag(b, accountField, protowire.BytesType), []byte{0x0a, 0x01, 'b'})
		f.Add(twice)
	}
	f.Add([]byte{0x12, 0x03, 0x0a, 0x01})
	f.Add([]byte{0x10, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var dec accountDecodings
		want, got := &pb.NewFromSDPRequest{}, &pb.NewFromSDPRequest{}
		werr := proto.Unmarshal(b, want)
		gerr := dec.unmarshal(b, got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("proto.Unmarshal: %v, the cache: %v", werr, gerr)
		}
		if werr == nil && !proto.Equal(want, got) {
			t.Fatalf("decoded %v, proto.Unmarshal %v", got, want)
		}
	})
}
