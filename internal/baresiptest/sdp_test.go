package baresiptest

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOfferSDP checks, from baresip's SIP trace (Options.SIPTrace), the
// offers interop-notes.md describes: plain RTP/AVP with the account's
// codecs and telephone-event, or RTP/SAVP with exactly one SDES crypto
// line when SRTP is mandatory.
func TestOfferSDP(t *testing.T) {
	cases := []struct {
		name     string
		codecs   []string
		mediaEnc string
		mLine    string // regexp
		crypto   int    // a=crypto lines in the offer
	}{
		{"PCMU", []string{CodecPCMU}, "", `^m=audio (\d+) RTP/AVP 0 101$`, 0},
		{"G722 and PCMA", []string{CodecG722, CodecPCMA}, "", `^m=audio (\d+) RTP/AVP 9 8 101$`, 0},
		{"SRTP mandatory", []string{CodecPCMU}, "srtp-mand", `^m=audio (\d+) RTP/SAVP 0 101$`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b := Start(t, ctx, Options{Name: "B", AutoAnswer: true, Codecs: tc.codecs, MediaEnc: tc.mediaEnc, Lifetime: 20 * time.Second})
			a := Start(t, ctx, Options{Name: "A", Codecs: tc.codecs, MediaEnc: tc.mediaEnc, SIPTrace: true, Lifetime: 20 * time.Second})
			if err := a.Dial(b.URI()); err != nil {
				t.Fatal(err)
			}
			waitLog(t, ctx, a, LogEstablished)
			offer := sentINVITE(t, a.Log())
			t.Logf("A's offer:\n%s", offer)
			m := regexp.MustCompile(`(?m)` + tc.mLine).FindStringSubmatch(offer)
			if m == nil {
				t.Fatalf("offer has no line matching %q", tc.mLine)
			}
			lo, hi := a.RTPPorts()
			if port, _ := strconv.Atoi(m[1]); port < lo || port > hi {
				t.Errorf("offer's RTP port %s outside A's rtp_ports %d-%d", m[1], lo, hi)
			}
			crypto := regexp.MustCompile(`(?m)^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:\S+`).FindAllString(offer, -1)
			if len(crypto) != tc.crypto || strings.Count(offer, "a=crypto:") != tc.crypto {
				t.Errorf("offer has %d AES_CM_128_HMAC_SHA1_80 lines (%d a=crypto), want %d", len(crypto), strings.Count(offer, "a=crypto:"), tc.crypto)
			}
			for _, want := range []string{"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20"} {
				if !strings.Contains(offer, want+"\n") {
					t.Errorf("offer lacks %q", want)
				}
			}
		})
	}
}

// sentINVITE returns the lines of the first INVITE in a SIP trace,
// from its request line to the end of its SDP body.
func sentINVITE(t *testing.T, log string) string {
	t.Helper()
	i := strings.Index(log, "INVITE sip:")
	if i < 0 {
		t.Fatalf("no INVITE in the SIP trace:\n%s", tailOf(log, tailLines))
	}
	var b strings.Builder
	inBody := false
	for _, l := range strings.Split(log[i:], "\n") {
		if strings.HasPrefix(l, "v=0") {
			inBody = true
		}
		if inBody && !regexp.MustCompile(`^[a-z]=`).MatchString(l) {
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if !inBody {
		t.Fatalf("the INVITE in the SIP trace has no SDP:\n%s", log[i:])
	}
	return b.String()
}
