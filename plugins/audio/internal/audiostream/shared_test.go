package audiostream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

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
			// The shared pair is the first free one of the range: 41000,
			// unless something else on the machine holds it (tests of
			// other packages bind ports of the range at the same time).
			shared := 0
			for range 3 {
				c := h.open(account("a", settings), account("b", settings))
				for _, m := range []string{c.offer, c.answer} {
					port := audioPort(t, m)
					if shared == 0 && port >= 41000 && port <= 41010 && port%2 == 0 {
						shared = port
					}
					if port != shared {
						t.Fatalf("not on the shared port %d of 41000-41010:\n%s", shared, m)
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
			mustBeHeld(t, []int{shared, shared + 1})
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
				mustBeHeld(t, []int{shared, shared + 1})
				mustCall(t, "End B", c.b.Stream.End)
			}
			mustBeFree(t, []int{shared, shared + 1}, "after every stream ended")
		})
	}
}

// audioPort returns the port of the audio m-line of an SDP.
func audioPort(t *testing.T, sdp string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^m=audio (\d+) `).FindStringSubmatch(sdp)
	if m == nil {
		t.Fatalf("no audio m-line:\n%s", sdp)
	}
	port, _ := strconv.Atoi(m[1])
	return port
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

// TestSharedSocketsUnderFlood: calls on a shared socket pair while a
// flooder sends the shared port garbage, RTP with random SSRCs and
// authentication tags (bad SRTP) and the same from a second address, far
// faster than the calls' own packets: every stream keeps playing its
// peer's audio, and none of the flood reaches a stream (nothing dropped or
// failing authentication is counted on any call: the shared socket's
// router throws it away first).
func TestSharedSocketsUnderFlood(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	tone := writeTone(t, dir, 440, 8000, 30)
	settings := map[string]string{
		sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory,
		sdkaudio.SettingSharedSockets: "1", sdkaudio.SettingPortRange: "41200-41210", sdkaudio.SettingInputFile: tone,
	}
	var calls []*call
	for range 8 {
		c := h.open(account("a", settings), account("b", settings))
		c.start(c.answer)
		calls = append(calls, c)
	}
	var streams []sdk.Stream
	for _, c := range calls {
		streams = append(streams, c.a.Stream, c.b.Stream)
	}
	played := func() []uint64 {
		var out []uint64
		for _, s := range streams {
			out = append(out, stats(t, s).RX.Played)
		}
		return out
	}
	waitFor(t, "media on every stream", func() bool { return !slices.Contains(played(), 0) })

	// The flood: until the calls played 100 more frames each, bounded.
	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		socks := make([]*net.UDPConn, 2)
		for i := range socks {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				flooded <- 0
				return
			}
			defer c.Close()
			socks[i] = c
		}
		dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41200}
		sent := 0
		for sent < 200_000 {
			select {
			case <-stop:
				flooded <- sent
				return
			default:
			}
			p := make([]byte, 12+160+10)
			for i := range p {
				p[i] = byte(rand.Uint32())
			}
			if sent%3 != 0 {
				p[0], p[1] = 0x80, 0 // RTP v2, PCMU, a random SSRC and tag
			}
			if _, err := socks[sent%2].WriteTo(p, dst); err == nil {
				sent++
			}
			if sent%64 == 0 {
				time.Sleep(time.Millisecond) // ~64,000 packets/s at most
			}
		}
		flooded <- sent
	}()
	base := played()
	waitFor(t, "100 more frames on every stream during the flood", func() bool {
		now := played()
		for i := range now {
			if now[i] < base[i]+100 {
				return false
			}
		}
		return true
	})
	close(stop)
	if n := <-flooded; n < 1000 {
		t.Fatalf("the flooder sent %d packets only", n)
	}
	for i, s := range streams {
		st := stats(t, s)
		if st.RX.Dropped != 0 || st.RX.SRTPFailures != 0 {
			t.Errorf("stream %d saw the flood: %d dropped, %d SRTP failures", i, st.RX.Dropped, st.RX.SRTPFailures)
		}
	}
}
