package audiostream

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdes"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdpaudio"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testSettings(t *testing.T, kv ...string) settings {
	t.Helper()
	acc := &sdk.Account{Settings: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		acc.Settings[kv[i]] = kv[i+1]
	}
	st, err := parseSettings(acc, builtin.Default())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readSDP(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var testEndpoint = localEndpoint{addr: netip.MustParseAddr("192.0.2.1"), rtpPort: 50000, rtcpPort: 50001}

// TestAnswerGolden answers reference peers' offers; SRTP is disabled so
// that no random key enters the golden files.
func TestAnswerGolden(t *testing.T) {
	tests := []struct {
		offer, golden, codecs string
	}{
		{"blink-offer.sdp", "answer-blink.golden.sdp", "opus,G722,PCMU,PCMA"},
		{"baresip-offer.sdp", "answer-baresip.golden.sdp", "opus,G722,PCMU,PCMA"},
		{"opus111-savp-offer.sdp", "answer-opus111.golden.sdp", "PCMU,opus"},
	}
	for _, tt := range tests {
		t.Run(tt.offer, func(t *testing.T) {
			st := testSettings(t, sdkaudio.SettingCodecList, tt.codecs, sdkaudio.SettingSRTP, sdkaudio.SRTPOpportunistic)
			remote, err := parseRemote(readSDP(t, tt.offer), 0)
			if err != nil {
				t.Fatal(err)
			}
			remote.Crypto, remote.Proto = nil, sdpaudio.ProtoAVP // keep keys out of the golden file
			ans, line, err := buildAnswer(&st, testEndpoint, remote, sdes.Crypto{}, sdk.AnswerDirection("", remote.Direction))
			if err != nil || len(line.Key) != 0 {
				t.Fatalf("buildAnswer: %v (crypto %v)", err, line)
			}
			got, err := sdk.MarshalMedia(ans.Build())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readSDP(t, tt.golden); got != want {
				t.Fatalf("answer:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestNegotiate runs offer/answer between settings and checks what each
// side ends up with.
func TestNegotiate(t *testing.T) {
	tests := []struct {
		name          string
		offerer       []string
		answerer      []string
		wantCodec     string
		wantSRTP      bool
		wantNotEncr   string
		wantAnswerErr bool
	}{
		{name: "defaults", wantCodec: "opus", wantSRTP: true},
		{name: "answerer prefers PCMA", answerer: []string{sdkaudio.SettingCodecList, "PCMA,PCMU"}, wantCodec: "PCMA", wantSRTP: true},
		{name: "optional vs disabled", offerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPOptional}, answerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPDisabled}, wantCodec: "opus", wantNotEncr: "Not supported by remote"},
		{name: "mandatory both", offerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPMandatory}, answerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPMandatory}, wantCodec: "opus", wantSRTP: true},
		{name: "mandatory vs disabled", offerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPMandatory}, answerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPDisabled}, wantAnswerErr: true},
		{name: "disabled both", offerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPDisabled}, answerer: []string{sdkaudio.SettingSRTP, sdkaudio.SRTPDisabled}, wantCodec: "opus"},
		{name: "no common codec", offerer: []string{sdkaudio.SettingCodecList, "PCMU"}, answerer: []string{sdkaudio.SettingCodecList, "G722"}, wantAnswerErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so, sa := testSettings(t, tt.offerer...), testSettings(t, tt.answerer...)
			var lines []sdes.Crypto
			if so.srtp != sdkaudio.SRTPDisabled {
				var err error
				if lines, err = sdes.Offer(offeredSuites, nil); err != nil {
					t.Fatal(err)
				}
			}
			offerM := buildOffer(&so, testEndpoint, lines, sdk.SendRecv)
			offer := wrapMedia(t, offerM)
			remote, err := parseRemote(offer, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := localEndpoint{addr: netip.MustParseAddr("192.0.2.2"), rtpPort: 40000, rtcpPort: 40001}
			ansM, _, err := buildAnswer(&sa, b, remote, sdes.Crypto{}, sdk.AnswerDirection("", remote.Direction))
			if tt.wantAnswerErr {
				if !errors.Is(err, sdk.ErrInvalidStream) {
					t.Fatalf("buildAnswer = %v, want ErrInvalidStream", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			answer := wrapMedia(t, ansM)
			no, err := negotiate(&so, new(sdpMemo), offer, answer, 0)
			if err != nil {
				t.Fatalf("offerer: %v", err)
			}
			na, err := negotiate(&sa, new(sdpMemo), answer, offer, 0)
			if err != nil {
				t.Fatalf("answerer: %v", err)
			}
			for side, n := range map[string]negotiation{"offerer": no, "answerer": na} {
				if n.codec.Info().Name != tt.wantCodec || (n.srtp != nil) != tt.wantSRTP || !n.events || n.direction != sdk.SendRecv {
					t.Errorf("%s: codec %s srtp %v events %t direction %s", side, n.codec.Info().Name, n.srtp, n.events, n.direction)
				}
			}
			if no.notEncrypted != tt.wantNotEncr {
				t.Errorf("offerer notEncrypted %q, want %q", no.notEncrypted, tt.wantNotEncr)
			}
			if tt.wantSRTP {
				// Each side decrypts with the key the other encrypts with.
				if string(no.srtp.localKey) != string(na.srtp.remoteKey) || string(na.srtp.localKey) != string(no.srtp.remoteKey) {
					t.Error("SRTP keys do not pair up")
				}
			}
			if no.sendPT != na.recvPT || na.sendPT != no.recvPT {
				t.Errorf("payload types: offerer sends %d receives %d, answerer sends %d receives %d", no.sendPT, no.recvPT, na.sendPT, na.recvPT)
			}
			if no.remoteRTP.String() != "192.0.2.2:40000" || no.remoteRTCP.String() != "192.0.2.2:40001" {
				t.Errorf("offerer's peer %v / %v", no.remoteRTP, no.remoteRTCP)
			}
		})
	}
}

// TestNegotiateForeignPayloadTypes: a peer numbering opus 111 is answered
// and sent to with 111, and its telephone-event/48000 is kept.
func TestNegotiateForeignPayloadTypes(t *testing.T) {
	st := testSettings(t, sdkaudio.SettingCodecList, "opus,PCMU", sdkaudio.SettingSRTP, sdkaudio.SRTPOptional)
	offer := readSDP(t, "opus111-savp-offer.sdp")
	remote, err := parseRemote(offer, 0)
	if err != nil {
		t.Fatal(err)
	}
	ans, line, err := buildAnswer(&st, testEndpoint, remote, sdes.Crypto{}, sdk.AnswerDirection("", remote.Direction))
	if err != nil {
		t.Fatal(err)
	}
	if ans.Proto != sdpaudio.ProtoSAVP || line.Tag != 7 || line.Suite != sdes.AESCM128HMACSHA132 {
		t.Errorf("answer proto %s crypto %v", ans.Proto, line)
	}
	answer := wrapMedia(t, ans)
	n, err := negotiate(&st, new(sdpMemo), answer, offer, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n.sendPT != 111 || n.recvPT != 111 || n.sendEvPT != 110 || n.direction != sdk.RecvOnly || n.srtp == nil {
		t.Errorf("negotiation %+v", n)
	}
	if !strings.Contains(answer, "a=rtpmap:110 telephone-event/48000") {
		t.Errorf("answer:\n%s", answer)
	}
	// A re-answer keeps the key.
	again, line2, err := buildAnswer(&st, testEndpoint, remote, line, sdk.AnswerDirection(n.direction, remote.Direction))
	if err != nil || string(line2.Key) != string(line.Key) || again.Direction != sdk.RecvOnly {
		t.Errorf("re-answer: %v, key kept %t, direction %s", err, string(line2.Key) == string(line.Key), again.Direction)
	}
}

func wrapMedia(t *testing.T, m sdpaudio.Media) string {
	t.Helper()
	text, err := sdk.MarshalMedia(m.Build())
	if err != nil {
		t.Fatal(err)
	}
	return "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n" + text
}

// The memo parses a description once, gives copies that share nothing with
// it, and parses anew for another text or m-line index; a parse error is
// not kept.
func TestSDPMemo(t *testing.T) {
	const key = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	pcmu := "m=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " + key + "\r\na=ice-ufrag:abcd\r\n"
	a := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + pcmu
	b := strings.Replace(a, "m=audio 4000", "m=audio 4002", 1)
	two := a + "m=audio 5000 RTP/AVP 8\r\n"
	var m sdpMemo
	first, err := m.parse(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Port != 4000 || len(first.Formats) != 1 || first.Events == nil || len(first.Crypto) != 1 || len(first.ICE) != 1 {
		t.Fatalf("parsed %+v", first)
	}
	// Whatever a caller does to its copy, the next one is as parsed.
	first.Formats[0].Name = "changed"
	first.Events.PT = 1
	first.Crypto[0].Key[0] ^= 0xff
	first.ICE[0] = "changed"
	again, err := m.parse(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := parseRemote(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Formats[0] != want.Formats[0] || *again.Events != *want.Events || string(again.Crypto[0].Key) != string(want.Crypto[0].Key) || again.ICE[0] != want.ICE[0] {
		t.Fatalf("second parse %+v, want %+v", again, want)
	}
	for _, tc := range []struct {
		text  string
		index int
		port  int
	}{{b, 0, 4002}, {two, 1, 5000}, {a, 0, 4000}} {
		got, err := m.parse(tc.text, tc.index)
		if err != nil || got.Port != tc.port {
			t.Fatalf("m-line %d: port %d, %v; want %d", tc.index, got.Port, err, tc.port)
		}
	}
	if _, err := m.parse(a, 3); err == nil {
		t.Fatal("no error for a missing m-line")
	}
	if got, err := m.parse(a, 0); err != nil || got.Port != 4000 {
		t.Fatalf("after an error: port %d, %v", got.Port, err)
	}
}
