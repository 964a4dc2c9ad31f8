package echostream

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

func TestManifest(t *testing.T) {
	m := Plugin("1.2.3").Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.2.3" || len(m.StreamTypes) != 1 || !slices.Equal(m.Methods, []string{MethodTick}) {
		t.Fatalf("manifest %+v", m)
	}
	st := m.StreamTypes[0]
	if st.Type != Type || st.Priority != Priority || !st.HoldSupported {
		t.Fatalf("stream type %+v", st)
	}
	if !slices.Equal(st.Match.Media, []string{"application"}) || !slices.Equal(st.Match.Protos, []string{"UDP"}) ||
		!slices.Equal(st.Match.Formats, []string{Format}) {
		t.Fatalf("match rule %+v", st.Match)
	}
}

func TestPingEcho(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			if ip == "::1" {
				skipWithoutIPv6(t)
			}
			a, b := call(t, ip)
			offer := a.offer(t)
			wantC := "c=IN IP4 " + ip
			if strings.Contains(ip, ":") {
				wantC = "c=IN IP6 " + ip
			}
			if !strings.Contains(offer, "m=application ") || !strings.Contains(offer, " UDP x-sipstreams-echo\r\n") ||
				!strings.Contains(offer, wantC+"\r\n") || !strings.Contains(offer, "a=sendrecv\r\n") {
				t.Fatalf("offer %q", offer)
			}

			seq, err := Send(a.ctx, a.s, "hello")
			if err != nil || seq != 1 {
				t.Fatalf("Send = %d, %v", seq, err)
			}
			var ping GotPingData
			if err := b.waitFor(t, b.h, GotPingNotification).Decode(&ping); err != nil {
				t.Fatal(err)
			}
			want := GotPingData{Seq: 1, Payload: "hello", From: a.localAddr(t).String(), Answered: true}
			if ping != want {
				t.Fatalf("ping %+v, want %+v", ping, want)
			}
			var echo GotEchoData
			if err := a.waitFor(t, a.h, GotEchoNotification).Decode(&echo); err != nil {
				t.Fatal(err)
			}
			if echo.Seq != 1 || echo.Payload != "hello" || echo.From != b.localAddr(t).String() || echo.RTTNanos < 0 {
				t.Fatalf("echo %+v", echo)
			}

			if seq, err := Send(a.ctx, a.s, ""); err != nil || seq != 2 {
				t.Fatalf("second Send = %d, %v", seq, err)
			}
			a.waitFor(t, a.h, GotEchoNotification)

			ca := a.stats(t, func(c Counters) bool { return true })
			if want := (Counters{PacketsSent: 2, PacketsReceived: 2, PingsSent: 2, EchoesReceived: 2}); ca != want {
				t.Errorf("a counters %+v, want %+v", ca, want)
			}
			cb := b.stats(t, func(c Counters) bool { return true })
			if want := (Counters{PacketsSent: 2, PacketsReceived: 2, PingsReceived: 2}); cb != want {
				t.Errorf("b counters %+v, want %+v", cb, want)
			}
			attrs, own := a.attributes(t)
			if !attrs.HoldSupported || attrs.OnHold() || own.Direction != "sendrecv" ||
				own.RemoteAddress != b.localAddr(t).String() || own.Counters != ca {
				t.Errorf("a attributes %+v %+v", attrs, own)
			}
			// The Extra keys are the documented ones.
			var extra map[string]any
			if err := json.Unmarshal(attrs.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"local_address", "remote_address", "direction", "packets_sent", "packets_received", "bad_packets"} {
				if _, ok := extra[k]; !ok {
					t.Errorf("attributes lack %q: %s", k, attrs.Extra)
				}
			}
		})
	}
}

func skipWithoutIPv6(t *testing.T) {
	t.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_ = c.Close()
}

type holdFlags struct{ local, remote bool }

// holdStep is one re-INVITE: first an optional hold request ("a hold", "b
// unhold"), then an offer by offerer answered by the other side.
type holdStep struct {
	do            string
	offerer       string
	offer, answer sdk.MediaDirection
	a, b          holdFlags
	aSends        bool
	bSends        bool
}

