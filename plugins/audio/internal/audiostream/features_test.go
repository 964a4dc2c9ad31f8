package audiostream_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/spectrum"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// digits returns the digits of the AudioStreamGotDTMF notifications of o.
func digits(t *testing.T, h *harness, o *sdk.Opened) string {
	t.Helper()
	var b strings.Builder
	for _, n := range h.notifications(o, sdkaudio.GotDTMF) {
		var d sdkaudio.DTMFData
		if err := n.Decode(&d); err != nil {
			t.Fatal(err)
		}
		b.WriteString(d.Digit)
	}
	return b.String()
}

func TestDTMF(t *testing.T) {
	for _, tc := range []struct{ srtp, shared string }{
		{sdkaudio.SRTPDisabled, "0"}, {sdkaudio.SRTPMandatory, "0"},
		{sdkaudio.SRTPDisabled, "1"}, {sdkaudio.SRTPMandatory, "1"}, // rtp.shared_sockets
	} {
		srtp := tc.srtp
		name := srtp
		if tc.shared != "0" {
			name += "/shared"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			settings := map[string]string{sdkaudio.SettingCodecList: "opus,PCMU", sdkaudio.SettingSRTP: srtp, sdkaudio.SettingSharedSockets: tc.shared}
			c := h.open(account("a", settings), account("b", settings))
			c.start(c.answer)
			for _, d := range "1#" {
				mustCall(t, "send_dtmf A", func(ctx context.Context) error { return sdkaudio.SendDTMF(ctx, c.a.Stream, string(d)) })
			}
			for _, d := range "9*D" {
				mustCall(t, "send_dtmf B", func(ctx context.Context) error { return sdkaudio.SendDTMF(ctx, c.b.Stream, string(d)) })
			}
			h.waitNotification(c.b, sdkaudio.GotDTMF, 2)
			h.waitNotification(c.a, sdkaudio.GotDTMF, 3)
			if got := digits(t, h, c.b); got != "1#" {
				t.Errorf("B got %q, want \"1#\"", got)
			}
			if got := digits(t, h, c.a); got != "9*D" {
				t.Errorf("A got %q, want \"9*D\"", got)
			}
			ctx := context.Background()
			for _, bad := range []string{"", "x", "12", "E"} {
				if err := sdkaudio.SendDTMF(ctx, c.a.Stream, bad); !errors.Is(err, sdk.ErrInvalidArgument) {
					t.Errorf("SendDTMF(%q) = %v, want ErrInvalidArgument", bad, err)
				}
			}
		})
	}
}

func TestDTMFBeforeStart(t *testing.T) {
	h := newHarness(t)
	c := h.open(account("a", nil), account("b", nil))
	if err := sdkaudio.SendDTMF(context.Background(), c.a.Stream, "1"); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("SendDTMF before Start = %v, want ErrIllegalState", err)
	}
}

// TestHold checks that while A holds the call neither side sends media:
// over 50 ticks of the stream's clock (a second) the received packet
// counters grow by at most a keep-alive, and that media resumes after;
// with a socket pair per stream and on shared sockets.
func TestHold(t *testing.T) {
	for _, shared := range []string{"0", "1"} {
		t.Run("shared_sockets="+shared, func(t *testing.T) { testHold(t, shared) })
	}
}

func testHold(t *testing.T, shared string) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled, sdkaudio.SettingSharedSockets: shared}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	waitFor(t, "media", func() bool { return stats(t, c.b.Stream).RX.Packets > 20 && stats(t, c.a.Stream).RX.Packets > 20 })

	mustCall(t, "hold", func(ctx context.Context) error { return c.a.Stream.Hold(ctx) })
	c.reoffer(c.a, c.b)
	h.waitNotification(c.a, sdkaudio.DidChangeHoldState, 1)
	h.waitNotification(c.b, sdkaudio.DidChangeHoldState, 1)
	for _, o := range []*sdk.Opened{c.a, c.b} {
		a, _, err := sdkaudio.ReadAttributes(context.Background(), o.Stream)
		if err != nil {
			t.Fatal(err)
		}
		if !a.OnHold() {
			t.Errorf("stream %d not on hold: %+v", o.Handle, a)
		}
	}
	// Let packets in flight arrive: 5 ticks.
	t0 := stats(t, c.a.Stream).Ticks
	waitFor(t, "5 ticks", func() bool { return stats(t, c.a.Stream).Ticks >= t0+5 })
	a0, b0 := stats(t, c.a.Stream), stats(t, c.b.Stream)
	waitFor(t, "50 ticks", func() bool { return stats(t, c.a.Stream).Ticks >= a0.Ticks+50 })
	a1, b1 := stats(t, c.a.Stream), stats(t, c.b.Stream)
	if d := b1.RX.Packets - b0.RX.Packets; d > 1 {
		t.Errorf("B received %d packets in 50 ticks while A holds", d)
	}
	if d := a1.RX.Packets - a0.RX.Packets; d > 1 {
		t.Errorf("A received %d packets in 50 ticks while holding", d)
	}
	if d := a1.TX.Packets - a0.TX.Packets; d > 1 {
		t.Errorf("A sent %d packets in 50 ticks while holding", d)
	}

	mustCall(t, "unhold", func(ctx context.Context) error { return c.a.Stream.Unhold(ctx) })
	c.reoffer(c.a, c.b)
	waitFor(t, "media after unhold", func() bool {
		return stats(t, c.b.Stream).RX.Packets > b1.RX.Packets+20 && stats(t, c.a.Stream).RX.Packets > a1.RX.Packets+20
	})
	var held []sdkaudio.HoldStateData
	for _, n := range h.postedAsPair(c.a, sdkaudio.DidChangeHoldState, sdkaudio.RTPDidChangeHoldState, 2) {
		var d sdkaudio.HoldStateData
		if err := n.Decode(&d); err != nil {
			t.Fatal(err)
		}
		held = append(held, d)
	}
	want := []sdkaudio.HoldStateData{{Originator: "local", OnHold: true}, {Originator: "local", OnHold: false}}
	if len(held) != 2 || held[0] != want[0] || held[1] != want[1] {
		t.Errorf("A hold notifications %+v, want %+v", held, want)
	}
}

