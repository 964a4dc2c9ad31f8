package msrpstream

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrp/msrptest"
)

func startTestRelay(t *testing.T) *msrptest.Relay {
	t.Helper()
	r, err := msrptest.StartRelay(msrptest.RelayConfig{Username: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func relaySettings(r *msrptest.Relay, password string, extra ...string) map[string]string {
	s := map[string]string{
		SettingTransport:    "tcp",
		SettingRelay:        r.Setting(),
		SettingAuthUsername: "alice",
		SettingAuthPassword: password,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

// TestBaseThroughRelay: one account has a relay and waits behind it, the
// other connects to the relay path; messages go both ways through the
// msrptest relay, which saw the AUTH exchange and forwarded the SENDs.
func TestBaseThroughRelay(t *testing.T) {
	tests := []struct {
		name          string
		offer, answer func(r *msrptest.Relay) map[string]string
		relayed       func(o, a *endpoint) *endpoint
		wantRelayRole Role // the relayed end's role after Start
	}{
		{
			name:          "answerer behind the relay, active offer",
			offer:         func(*msrptest.Relay) map[string]string { return map[string]string{SettingTransport: "tcp"} },
			answer:        func(r *msrptest.Relay) map[string]string { return relaySettings(r, "secret") },
			relayed:       func(_, a *endpoint) *endpoint { return a },
			wantRelayRole: Role{Relay, SetupPassive},
		},
		{
			name: "offerer using the relay for outbound",
			offer: func(r *msrptest.Relay) map[string]string {
				return relaySettings(r, "secret", SettingRelayForOutbound, "true", SettingConnectionModel, "relay")
			},
			answer:        func(*msrptest.Relay) map[string]string { return map[string]string{SettingTransport: "tcp"} },
			relayed:       func(o, _ *endpoint) *endpoint { return o },
			wantRelayRole: Role{Relay, SetupPassive},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startTestRelay(t)
			o, a := negotiate(t, tt.offer(r), tt.answer(r))
			e := tt.relayed(o, a)
			if got := e.base.Role(); got != tt.wantRelayRole {
				t.Fatalf("role %+v, want %+v", got, tt.wantRelayRole)
			}
			m, err := e.base.LocalMedia()
			if err != nil {
				t.Fatal(err)
			}
			relayURI := r.URI()
			if len(m.Path) != 2 || m.Path[0].Host != relayURI.Host || m.Path[0].Port != relayURI.Port || m.Path[0].SessionID == "" {
				t.Fatalf("a=path %v does not start with the relay's Use-Path (relay %v)", m.Path, relayURI)
			}
			if s := e.base.Session(); s == nil || s.Conn().RemoteAddr().String() != r.Addr().String() {
				t.Fatalf("the relayed end's session does not run on the relay connection")
			}

			send(t, o, a, "hello answerer")
			send(t, a, o, "hello offerer")

			var auths []int
			sends := 0
			for _, rec := range r.Records() {
				switch {
				case rec.Method == msrp.MethodAUTH:
					auths = append(auths, rec.Status)
				case rec.Method == msrp.MethodSEND && rec.Forwarded:
					sends++
				}
			}
			if len(auths) != 2 || auths[0] != msrp.StatusUnauthorized || auths[1] != msrp.StatusOK {
				t.Fatalf("AUTH answers %v, want [401 200]", auths)
			}
			// The binding empty SEND and the two messages.
			if sends < 3 {
				t.Fatalf("relay forwarded %d SENDs, want at least 3: %+v", sends, r.Records())
			}
		})
	}
}

// TestBaseRelayRefused: a relay that refuses the credentials, or cannot
// be reached, fails initialization with a reason naming the relay.
func TestBaseRelayRefused(t *testing.T) {
	r := startTestRelay(t)
	closed := startTestRelay(t)
	closedSetting := closed.Setting()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		settings map[string]string
		want     []string
	}{
		{"wrong password", relaySettings(r, "wrong"), []string{"MSRP relay", "403"}},
		{"relay down", func() map[string]string {
			s := relaySettings(r, "secret")
			s[SettingRelay] = closedSetting
			return s
		}(), []string{"MSRP relay"}},
		{"transport mismatch", func() map[string]string {
			s := relaySettings(r, "secret")
			s[SettingRelay] = strings.Replace(r.Setting(), "transport=tcp", "transport=tls", 1)
			return s
		}(), []string{"relay transport tls differs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			offer := sessionHead + "m=message 2855 TCP/MSRP *\r\na=path:msrp://127.0.0.1:2855/peer;tcp\r\na=accept-types:text/plain\r\na=setup:active\r\n"
			rec := newRecorder()
			b, err := NewFromSDP(&sdk.NewFromSDPRequest{Account: account(tt.settings), RemoteSDP: offer}, newEnv(rec), chatConfig(make(chan []byte, 1)))
			if err != nil {
				t.Fatal(err)
			}
			defer b.End(ctx)
			if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
				t.Fatal(err)
			}
			n := rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)
			reason := data[sdk.DidNotInitializeData](t, n).Reason
			for _, w := range tt.want {
				if !strings.Contains(reason, w) {
					t.Fatalf("reason %q does not say %q", reason, w)
				}
			}
			t.Log(reason)
			if b.relay != nil {
				t.Fatal("the relay connection stays open after a failed initialization")
			}
		})
	}
}

// TestBaseRelayNotUsed: the relay is used only in the role table's
// RelayConnection rows; an account that connects out or listens does not
// AUTH at it.
func TestBaseRelayNotUsed(t *testing.T) {
	tcp := func(*msrptest.Relay) map[string]string { return map[string]string{SettingTransport: "tcp"} }
	tests := []struct {
		name          string
		offer, answer func(r *msrptest.Relay) map[string]string
	}{
		{"offerer connects out", func(r *msrptest.Relay) map[string]string { return relaySettings(r, "secret") }, tcp},
		{"answerer to an actpass offer",
			func(*msrptest.Relay) map[string]string {
				return map[string]string{SettingTransport: "tcp", SettingConnectionModel: "acm"}
			},
			func(r *msrptest.Relay) map[string]string { return relaySettings(r, "secret") }},
		{"acm model", tcp, func(r *msrptest.Relay) map[string]string {
			return relaySettings(r, "secret", SettingConnectionModel, "acm")
		}},
		{"peer-to-peer account",
			func(*msrptest.Relay) map[string]string {
				return map[string]string{SettingTransport: "tcp", SettingPeerToPeer: "true"}
			},
			func(r *msrptest.Relay) map[string]string {
				return relaySettings(r, "secret", SettingPeerToPeer, "true")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startTestRelay(t)
			o, a := negotiate(t, tt.offer(r), tt.answer(r))
			send(t, o, a, "direct")
			if recs := r.Records(); len(recs) != 0 {
				t.Fatalf("the relay was used: %+v", recs)
			}
		})
	}
}

func TestParseRelay(t *testing.T) {
	tests := []struct {
		in        string
		transport Transport
		want      string
		err       error
	}{
		{"relay.example.com", TransportTLS, "msrps://relay.example.com:2855;tcp", nil},
		{"relay.example.com:2856;transport=tcp", TransportTCP, "msrp://relay.example.com:2856;tcp", nil},
		{"192.0.2.1;transport=TLS", TransportTLS, "msrps://192.0.2.1:2855;tcp", nil},
		{"[2001:db8::1]:2855", TransportTCP, "msrp://[2001:db8::1]:2855;tcp", nil},
		{"relay.example.com;transport=tls", TransportTCP, "", sdk.ErrInvalidArgument},
		{"relay.example.com;transport=udp", TransportTCP, "", sdk.ErrInvalidArgument},
		{"relay.example.com;maddr=x", TransportTCP, "", sdk.ErrInvalidArgument},
		{"relay.example.com:0", TransportTCP, "", sdk.ErrInvalidArgument},
		{"relay.example.com:http", TransportTCP, "", sdk.ErrInvalidArgument},
		{"", TransportTCP, "", sdk.ErrInvalidArgument},
		{"user@relay", TransportTCP, "", sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRelay(tt.in, tt.transport)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestBaseBindsThroughRelay: an offer made behind the relay (actpass)
// answered passive makes the offerer bind through its relay, with To-Path
// = its Use-Path + the answer's path. The passive peer is a plain
// msrp.Relay client of the same relay.
func TestBaseBindsThroughRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	r := startTestRelay(t)
	got := make(chan []byte, 4)
	o := &endpoint{rec: newRecorder(), got: got}
	o.base = New(newEnv(o.rec), account(relaySettings(r, "secret", SettingRelayForOutbound, "true")), chatConfig(got))
	defer o.base.End(ctx)
	if err := o.base.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	o.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	offer := mustLocalMedia(t, o.base, &sdk.GetLocalMediaRequest{ForOffer: true})
	om, err := o.base.LocalMedia()
	if err != nil {
		t.Fatal(err)
	}
	if om.Setup != SetupActPass {
		t.Fatalf("offer a=setup:%s", om.Setup)
	}

	peer, err := msrp.ConnectRelay(ctx, msrp.RelayConfig{URI: r.URI(), Username: "alice", Password: "secret"}, msrp.Config{KeepAliveInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerGot := make(chan string, 1)
	pending, err := peer.Expect(om.Path, msrp.HandlerFuncs{Chunk: func(_ context.Context, c *msrp.Chunk) int {
		b, _ := io.ReadAll(c)
		if len(b) > 0 {
			peerGot <- string(b)
		}
		return msrp.StatusOK
	}})
	if err != nil {
		t.Fatal(err)
	}
	peerPath := append(peer.UsePath(), peer.LocalURI())
	answer := sessionHead + "m=message 2855 TCP/MSRP *\r\na=path:" + msrp.FormatPath(peerPath) +
		"\r\na=accept-types:text/plain\r\na=setup:passive\r\n"
	if err := o.base.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	o.rec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	if got := o.base.Role(); got != (Role{Relay, SetupActive}) {
		t.Fatalf("role %+v", got)
	}
	ps, err := pending.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := o.base.Send(ctx, msrp.Outgoing{ContentType: "text/plain", Body: strings.NewReader("via relay"), Size: 9})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := d.Wait(ctx); err != nil || res.Code != msrp.StatusOK {
		t.Fatalf("delivery %+v %v", res, err)
	}
	if s := <-peerGot; s != "via relay" {
		t.Fatalf("peer got %q", s)
	}
	if res, err := ps.SendMessage(ctx, "text/plain", []byte("back")); err != nil || res.Code != msrp.StatusOK {
		t.Fatalf("peer's SEND: %+v %v", res, err)
	}
	if b := <-got; string(b) != "back" {
		t.Fatalf("offerer got %q", b)
	}
	wantTo := msrp.FormatPath(append(append([]msrp.URI(nil), om.Path[0]), peerPath...))
	for _, rec := range r.Records() {
		if rec.Method == msrp.MethodSEND && rec.Forwarded {
			if rec.ToPath != wantTo {
				t.Fatalf("binding SEND To-Path %q, want %q", rec.ToPath, wantTo)
			}
			return
		}
	}
	t.Fatal("the relay forwarded no SEND")
}
