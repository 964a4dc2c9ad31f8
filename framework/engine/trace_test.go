package engine

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// traces returns the TraceData of the notifications whose message starts
// with prefix and contains the Call-ID.
func traces(ns []notify.Notification, prefix, callID string) []TraceData {
	var out []TraceData
	for _, n := range ns {
		d, ok := n.Data.(TraceData)
		if ok && strings.HasPrefix(d.Data, prefix) && strings.Contains(d.Data, "Call-ID: "+callID+"\r\n") {
			out = append(out, d)
		}
	}
	return out
}

func TestTrace(t *testing.T) {
	center := notify.New()
	t.Cleanup(center.Close) // after the engines, which are cleaned up first
	cert := newTestCert(t)
	listen := []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
		{Transport: TransportTLS, Address: "127.0.0.1:0"},
	}
	alice := start(t, cert.withTLS(Config{UserAgent: "alice", Listen: listen, Center: center, Trace: true}))
	bob := start(t, cert.withTLS(Config{UserAgent: "bob", Listen: listen, Center: center, Trace: true}))
	quiet := start(t, Config{UserAgent: "quiet", Center: center}) // Trace off
	var aliceRec, bobRec, quietRec notify.Recorder
	defer center.Subscribe(&aliceRec, NameSIPTrace, alice)()
	defer center.Subscribe(&bobRec, NameSIPTrace, bob)()
	defer center.Subscribe(&quietRec, NameSIPTrace, quiet)()

	for _, tr := range []Transport{TransportUDP, TransportTCP, TransportTLS} {
		t.Run(tr.String(), func(t *testing.T) {
			r := routeTo(t, bob, tr, false)
			ar := routeTo(t, alice, tr, false)
			req := sip.NewRequest(sip.OPTIONS, uriFor("bob", r))
			callID := sip.CallIDHeader("trace-" + tr.String())
			req.AppendHeader(&callID)
			if res := final(t, alice, req, r, nil); res.StatusCode != 200 {
				t.Fatalf("got %d", res.StatusCode)
			}
			ctx := ctxT(t)
			waitOne := func(rec *notify.Recorder, prefix string) TraceData {
				t.Helper()
				var got []TraceData
				err := rec.Wait(ctx, func(ns []notify.Notification) bool {
					got = traces(ns, prefix, string(callID))
					return len(got) > 0
				})
				if err != nil {
					t.Fatalf("no trace of %q: %v", prefix, err)
				}
				if len(got) != 1 {
					t.Errorf("%d traces of %q, want 1", len(got), prefix)
				}
				return got[0]
			}
			aliceSent := waitOne(&aliceRec, "OPTIONS ")
			bobGot := waitOne(&bobRec, "OPTIONS ")
			bobSent := waitOne(&bobRec, "SIP/2.0 200 ")
			aliceGot := waitOne(&aliceRec, "SIP/2.0 200 ")

			// Where alice sent from: her UDP socket, or the connection she
			// dialed for TCP and TLS.
			src := ar.Port
			if tr != TransportUDP {
				src = aliceSent.SourcePort
				if src == 0 || src == ar.Port {
					t.Errorf("TCP source port %d: want the dialed connection's", src)
				}
			}
			want := TraceData{
				Received: false, Transport: tr,
				SourceIP: "127.0.0.1", SourcePort: src,
				DestinationIP: "127.0.0.1", DestinationPort: r.Port,
				Data: aliceSent.Data,
			}
			if aliceSent != want {
				t.Errorf("alice sent %+v, want %+v", aliceSent, want)
			}
			want.Received = true
			if bobGot != want {
				t.Errorf("bob received %+v, want %+v", bobGot, want)
			}
			want = TraceData{
				Received: false, Transport: tr,
				SourceIP: "127.0.0.1", SourcePort: r.Port,
				DestinationIP: "127.0.0.1", DestinationPort: src,
				Data: bobSent.Data,
			}
			if bobSent != want {
				t.Errorf("bob sent %+v, want %+v", bobSent, want)
			}
			want.Received = true
			if aliceGot != want {
				t.Errorf("alice received %+v, want %+v", aliceGot, want)
			}
			if !strings.Contains(aliceSent.Data, "\r\nUser-Agent: alice\r\n") || !strings.HasSuffix(aliceSent.Data, "\r\n\r\n") {
				t.Errorf("traced request is not the whole message:\n%s", aliceSent.Data)
			}
			if !strings.Contains(bobSent.Data, "\r\nUser-Agent: bob\r\n") {
				t.Errorf("traced response lacks bob's User-Agent:\n%s", bobSent.Data)
			}
		})
	}

	// An engine with Trace off posts nothing.
	r := routeTo(t, quiet, TransportUDP, false)
	if res := final(t, alice, sip.NewRequest(sip.OPTIONS, uriFor("quiet", r)), r, nil); res.StatusCode != 200 {
		t.Fatalf("got %d", res.StatusCode)
	}
	if err := center.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := quietRec.Len(); n != 0 {
		t.Errorf("engine without Trace posted %d traces", n)
	}
	for _, n := range aliceRec.All() {
		if n.Sender != alice {
			t.Errorf("trace sender %v, want alice's engine", n.Sender)
		}
	}
}

