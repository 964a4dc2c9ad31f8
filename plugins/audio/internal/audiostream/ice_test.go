package audiostream_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// TestICE: both sides use ICE on the loopback interface; the checks
// succeed on both, the attributes say so, and audio flows over the ICE
// connections (the tones are heard).
func TestICE(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingUseICE: "true", sdkaudio.SettingCodecList: "G722", sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory}
	c := h.open(account("a", settings), account("b", settings))
	for _, m := range []string{c.offer, c.answer} {
		if !mLineHas(m, "a=ice-ufrag:") || !mLineHas(m, "a=candidate:") {
			t.Fatalf("no ICE attributes:\n%s", m)
		}
	}
	c.start(c.answer)
	for _, o := range []*sdk.Opened{c.a, c.b} {
		// Under the seed's names and the reference code's, with the same
		// data.
		h.postedAsPair(o, sdkaudio.ICENegotiationDidSucceed, sdkaudio.RTPICENegotiationDidSucceed, 1)
		connected := h.rec(o).Wait(t, "ICE component 1 connected", func(n sdk.Notification) bool {
			var d sdkaudio.ICEStateData
			return n.Handle == o.Handle && n.Name == sdkaudio.ICENegotiationStateDidChange && n.Decode(&d) == nil &&
				d.Component == 1 && d.State == "Connected" && d.PrevState == "Checking"
		})
		states := h.notifications(o, sdkaudio.ICENegotiationStateDidChange)
		h.postedAsPair(o, sdkaudio.ICENegotiationStateDidChange, sdkaudio.RTPICENegotiationStateDidChange, len(states))
		if len(states) < 2 || connected.Seq == 0 {
			t.Errorf("stream %d: ICE states %v", o.Handle, states)
		}
		_, attrs, err := sdkaudio.ReadAttributes(context.Background(), o.Stream)
		if err != nil {
			t.Fatal(err)
		}
		if !attrs.ICEActive || attrs.LocalRTPCandidateType != "host" || attrs.RemoteRTPCandidateType == "" {
			t.Errorf("stream %d ICE attributes %+v", o.Handle, attrs)
		}
	}
	recA, recB := exchange(t, c, false)
	hears(t, "A", recA, toneB)
	hears(t, "B", recB, toneA)
}

// TestICEOfferToPlainPeer: an ICE offer answered without ICE runs plain
// RTP on the default address, with no ICE notification.
func TestICEOfferToPlainPeer(t *testing.T) {
	h := newHarness(t)
	c := h.open(account("a", map[string]string{sdkaudio.SettingUseICE: "true"}), account("b", nil))
	if mLineHas(c.answer, "a=ice-ufrag:") {
		t.Fatalf("answer without use_ice has ICE:\n%s", c.answer)
	}
	c.start(c.answer)
	waitFor(t, "media", func() bool {
		return stats(t, c.a.Stream).RX.Packets > 20 && stats(t, c.b.Stream).RX.Packets > 20
	})
	for _, name := range []string{sdkaudio.ICENegotiationDidSucceed, sdkaudio.ICENegotiationDidFail, sdkaudio.RTPICENegotiationDidSucceed, sdkaudio.RTPICENegotiationDidFail} {
		if n := h.notifications(c.a, name); len(n) != 0 {
			t.Errorf("A posted %s", name)
		}
	}
}

// TestICEFailureFallsBack: when the connectivity checks cannot run (the
// answer, edited on its way, has no candidate for the RTCP component), the
// offerer posts AudioStreamICENegotiationDidFail and
// RTPStreamICENegotiationDidFail with the reason, then starts on plain RTP
// all the same (reference §3.6).
func TestICEFailureFallsBack(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingUseICE: "true", sdkaudio.SettingCodecList: "PCMU"}
	c := h.open(account("a", settings), account("b", settings))
	rtcpCandidate := regexp.MustCompile(`(?m)^a=candidate:\S+ 2 .*\r\n`)
	answer := rtcpCandidate.ReplaceAllString(c.answer, "")
	if answer == c.answer || !mLineHas(answer, "a=candidate:") {
		t.Fatalf("the answer has no RTCP candidate to drop, or only those:\n%s", c.answer)
	}
	mustCall(t, "Start", func(ctx context.Context) error {
		return c.a.Stream.Start(ctx, &sdk.StartRequest{LocalSDP: c.offer, RemoteSDP: answer})
	})
	fail := h.postedAsPair(c.a, sdkaudio.ICENegotiationDidFail, sdkaudio.RTPICENegotiationDidFail, 1)
	var d sdkaudio.ICEFailedData
	if err := fail[0].Decode(&d); err != nil || !strings.Contains(d.Reason, "component 2") {
		t.Fatalf("ICE failure data %s, %v; want a reason naming component 2", fail[0].Data, err)
	}
	h.waitNotification(c.a, sdk.MediaStreamDidStart, 1)
	if f := h.notifications(c.a, sdk.MediaStreamDidFail); len(f) != 0 {
		t.Fatalf("A failed: %s", f[0].Data)
	}
	_, attrs, err := sdkaudio.ReadAttributes(context.Background(), c.a.Stream)
	if err != nil || attrs.ICEActive {
		t.Fatalf("attributes after the ICE failure: ice_active %t, %v", attrs.ICEActive, err)
	}
}
