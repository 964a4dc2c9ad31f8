package audiostream_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// TestTimeout: with rtp.timeout 1 s, A posts AudioStreamDidTimeout and
// RTPStreamDidTimeout once B has gone away.
func TestTimeout(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingTimeout: "1", sdkaudio.SettingCodecList: "PCMU"}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	waitFor(t, "media", func() bool { return stats(t, c.a.Stream).RX.Packets > 10 })
	if n := h.notifications(c.a, sdkaudio.DidTimeout); len(n) != 0 {
		t.Fatalf("timeout while media flows")
	}
	mustCall(t, "end B", func(ctx context.Context) error { return c.b.Stream.End(ctx) })
	h.postedAsPair(c.a, sdkaudio.DidTimeout, sdkaudio.RTPDidTimeout, 1)
}

var mPort = regexp.MustCompile(`m=audio (\d+) `)

// TestRebind: a re-INVITE moving the remote's port rebinds A's peer in
// place and posts the change.
func TestRebind(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	ctx := context.Background()
	o, err := c.b.Stream.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		t.Fatal(err)
	}
	offer := wrap(o.Media)
	m := mPort.FindStringSubmatch(offer)
	oldPort, _ := strconv.Atoi(m[1])
	moved := mPort.ReplaceAllString(offer, "m=audio "+strconv.Itoa(oldPort+100)+" ")
	a, err := c.a.Stream.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: moved})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.a.Stream.Update(ctx, &sdk.UpdateRequest{LocalSDP: wrap(a.Media), RemoteSDP: moved}); err != nil {
		t.Fatal(err)
	}
	n := h.postedAsPair(c.a, sdkaudio.DidChangeRTPParameters, sdkaudio.RTPDidChangeRTPParameters, 1)
	var d sdkaudio.RTPParametersData
	if err := n[0].Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := sdkaudio.RTPParametersData{Change: sdkaudio.ChangeRemotePeerRebind, OldRemoteAddress: "127.0.0.1", OldRemotePort: oldPort, NewRemoteAddress: "127.0.0.1", NewRemotePort: oldPort + 100}
	if d != want {
		t.Errorf("%s data %+v, want %+v", sdkaudio.DidChangeRTPParameters, d, want)
	}
	_, attrs, err := sdkaudio.ReadAttributes(ctx, c.a.Stream)
	if err != nil || attrs.RemoteRTPPort != oldPort+100 {
		t.Errorf("remote_rtp_port %d, %v; want %d", attrs.RemoteRTPPort, err, oldPort+100)
	}
}

// TestAnswerKeepsOneCodec: the answer to a multi-codec offer carries the
// answerer's most preferred common codec only, plus telephone-event
// (reference §3.3).
func TestAnswerKeepsOneCodec(t *testing.T) {
	tests := []struct {
		offerer, answerer string
		want              *regexp.Regexp
	}{
		{"opus,G722,PCMU,PCMA", "PCMA,PCMU", regexp.MustCompile(`m=audio \d+ RTP/AVP 8 101\r\n`)},
		{"PCMU,G722", "G722,PCMU", regexp.MustCompile(`m=audio \d+ RTP/AVP 9 101\r\n`)},
		{"opus,PCMU", "opus", regexp.MustCompile(`m=audio \d+ RTP/AVP 96 101\r\n(.*\r\n)*a=rtpmap:96 opus/48000/2\r\n`)},
	}
	h := newHarness(t)
	for _, tt := range tests {
		c := h.open(account("a", map[string]string{sdkaudio.SettingCodecList: tt.offerer}), account("b", map[string]string{sdkaudio.SettingCodecList: tt.answerer}))
		if !tt.want.MatchString(c.answer) {
			t.Errorf("offer %s, answerer %s: answer\n%s", tt.offerer, tt.answerer, c.answer)
		}
	}
}

// TestCodecChange: a re-INVITE whose answer picks another codec switches
// both sides in place; each posts the change and hears the other after it.
func TestCodecChange(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "PCMU,PCMA", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	c.reofferWith(c.a, c.b, func(answer string) string {
		answer = strings.Replace(answer, "RTP/AVP 0 101", "RTP/AVP 8 101", 1)
		return strings.Replace(answer, "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", 1)
	})
	for _, o := range []*sdk.Opened{c.a, c.b} {
		n := h.postedAsPair(o, sdkaudio.DidChangeRTPParameters, sdkaudio.RTPDidChangeRTPParameters, 1)
		var d sdkaudio.RTPParametersData
		if err := n[0].Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.Change != sdkaudio.ChangeCodec || d.Codec != "PCMA" || d.SampleRate != 8000 {
			t.Errorf("stream %d: %+v", o.Handle, d)
		}
		_, attrs, err := sdkaudio.ReadAttributes(context.Background(), o.Stream)
		if err != nil || attrs.Codec != "PCMA" {
			t.Errorf("stream %d codec %q, %v", o.Handle, attrs.Codec, err)
		}
	}
	recA, recB := exchange(t, c, false)
	hears(t, "A", recA, toneB)
	hears(t, "B", recB, toneA)
}
