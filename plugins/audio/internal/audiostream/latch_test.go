package audiostream_test

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// TestSpoofedRTPDoesNotDivert: issue 16's RTP hijack on a plain RTP call.
// Bursts of 12 PCMU packets from another port with a random SSRC reach
// B's RTP port while the call runs; B keeps sending to A (its latched
// address stays empty) and the spoofer gets none of B's packets.
func TestSpoofedRTPDoesNotDivert(t *testing.T) {
	h := newHarness(t)
	settings := map[string]string{sdkaudio.SettingCodecList: "PCMU", sdkaudio.SettingSRTP: sdkaudio.SRTPDisabled}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	waitFor(t, "media both ways", func() bool {
		return stats(t, c.a.Stream).RX.Packets > 5 && stats(t, c.b.Stream).RX.Packets > 5
	})
	spoofer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spoofer.Close()
	bPort := streamPorts(t, c.b.Stream, "")[0]
	before := stats(t, c.b.Stream).RX.Packets
	const bursts, size = 4, 12
	for range bursts {
		ssrc, seq := rand.Uint32(), uint16(rand.Uint32())
		for i := range size {
			p := make([]byte, 12+160)
			p[0] = 0x80
			binary.BigEndian.PutUint16(p[2:], seq+uint16(i))
			binary.BigEndian.PutUint32(p[4:], uint32(i*160))
			binary.BigEndian.PutUint32(p[8:], ssrc)
			if _, err := spoofer.WriteTo(p, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: bPort}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// B has taken every spoofed packet in, then sent 25 more of its own.
	waitFor(t, "the spoofed packets at B", func() bool { return stats(t, c.b.Stream).RX.Packets >= before+bursts*size })
	sent := stats(t, c.b.Stream).TX.Packets
	waitFor(t, "B's packets after the spoofing", func() bool { return stats(t, c.b.Stream).TX.Packets >= sent+25 })
	spoofer.SetReadDeadline(time.Now())
	buf := make([]byte, 1500)
	got := 0
	for {
		_, _, err := spoofer.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got > 0 {
		t.Fatalf("the spoofer got %d of B's packets", got)
	}
	_, attrs, err := sdkaudio.ReadAttributes(t.Context(), c.b.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.RemoteRTPAddressReceived != "" {
		t.Fatalf("B left A's SDP address for %s", attrs.RemoteRTPAddressReceived)
	}
}
