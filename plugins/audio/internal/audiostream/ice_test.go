package audiostream_test

import (
	"context"
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
		h.waitNotification(o, sdkaudio.ICENegotiationDidSucceed, 1)
		waitFor(t, "ICE component 1 connected", func() bool {
			for _, n := range h.notifications(o, sdkaudio.ICENegotiationStateDidChange) {
				var d sdkaudio.ICEStateData
				if err := n.Decode(&d); err != nil {
					t.Fatal(err)
				}
				if d.Component == 1 && d.State == "Connected" && d.PrevState == "Checking" {
					return true
				}
			}
			return false
		})
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
	for _, name := range []string{sdkaudio.ICENegotiationDidSucceed, sdkaudio.ICENegotiationDidFail} {
		if n := h.notifications(c.a, name); len(n) != 0 {
			t.Errorf("A posted %s", name)
		}
	}
}
