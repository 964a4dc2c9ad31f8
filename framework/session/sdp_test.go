package session

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

type sdpSession = sdp.SessionDescription

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot  %q\nwant %q", name, got, want)
	}
}

func TestOfferAndAnswer(t *testing.T) {
	echo := "m=application 40000 UDP x-sipstreams-echo\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n"
	ice := "m=audio 40002 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123\r\na=sendrecv\r\n"
	for _, tc := range []struct {
		name, ip string
		media    []string
	}{
		{"offer-ipv4.sdp", "127.0.0.1", []string{echo}},
		{"offer-ipv6.sdp", "::1", []string{echo}},
		{"offer-ice.sdp", "127.0.0.1", []string{echo, ice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{id: 42, ip: tc.ip, name: "sipstreams test"}
			media, err := parseMediaSections(tc.media)
			if err != nil {
				t.Fatal(err)
			}
			text, err := o.build(media)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sdk.ParseSDP(text); err != nil {
				t.Fatalf("our own offer does not parse: %v", err)
			}
			golden(t, tc.name, text)
		})
	}
}

func TestAnswerRejectsUnclaimedLines(t *testing.T) {
	offer, err := sdk.ParseSDP("v=0\r\no=- 7 7 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n" +
		"m=video 5000 RTP/AVP 96\r\nb=AS:512\r\na=rtpmap:96 VP8/90000\r\na=sendrecv\r\n" +
		"m=application 5002 UDP x-sipstreams-echo\r\na=sendrecv\r\n")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{id: 1, ip: "127.0.0.1", name: "sipstreams test"}
	text, err := o.answer(offer, map[int]string{1: "m=application 6000 UDP x-sipstreams-echo\r\na=sendrecv\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "answer-rejected-line.sdp", text)
	ans, err := sdk.ParseSDP(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer(offer, ans); err != nil {
		t.Fatal(err)
	}
	if mediaPort(ans, 0) != 0 || mediaPort(ans, 1) != 6000 || mediaPort(ans, 5) != 0 {
		t.Fatalf("ports: %d %d", mediaPort(ans, 0), mediaPort(ans, 1))
	}
	if strings.Contains(text, "VP8") || strings.Contains(text, "b=AS") {
		t.Errorf("the rejected line kept attributes or b=:\n%s", text)
	}
	if o.version != 1 {
		t.Errorf("version = %d", o.version)
	}
}

func TestCheckAnswer(t *testing.T) {
	two, _ := sdk.ParseSDP("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nm=application 2 UDP x\r\n")
	one, _ := sdk.ParseSDP("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n")
	swapped, _ := sdk.ParseSDP("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 2 UDP x\r\nm=audio 1 RTP/AVP 0\r\n")
	for _, tc := range []struct {
		name          string
		offer, answer *sdpSession
		ok            bool
	}{
		{"same", two, two, true},
		{"missing line", two, one, false},
		{"swapped types", two, swapped, false},
	} {
		err := checkAnswer(tc.offer, tc.answer)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrSDPNegotiation)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