// cryptoKey matches the inline key of an a=crypto line.
var cryptoKey = regexp.MustCompile(`inline:([A-Za-z0-9+/]{40})`)

// TestSRTPWrongKey gives A an answer whose key was tampered with: A must
// count SRTP authentication failures and play (and record) nothing of B,
// while B still hears A.
func TestSRTPWrongKey(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory}
	c := h.open(account("a", settings), account("b", settings))
	m := cryptoKey.FindStringSubmatch(c.answer)
	if m == nil {
		t.Fatalf("no key in the answer:\n%s", c.answer)
	}
	key := []byte(m[1])
	for i := range 20 { // change the master key, keep it valid base64
		if key[i] == 'A' {
			key[i] = 'B'
		} else {
			key[i] = 'A'
		}
	}
	tampered := strings.Replace(c.answer, m[1], string(key), 1)
	c.start(tampered)
	recA, recB := exchange(t, c, true)
	// A's recording holds what A sends; B's tone must be absent.
	samples, rate := tail(t, recA)
	if amp := spectrum.Goertzel(samples, rate, toneB); amp > 50 {
		t.Errorf("A recorded B's %.0f Hz at amplitude %.0f with a wrong key, want nothing of it", toneB, amp)
	}
	hears(t, "B", recB, toneA)
	if st := stats(t, c.a.Stream); st.RX.Played != 0 {
		t.Errorf("A played %d frames with a wrong key", st.RX.Played)
	}
}

func TestNewFromSDPRefuses(t *testing.T) {
	const base = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	const crypto = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
	tests := []struct {
		name   string
		policy string
		codecs string
		media  string
		want   error
	}{
		{"plain offer, sdes_mandatory", sdkaudio.SRTPMandatory, "", "m=audio 4000 RTP/AVP 0\r\n", sdk.ErrInvalidStream},
		{"SAVP offer, disabled", sdkaudio.SRTPDisabled, "", "m=audio 4000 RTP/SAVP 0\r\n" + crypto, sdk.ErrInvalidStream},
		{"SAVP without crypto", sdkaudio.SRTPOptional, "", "m=audio 4000 RTP/SAVP 0\r\n", sdk.ErrInvalidStream},
		{"no common codec", sdkaudio.SRTPDisabled, "PCMA", "m=audio 4000 RTP/AVP 0 18\r\n", sdk.ErrInvalidStream},
		{"unknown dynamic codec", sdkaudio.SRTPDisabled, "", "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000\r\n", sdk.ErrInvalidStream},
		{"RTP/AVPF", sdkaudio.SRTPDisabled, "", "m=audio 4000 RTP/AVPF 0\r\n", sdk.ErrInvalidStream},
		{"removed", sdkaudio.SRTPDisabled, "", "m=audio 0 RTP/AVP 0\r\n", sdk.ErrInvalidStream},
		{"video", sdkaudio.SRTPDisabled, "", "m=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", sdk.ErrUnknownStream},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := map[string]string{sdkaudio.SettingSRTP: tt.policy}
			if tt.codecs != "" {
				settings[sdkaudio.SettingCodecList] = tt.codecs
			}
			o, err := h.lp.NewFromSDP(context.Background(), &sdk.NewFromSDPRequest{Account: account("b", settings), RemoteSDP: base + tt.media})
			if !errors.Is(err, tt.want) {
				if o != nil {
					_ = o.Stream.End(context.Background())
				}
				t.Fatalf("NewFromSDP = %v, want %v", err, tt.want)
			}
		})
	}
	// And what it accepts: a plain offer under each policy but
	// sdes_mandatory, and a SAVP offer with a=crypto under the SRTP ones.
	accepts := []struct{ policy, media string }{
		{sdkaudio.SRTPDisabled, "m=audio 4000 RTP/AVP 0\r\n"},
		{sdkaudio.SRTPOpportunistic, "m=audio 4000 RTP/AVP 0\r\n"},
		{sdkaudio.SRTPOptional, "m=audio 4000 RTP/AVP 0\r\n" + crypto},
		{sdkaudio.SRTPMandatory, "m=audio 4000 RTP/SAVP 0\r\n" + crypto},
		{sdkaudio.SRTPDisabled, "m=audio 4000 RTP/AVP 0\r\n" + crypto},
	}
	for _, tt := range accepts {
		o, err := h.lp.NewFromSDP(context.Background(), &sdk.NewFromSDPRequest{Account: account("b", map[string]string{sdkaudio.SettingSRTP: tt.policy}), RemoteSDP: base + tt.media})
		if err != nil {
			t.Errorf("%s refuses %q: %v", tt.policy, tt.media, err)
			continue
		}
		_ = o.Stream.End(context.Background())
	}
}