func TestStampUserAgent(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means unchanged
	}{
		{
			"request",
			"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n",
			"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\nUser-Agent: ua/1\r\n\r\n",
		},
		{
			"response with body",
			"SIP/2.0 487 Request Terminated\r\nContent-Length: 4\r\n\r\nbody",
			"SIP/2.0 487 Request Terminated\r\nContent-Length: 4\r\nUser-Agent: ua/1\r\n\r\nbody",
		},
		{"has one", "SIP/2.0 200 OK\r\nuser-agent : other\r\n\r\n", ""},
		{"not SIP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ""},
		{"no end of headers", "SIP/2.0 200 OK\r\nContent-Length: 0\r\n", ""},
		{"keep-alive", "\r\n\r\n", ""},
		{"body mentions it", "SIP/2.0 200 OK\r\nContent-Length: 14\r\n\r\nUser-Agent: no", "SIP/2.0 200 OK\r\nContent-Length: 14\r\nUser-Agent: ua/1\r\n\r\nUser-Agent: no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := stampUserAgent([]byte(tc.in), "ua/1")
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if string(got) != want || changed != (tc.want != "") {
				t.Errorf("stampUserAgent =\n%q (%v), want\n%q", got, changed, want)
			}
		})
	}
	if got, changed := stampUserAgent([]byte("SIP/2.0 200 OK\r\n\r\n"), ""); changed || string(got) != "SIP/2.0 200 OK\r\n\r\n" {
		t.Errorf("empty user agent stamped: %q", got)
	}
}

// cryptoSDP is an SDP offer with SDES keys (RFC 4568) and MIKEY (RFC 4567).
const cryptoSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 9 RTP/SAVP 0\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n" +
	"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj;inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n" +
	"a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyO\r\n"

func TestMaskKeys(t *testing.T) {
	got := maskKeys(cryptoSDP)
	for _, secret := range []string{"PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "AQAFgM0XflABAAAAAAAAAAAAAAsAyO"} {
		if strings.Contains(got, secret) {
			t.Errorf("key %s left in\n%s", secret, got)
		}
	}
	for _, kept := range []string{"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + maskedKey + "|2^20|1:32\r\n", "a=key-mgmt:mikey " + maskedKey + "\r\n", "m=audio 9 RTP/SAVP 0\r\n"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q missing from\n%s", kept, got)
		}
	}
	if plain := "OPTIONS sip:b@h SIP/2.0\r\n\r\n"; maskKeys(plain) != plain {
		t.Error("a message without keys changed")
	}
}

// TestTraceMasksKeys: the trace shows SRTP keys only with TraceKeys
// (issue 16 item 7); the message on the wire keeps them.
func TestTraceMasksKeys(t *testing.T) {
	for _, keys := range []bool{false, true} {
		t.Run(map[bool]string{false: "masked", true: "with keys"}[keys], func(t *testing.T) {
			center := notify.New()
			t.Cleanup(center.Close)
			listen := []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}
			alice := start(t, Config{Listen: listen, Center: center, Trace: true, TraceKeys: keys})
			bob := start(t, Config{Listen: listen})
			bodies := make(chan string, 1)
			bob.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
				bodies <- string(req.Body())
				_ = bob.Respond(tx, req, 200, "OK", nil)
			})
			var rec notify.Recorder
			defer center.Subscribe(&rec, NameSIPTrace, alice)()
			r := routeTo(t, bob, TransportUDP, false)
			req := sip.NewRequest(sip.MESSAGE, uriFor("bob", r))
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody([]byte(cryptoSDP))
			if res := final(t, alice, req, r, nil); res.StatusCode != 200 {
				t.Fatalf("got %d", res.StatusCode)
			}
			if got := recv(t, bodies, "the MESSAGE"); got != cryptoSDP {
				t.Errorf("bob got %q, want the keys intact", got)
			}
			var sent string
			err := rec.Wait(ctxT(t), func(ns []notify.Notification) bool {
				for _, n := range ns {
					if d := n.Data.(TraceData); !d.Received && strings.HasPrefix(d.Data, "MESSAGE ") {
						sent = d.Data
						return true
					}
				}
				return false
			})
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(sent, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"); has != keys {
				t.Errorf("trace shows the key: %v, want %v\n%s", has, keys, sent)
			}
		})
	}
}
