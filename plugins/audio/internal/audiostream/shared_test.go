package audiostream_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

var ssrcLine = regexp.MustCompile(`(?m)^a=ssrc:(\d+) cname:\S+\r?$`)

// Streams on shared sockets (rtp.shared_sockets): every stream of the
// plugin advertises the same port and says its SSRC; both ends of each
// call live in this plugin, so every packet comes from the one shared
// address and only the SSRC tells the streams apart. Three calls at once,
// each side hearing its own peer's tone; the ports are held while a stream
// lives and free after the last one ended.
func TestSharedSockets(t *testing.T) {
	for _, tt := range []struct {
		codec, srtp string
	}{
		{"PCMU", sdkaudio.SRTPDisabled},
		{"opus", sdkaudio.SRTPMandatory},
	} {
		t.Run(tt.codec+"/"+tt.srtp, func(t *testing.T) {
			h := newHarness(t)
			settings := map[string]string{
				sdkaudio.SettingCodecList: tt.codec, sdkaudio.SettingSRTP: tt.srtp,
				sdkaudio.SettingSharedSockets: "1", sdkaudio.SettingPortRange: "41000-41010",
			}
			var calls []*call
			ssrcs := map[string]bool{}
			for range 3 {
				c := h.open(account("a", settings), account("b", settings))
				for _, m := range []string{c.offer, c.answer} {
					if !mLineHas(m, "m=audio 41000 ") {
						t.Fatalf("not on the shared port 41000:\n%s", m)
					}
					got := ssrcLine.FindStringSubmatch(m)
					if got == nil {
						t.Fatalf("no a=ssrc:\n%s", m)
					}
					if ssrcs[got[1]] {
						t.Fatalf("SSRC %s said twice", got[1])
					}
					ssrcs[got[1]] = true
				}
				calls = append(calls, c)
			}
			mustBeHeld(t, []int{41000, 41001})
			for _, c := range calls {
				c.start(c.answer)
			}
			// The middle call is checked by ear; the others carry media
			// (input from the devices' null clock: silence, still RTP).
			c := calls[1]
			recA, recB := exchange(t, c, false)
			hears(t, "A", recA, toneB)
			hears(t, "B", recB, toneA)
			for i, c := range calls {
				for _, o := range []*sdk.Opened{c.a, c.b} {
					st := stats(t, o.Stream)
					if st.RX.Packets == 0 || st.RX.SRTPFailures != 0 {
						t.Errorf("call %d stream %d: %d packets received, %d SRTP failures", i, o.Handle, st.RX.Packets, st.RX.SRTPFailures)
					}
				}
			}
			for _, c := range calls {
				mustCall(t, "End A", c.a.Stream.End)
				mustBeHeld(t, []int{41000, 41001})
				mustCall(t, "End B", c.b.Stream.End)
			}
			mustBeFree(t, []int{41000, 41001}, "after every stream ended")
		})
	}
}

func TestSharedSocketsSetting(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"-1", "65", "two"} {
		ctx := context.Background()
		_, err := h.provs[0].Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: account("a", map[string]string{sdkaudio.SettingSharedSockets: v}), Prepare: session("a", sdk.DirectionOutgoing)})
		if err == nil {
			t.Fatalf("%s=%q accepted", sdkaudio.SettingSharedSockets, v)
		}
		if want := fmt.Sprintf("%s=%s", sdkaudio.SettingSharedSockets, strconv.Quote(v)); !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(err.Error()) {
			t.Fatalf("error %q does not name %s", err, want)
		}
	}
}