// TestOptionalAgainstPlain: an sdes_optional offer answered by a peer with
// SRTP disabled runs in plain RTP and tells why.
func TestOptionalAgainstPlain(t *testing.T) {
	h := newHarness(t)
	c := h.open(account("a", map[string]string{sdkaudio.SettingSRTP: sdkaudio.SRTPOptional}),
		account("b", map[string]string{sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}))
	if !strings.Contains(c.offer, "a=crypto:") || strings.Contains(c.answer, "a=crypto:") {
		t.Fatalf("offer/answer crypto:\n%s\n%s", c.offer, c.answer)
	}
	c.start(c.answer)
	n := h.waitNotification(c.a, sdkaudio.DidNotEnableEncryption, 1)
	var d sdkaudio.NotEncryptedData
	if err := n[0].Decode(&d); err != nil || d.Reason != "Not supported by remote" {
		t.Errorf("%s data %+v, %v", sdkaudio.DidNotEnableEncryption, d, err)
	}
}

// TestRecordingDefaultName records without a file name: the file goes
// under audio.recordings_directory.
func TestRecordingDefaultName(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	settings := map[string]string{sdkaudio.SettingRecordingsDirectory: dir, sdkaudio.SettingCodecList: "PCMU"}
	c := h.open(account("a", settings), account("b", settings))
	if _, err := sdkaudio.StartRecording(context.Background(), c.a.Stream, ""); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("StartRecording before Start = %v, want ErrIllegalState", err)
	}
	c.start(c.answer)
	var name string
	mustCall(t, "start_recording", func(ctx context.Context) (err error) {
		name, err = sdkaudio.StartRecording(ctx, c.a.Stream, "")
		return err
	})
	if !strings.HasPrefix(name, dir+string(filepath.Separator)) || !strings.HasSuffix(name, "-peer@127.0.0.1-outgoing.wav") {
		t.Errorf("default recording name %q", name)
	}
	if _, err := sdkaudio.StartRecording(context.Background(), c.a.Stream, ""); !errors.Is(err, sdk.ErrIllegalState) {
		t.Errorf("second StartRecording = %v, want ErrIllegalState", err)
	}
	_, attrs, err := sdkaudio.ReadAttributes(context.Background(), c.a.Stream)
	if err != nil || attrs.RecordingFilename != name {
		t.Errorf("recording_filename %q, %v; want %q", attrs.RecordingFilename, err, name)
	}
	mustCall(t, "stop_recording", func(ctx context.Context) error { _, err := sdkaudio.StopRecording(ctx, c.a.Stream); return err })
	if _, err := os.Stat(name); err != nil {
		t.Error(err)
	}
}

// TestMandatoryGetsPlainAnswer: an sdes_mandatory offerer given a plain
// answer (a test-only fault: the crypto stripped on the way) fails to
// start and says why.
func TestMandatoryGetsPlainAnswer(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory}
	c := h.open(account("a", settings), account("b", settings))
	var plain []string
	for _, l := range strings.Split(c.answer, "\r\n") {
		if !strings.HasPrefix(l, "a=crypto:") {
			plain = append(plain, strings.Replace(l, "RTP/SAVP", "RTP/AVP", 1))
		}
	}
	ctx := context.Background()
	if err := c.a.Stream.Start(ctx, &sdk.StartRequest{LocalSDP: c.offer, RemoteSDP: strings.Join(plain, "\r\n")}); err != nil {
		t.Fatal(err)
	}
	n := h.waitNotification(c.a, sdk.MediaStreamDidFail, 1)
	var fail sdk.DidFailData
	if err := n[0].Decode(&fail); err != nil || fail.Context != "start" {
		t.Errorf("MediaStreamDidFail %+v, %v", fail, err)
	}
	n = h.waitNotification(c.a, sdkaudio.DidNotEnableEncryption, 1)
	var d sdkaudio.NotEncryptedData
	if err := n[0].Decode(&d); err != nil || !strings.HasPrefix(d.Reason, "Negotiation failed: ") {
		t.Errorf("%s %+v, %v", sdkaudio.DidNotEnableEncryption, d, err)
	}
	if len(h.notifications(c.a, sdk.MediaStreamDidStart)) != 0 {
		t.Error("A started without SRTP")
	}
}