func TestHoldMatrix(t *testing.T) {
	none, local, remote, both := holdFlags{}, holdFlags{local: true}, holdFlags{remote: true}, holdFlags{true, true}
	scenarios := []struct {
		name  string
		steps []holdStep
	}{
		{"local hold and unhold", []holdStep{
			{do: "a hold", offerer: "a", offer: "sendonly", answer: "recvonly", a: local, b: remote},
			{do: "a unhold", offerer: "a", offer: "sendrecv", answer: "sendrecv", a: none, b: none, aSends: true, bSends: true},
		}},
		{"remote hold, re-offer by the held side", []holdStep{
			{do: "b hold", offerer: "b", offer: "sendonly", answer: "recvonly", a: remote, b: local},
			{offerer: "a", offer: "recvonly", answer: "sendonly", a: remote, b: local},
			{do: "b unhold", offerer: "b", offer: "sendrecv", answer: "sendrecv", a: none, b: none, aSends: true, bSends: true},
		}},
		{"both hold", []holdStep{
			{do: "a hold", offerer: "a", offer: "sendonly", answer: "recvonly", a: local, b: remote},
			// inactive keeps b's previous local flag, as _check_hold does.
			{do: "b hold", offerer: "b", offer: "inactive", answer: "inactive", a: both, b: remote},
			{do: "a unhold", offerer: "a", offer: "recvonly", answer: "sendonly", a: remote, b: local},
			{do: "b unhold", offerer: "b", offer: "sendrecv", answer: "sendrecv", a: none, b: none, aSends: true, bSends: true},
		}},
		{"hold request waits for our next offer", []holdStep{
			{do: "a hold", offerer: "b", offer: "sendrecv", answer: "sendrecv", a: none, b: none, bSends: true},
			{offerer: "a", offer: "sendonly", answer: "recvonly", a: local, b: remote},
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			a, b := call(t, "127.0.0.1")
			peers := map[string]*peer{"a": a, "b": b}
			prev := map[string]holdFlags{"a": none, "b": none}
			a.drain(t)
			b.drain(t)
			for i, st := range sc.steps {
				if st.do != "" {
					who, action, _ := strings.Cut(st.do, " ")
					p := peers[who]
					var err error
					if action == "hold" {
						err = p.s.Hold(p.ctx)
					} else {
						err = p.s.Unhold(p.ctx)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				from, to := a, b
				if st.offerer == "b" {
					from, to = b, a
				}
				offer, answer := renegotiate(t, from, to)
				if got := mediaDirection(t, offer, 0); got != st.offer {
					t.Errorf("step %d (%s): %s offered %s, want %s", i, st.do, from.name, got, st.offer)
				}
				if got := mediaDirection(t, answer, 0); got != st.answer {
					t.Errorf("step %d (%s): %s answered %s, want %s", i, st.do, to.name, got, st.answer)
				}
				for _, c := range []struct {
					p     *peer
					want  holdFlags
					sends bool
				}{{a, st.a, st.aSends}, {b, st.b, st.bSends}} {
					attrs, _ := c.p.attributes(t)
					if got := (holdFlags{attrs.OnHoldByLocal, attrs.OnHoldByRemote}); got != c.want {
						t.Errorf("step %d (%s): %s hold flags %+v, want %+v", i, st.do, c.p.name, got, c.want)
					}
					// A change of each flag posts one notification.
					var wantNotes []HoldStateData
					was := prev[c.p.name]
					if was.local != c.want.local {
						wantNotes = append(wantNotes, HoldStateData{Originator: "local", OnHold: c.want.local})
					}
					if was.remote != c.want.remote {
						wantNotes = append(wantNotes, HoldStateData{Originator: "remote", OnHold: c.want.remote})
					}
					prev[c.p.name] = c.want
					var gotNotes []HoldStateData
					for _, n := range c.p.drain(t) {
						if n.Name == HoldStateNotification {
							var d HoldStateData
							if err := n.Decode(&d); err != nil {
								t.Fatal(err)
							}
							gotNotes = append(gotNotes, d)
						}
					}
					if !slices.Equal(gotNotes, wantNotes) {
						t.Errorf("step %d (%s): %s hold notifications %+v, want %+v", i, st.do, c.p.name, gotNotes, wantNotes)
					}
					_, err := Send(c.p.ctx, c.p.s, "probe")
					if c.sends && err != nil {
						t.Errorf("step %d (%s): %s Send: %v", i, st.do, c.p.name, err)
					}
					if !c.sends {
						if err == nil {
							t.Errorf("step %d (%s): %s could send while held", i, st.do, c.p.name)
						}
						wantErr(t, err, sdk.ErrIllegalState)
					}
				}
			}
		})
	}
}

// TestHeldPingsNotAnswered: a held stream still receives pings but does not
// answer them.
func TestHeldPingsNotAnswered(t *testing.T) {
	a, b := call(t, "127.0.0.1")
	if err := b.s.Hold(b.ctx); err != nil {
		t.Fatal(err)
	}
	renegotiate(t, b, a)
	raw := newRawSocket(t, "127.0.0.1")
	for _, p := range []*peer{a, b} { // a is receive-only, b holds
		raw.send(p.localAddr(t), Datagram{KindPing, 9, "anyone"}.Marshal())
		var ping GotPingData
		if err := p.waitFor(t, p.h, GotPingNotification).Decode(&ping); err != nil {
			t.Fatal(err)
		}
		if ping.Answered || ping.Seq != 9 || ping.From != raw.addr().String() {
			t.Errorf("%s: ping %+v", p.name, ping)
		}
		if c := p.stats(t, func(Counters) bool { return true }); c.PacketsSent != 0 {
			t.Errorf("%s answered while held: %+v", p.name, c)
		}
	}
}

func TestGarbageDatagrams(t *testing.T) {
	_, b := call(t, "127.0.0.1")
	raw := newRawSocket(t, "127.0.0.1")
	to := b.localAddr(t)
	garbage := [][]byte{
		{},
		[]byte("PING"),
		[]byte("PING x y"),
		[]byte("ping 1 lower case"),
		[]byte("PONG 77 an echo of nothing we sent"),
		{0xff, 0xfe, 0x00},
		[]byte("PING 1 \xff"),
		bytes.Repeat([]byte("PING 1 "), 9000),
	}
	for _, g := range garbage {
		raw.send(to, g)
	}
	raw.send(to, Datagram{KindPing, 5, "still alive"}.Marshal())
	if d := raw.recv(); d != (Datagram{KindPong, 5, "still alive"}) {
		t.Fatalf("got %+v", d)
	}
	c := b.stats(t, func(c Counters) bool { return c.PacketsReceived == uint64(len(garbage)+1) })
	if c.BadPackets != uint64(len(garbage)) || c.PingsReceived != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// TestOldStyleHold: an answer with c=0.0.0.0 holds us old-style (reference
// §3.5): we only receive.
func TestOldStyleHold(t *testing.T) {
	a := newPeer(t, "a", "127.0.0.1")
	a.create(t)
	offer := a.offer(t)
	answer := sessionSDP("127.0.0.1", "m=application 9 UDP x-sipstreams-echo\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n")
	a.start(t, offer, answer)
	attrs, own := a.attributes(t)
	if own.Direction != "recvonly" || !attrs.OnHoldByRemote || attrs.OnHoldByLocal || own.RemoteAddress != "" {
		t.Fatalf("attributes %+v %+v", attrs, own)
	}
	_, err := Send(a.ctx, a.s, "x")
	wantErr(t, err, sdk.ErrIllegalState)
	// Answering an old-style hold offer, we only receive.
	b := newPeer(t, "b", "127.0.0.1")
	held := sessionSDP("127.0.0.1", "m=application 9 UDP x-sipstreams-echo\r\nc=IN IP4 0.0.0.0\r\n")
	b.accept(t, held)
	if got := mediaDirection(t, b.answer(t, held), 0); got != "recvonly" {
		t.Fatalf("answer to an old-style hold: %s", got)
	}
}

func TestUpdateRebindsPeer(t *testing.T) {
	a, _ := call(t, "127.0.0.1")
	raw := newRawSocket(t, "127.0.0.1")
	offer := a.offer(t)
	moved := sessionSDP("127.0.0.1", "m=application "+strconv.Itoa(int(raw.addr().Port()))+" UDP x-sipstreams-echo\r\nc=IN IP4 127.0.0.1\r\na=sendrecv\r\n")
	a.update(t, offer, moved)
	if _, own := a.attributes(t); own.RemoteAddress != raw.addr().String() {
		t.Fatalf("remote address %q, want %s", own.RemoteAddress, raw.addr())
	}
	seq, err := Send(a.ctx, a.s, "moved")
	if err != nil {
		t.Fatal(err)
	}
	d := raw.recv()
	if d != (Datagram{KindPing, seq, "moved"}) {
		t.Fatalf("raw got %+v", d)
	}
	d.Kind = KindPong
	raw.send(a.localAddr(t), d.Marshal())
	var echo GotEchoData
	if err := a.waitFor(t, a.h, GotEchoNotification).Decode(&echo); err != nil {
		t.Fatal(err)
	}
	if echo.Seq != seq || echo.From != raw.addr().String() {
		t.Fatalf("echo %+v", echo)
	}
	// The re-INVITE that removes the stream changes nothing.
	removed := sessionSDP("127.0.0.1", "m=application 0 UDP x-sipstreams-echo\r\n")
	a.update(t, offer, removed)
	if _, own := a.attributes(t); own.RemoteAddress != raw.addr().String() {
		t.Fatalf("remote address %q after removal", own.RemoteAddress)
	}
	// A malformed update is refused.
	err = a.s.Update(a.ctx, &sdk.UpdateRequest{LocalSDP: offer, RemoteSDP: "garbage"})
	wantErr(t, err, sdk.ErrInvalidStream)
}

const echoLine = "m=application 40000 UDP x-sipstreams-echo\r\n"

func TestNewFromSDP(t *testing.T) {
	tests := []struct {
		name  string
		sdp   string
		index int
		want  error // nil: accepted
	}{
		{"valid", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 127.0.0.1\r\n"), 0, nil},
		{"session-level c=", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + echoLine, 0, nil},
		{"ipv6", sessionSDP("::1", echoLine+"c=IN IP6 ::1\r\n"), 0, nil},
		{"second m-line", sessionSDP("127.0.0.1", "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n", echoLine+"c=IN IP4 127.0.0.1\r\n"), 1, nil},
		{"port 0", sessionSDP("127.0.0.1", "m=application 0 UDP x-sipstreams-echo\r\nc=IN IP4 127.0.0.1\r\n"), 0, sdk.ErrInvalidStream},
		{"hostname", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 host.example.com\r\n"), 0, sdk.ErrInvalidStream},
		{"no connection address", sessionSDP("127.0.0.1", echoLine), 0, sdk.ErrInvalidStream},
		{"other media", sessionSDP("127.0.0.1", "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n"), 0, sdk.ErrUnknownStream},
		{"other format", sessionSDP("127.0.0.1", "m=application 5000 UDP other\r\nc=IN IP4 127.0.0.1\r\n"), 0, sdk.ErrUnknownStream},
		{"other proto", sessionSDP("127.0.0.1", "m=application 5000 TCP x-sipstreams-echo\r\nc=IN IP4 127.0.0.1\r\n"), 0, sdk.ErrUnknownStream},
		{"malformed", "not sdp", 0, sdk.ErrInvalidStream},
		{"index out of range", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 127.0.0.1\r\n"), 1, sdk.ErrInvalidStream},
	}
	p := newPeer(t, "p", "127.0.0.1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := p.p.NewFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: tt.sdp, StreamIndex: tt.index})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if err := o.Stream.End(p.ctx); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tt.want)
		})
	}
	// The factory is correct on its own too, without the provider's
	// prefilter.
	_, err := newFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: tests[7].sdp}, &sdk.Env{Notifier: streamtest.NewRecorder()})
	wantErr(t, err, sdk.ErrUnknownStream)
}

func TestValidateUpdate(t *testing.T) {
	a, _ := call(t, "127.0.0.1")
	tests := []struct {
		name  string
		sdp   string
		index int
		want  bool
	}{
		{"valid", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 127.0.0.1\r\na=sendonly\r\n"), 0, true},
		{"removal", sessionSDP("127.0.0.1", "m=application 0 UDP x-sipstreams-echo\r\n"), 0, true},
		{"other media", sessionSDP("127.0.0.1", "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n"), 0, false},
		{"hostname", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 host.example.com\r\n"), 0, false},
		{"malformed", "garbage", 0, false},
		{"empty", "", 0, false},
		{"index out of range", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 127.0.0.1\r\n"), 3, false},
	}
	before, beforeOwn := a.attributes(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.s.ValidateUpdate(a.ctx, &sdk.ValidateUpdateRequest{RemoteSDP: tt.sdp, StreamIndex: tt.index})
			if err != nil || res.OK != tt.want {
				t.Fatalf("ValidateUpdate = %+v, %v; want %t", res, err, tt.want)
			}
		})
	}
	after, afterOwn := a.attributes(t)
	if before.OnHoldByLocal != after.OnHoldByLocal || before.OnHoldByRemote != after.OnHoldByRemote || beforeOwn != afterOwn {
		t.Fatalf("ValidateUpdate changed the stream: %+v %+v → %+v %+v", before, beforeOwn, after, afterOwn)
	}
}

func TestSendRefused(t *testing.T) {
	p := newPeer(t, "p", "127.0.0.1")
	p.create(t)
	_, err := Send(p.ctx, p.s, "too early")
	wantErr(t, err, sdk.ErrIllegalState)

	a, _ := call(t, "127.0.0.1")
	_, err = Send(a.ctx, a.s, strings.Repeat("x", MaxPayload+1))
	wantErr(t, err, sdk.ErrInvalidArgument)
	if err := a.s.Hold(a.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = Send(a.ctx, a.s, "held")
	wantErr(t, err, sdk.ErrIllegalState)
	if err := a.s.Unhold(a.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Send(a.ctx, a.s, "resumed"); err != nil {
		t.Fatal(err)
	}
	if err := a.s.Deactivate(a.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = Send(a.ctx, a.s, "deactivated")
	wantErr(t, err, sdk.ErrIllegalState)
	if err := a.s.End(a.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = Send(a.ctx, a.s, "ended")
	wantErr(t, err, sdk.ErrStreamNotFound)
}

func TestInvokeErrors(t *testing.T) {
	a, _ := call(t, "127.0.0.1")
	_, err := a.s.Invoke(a.ctx, &sdk.InvokeRequest{Method: "no_such_method"})
	wantErr(t, err, sdk.ErrUnknownMethod)
	_, err = a.s.Invoke(a.ctx, &sdk.InvokeRequest{Method: MethodSend, Args: json.RawMessage(`{"payload": 5}`)})
	wantErr(t, err, sdk.ErrInvalidArgument)
	_, err = a.p.Invoke(a.ctx, &sdk.InvokeRequest{Method: MethodSend})
	wantErr(t, err, sdk.ErrUnknownMethod)
}

// TestEnd: End posts MediaStreamWillEnd then MediaStreamDidEnd, stops the
// reader (goleak checks it) and is final.
func TestEnd(t *testing.T) {
	a, b := call(t, "127.0.0.1")
	if err := b.s.Deactivate(b.ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{a, b} {
		p.drain(t)
		if err := p.s.End(p.ctx); err != nil {
			t.Fatal(err)
		}
		notes := p.drain(t)
		if len(notes) != 2 || notes[0].Name != sdk.MediaStreamWillEnd || notes[1].Name != sdk.MediaStreamDidEnd {
			t.Fatalf("%s: notifications %v", p.name, notes)
		}
		var d sdk.DidEndData
		if err := notes[1].Decode(&d); err != nil || d.Error != "" {
			t.Fatalf("%s: DidEnd %+v, %v", p.name, d, err)
		}
		wantErr(t, p.s.End(p.ctx), sdk.ErrStreamNotFound)
	}
}

func TestEndBeforeInitialize(t *testing.T) {
	p := newPeer(t, "p", "127.0.0.1")
	offer := sessionSDP("127.0.0.1", echoLine+"c=IN IP4 127.0.0.1\r\n")
	for _, open := range []func() (*sdk.Opened, error){
		func() (*sdk.Opened, error) { return p.p.Create(p.ctx, &sdk.CreateRequest{Type: Type}) },
		func() (*sdk.Opened, error) { return p.p.NewFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer}) },
	} {
		o, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Stream.End(p.ctx); err != nil {
			t.Fatal(err)
		}
		notes := p.drain(t)
		if len(notes) != 1 || notes[0].Name != sdk.MediaStreamDidNotInitialize || notes[0].Handle != o.Handle {
			t.Fatalf("notifications %v", notes)
		}
		var d sdk.DidNotInitializeData
		if err := notes[0].Decode(&d); err != nil || d.Reason != "Interrupted" {
			t.Fatalf("data %+v, %v", d, err)
		}
	}
}

func newTestStream(account *sdk.Account) (*stream, *streamtest.Recorder) {
	rec := streamtest.NewRecorder(streamtest.WithTimeout(testTimeout))
	env := &sdk.Env{Handle: 1, Notifier: rec, Logger: slog.New(slog.DiscardHandler)}
	return newStream(env, account), rec
}

func TestInitializeFailure(t *testing.T) {
	busy := newRawSocket(t, "127.0.0.1")
	tests := []struct {
		name    string
		localIP string
		port    string
	}{
		{"not an IP", "host.example.com", ""},
		{"unspecified", "0.0.0.0", ""},
		{"not local", "192.0.2.1", ""},
		{"bad port setting", "127.0.0.1", "http"},
		{"port out of range", "127.0.0.1", "70000"},
		{"port in use", "127.0.0.1", strconv.Itoa(int(busy.addr().Port()))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var account *sdk.Account
			if tt.port != "" {
				account = &sdk.Account{Settings: map[string]string{SettingPort: tt.port}}
			}
			s, rec := newTestStream(account)
			ctx := t.Context()
			if err := s.Initialize(ctx, &sdk.InitializeRequest{Session: &sdk.SessionInfo{LocalIP: tt.localIP}}); err != nil {
				t.Fatal(err)
			}
			if got := rec.Names(0); !slices.Equal(got, []string{sdk.MediaStreamDidNotInitialize}) {
				t.Fatalf("notifications %v", got)
			}
			var d sdk.DidNotInitializeData
			if err := rec.All()[0].Decode(&d); err != nil || d.Reason == "" {
				t.Fatalf("reason %+v, %v", d, err)
			}
			wantErr(t, s.Initialize(ctx, &sdk.InitializeRequest{}), sdk.ErrIllegalState)
			// End still gives the stream a proper end, with the reason.
			if err := s.End(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.End(ctx); err != nil {
				t.Fatal(err)
			}
			want := []string{sdk.MediaStreamDidNotInitialize, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}
			if got := rec.Names(0); !slices.Equal(got, want) {
				t.Fatalf("notifications %v, want %v", got, want)
			}
			var end sdk.DidEndData
			if err := rec.All()[2].Decode(&end); err != nil || end.Error != d.Reason {
				t.Fatalf("DidEnd %+v, want error %q", end, d.Reason)
			}
		})
	}
}

func TestPortSetting(t *testing.T) {
	probe := newRawSocket(t, "127.0.0.1")
	port := probe.addr().Port()
	// Free the port for the stream; nothing else binds ports in this test.
	_ = probe.conn.Close()
	s, rec := newTestStream(&sdk.Account{Settings: map[string]string{SettingPort: strconv.Itoa(int(port))}})
	if err := s.Initialize(t.Context(), &sdk.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.End(context.Background()) }()
	if got := rec.Names(0); !slices.Equal(got, []string{sdk.MediaStreamDidInitialize}) {
		t.Fatalf("notifications %v", rec.Names(0))
	}
	if want := netip.AddrPortFrom(netip.MustParseAddr(sdk.DefaultLocalIP), port); s.local != want {
		t.Fatalf("bound %s, want %s", s.local, want)
	}
}

func TestStartFailure(t *testing.T) {
	tests := []struct {
		name   string
		answer string
	}{
		{"hostname", sessionSDP("127.0.0.1", echoLine+"c=IN IP4 host.example.com\r\n")},
		{"no connection address", sessionSDP("127.0.0.1", echoLine)},
		{"refused", sessionSDP("127.0.0.1", "m=application 0 UDP x-sipstreams-echo\r\n")},
		{"not echo", sessionSDP("127.0.0.1", "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n")},
		{"malformed", "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newPeer(t, "a", "127.0.0.1")
			a.create(t)
			offer := a.offer(t)
			if err := a.s.Start(a.ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: tt.answer}); err != nil {
				t.Fatal(err)
			}
			var fail sdk.DidFailData
			if err := a.waitFor(t, a.h, sdk.MediaStreamDidFail).Decode(&fail); err != nil {
				t.Fatal(err)
			}
			if fail.Context != "start" || fail.Reason == "" {
				t.Fatalf("DidFail %+v", fail)
			}
			wantErr(t, a.s.Start(a.ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: offer}), sdk.ErrIllegalState)
			_, err := Send(a.ctx, a.s, "x")
			wantErr(t, err, sdk.ErrIllegalState)
			if err := a.s.End(a.ctx); err != nil {
				t.Fatal(err)
			}
			var end sdk.DidEndData
			if err := a.waitFor(t, a.h, sdk.MediaStreamDidEnd).Decode(&end); err != nil || end.Error != fail.Reason {
				t.Fatalf("DidEnd %+v, want error %q", end, fail.Reason)
			}
		})
	}
}

func TestStateErrors(t *testing.T) {
	s, _ := newTestStream(nil)
	ctx := t.Context()
	_, err := s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	wantErr(t, err, sdk.ErrIllegalState)
	wantErr(t, s.Start(ctx, &sdk.StartRequest{}), sdk.ErrIllegalState)
	wantErr(t, s.Update(ctx, &sdk.UpdateRequest{}), sdk.ErrIllegalState)
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReset(t *testing.T) {
	a, b := call(t, "127.0.0.1")
	if err := a.s.Hold(a.ctx); err != nil {
		t.Fatal(err)
	}
	renegotiate(t, a, b)
	// The remote re-INVITEs without SDP: we must offer, and the offer keeps
	// our hold.
	if err := a.s.Reset(a.ctx, &sdk.ResetRequest{StreamIndex: 0}); err != nil {
		t.Fatal(err)
	}
	res, err := a.s.GetLocalMedia(a.ctx, &sdk.GetLocalMediaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mediaDirection(t, res.Media, 0); got != "sendonly" {
		t.Fatalf("offer after Reset: %s", got)
	}
}

func TestTick(t *testing.T) {
	p := newPeer(t, "p", "127.0.0.1")
	for _, tt := range []struct{ count, rate int }{{50, 0}, {3, 10000}, {0, 0}} {
		posted, err := Tick(p.ctx, p.p, tt.count, tt.rate)
		if err != nil || posted != tt.count {
			t.Fatalf("Tick(%d, %d) = %d, %v", tt.count, tt.rate, posted, err)
		}
		var lastSeq uint64
		var lastSent int64
		for i := 1; i <= tt.count; i++ {
			n := p.next(t)
			var d TickData
			if err := n.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if n.Name != TickNotification || n.Handle != 0 || d.Seq != i || n.Seq <= lastSeq || d.SentUnixNano < lastSent {
				t.Fatalf("tick %d: %+v %+v", i, n, d)
			}
			lastSeq, lastSent = n.Seq, d.SentUnixNano
		}
	}
	canceled, cancel := context.WithCancel(p.ctx)
	cancel()
	_, err := Tick(canceled, p.p, 5, 1)
	wantErr(t, err, context.Canceled)
	for _, bad := range []struct{ count, rate int }{{-1, 0}, {1, -1}, {MaxTickCount + 1, 0}} {
		_, err := Tick(p.ctx, p.p, bad.count, bad.rate)
		wantErr(t, err, sdk.ErrInvalidArgument)
	}
	_, err = p.p.Invoke(p.ctx, &sdk.InvokeRequest{Method: MethodTick, Args: json.RawMessage(`[]`)})
	wantErr(t, err, sdk.ErrInvalidArgument)
	// Nothing was posted by the refused or canceled calls.
	if notes := p.drain(t); len(notes) != 0 {
		t.Fatalf("stray notifications %v", notes)
	}
}
