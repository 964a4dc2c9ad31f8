package audiostream

import (
	"math"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/builtin"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
	"github.com/sipstreams/sipstreams/sdk/codec"
)

// capture is a sender that keeps what the port sends.
type capture struct {
	packets  []rtpsession.Packet
	advanced uint32
}

func (c *capture) Send(pt uint8, payload []byte, marker bool, advance uint32) error {
	if payload != nil {
		c.packets = append(c.packets, rtpsession.Packet{PayloadType: pt, Payload: append([]byte(nil), payload...), Marker: marker, Timestamp: c.advanced})
	}
	c.advanced += advance
	return nil
}

func testPort(t testing.TB, c codec.Codec, pt uint8) (*mediaPort, *capture) {
	t.Helper()
	p, err := newMediaPort("test", mixer.DefaultSampleRate, func(rune) {})
	if err != nil {
		t.Fatal(err)
	}
	out := &capture{}
	n := negotiation{codec: c, sendPT: pt, recvPT: pt, events: true, sendEvPT: 101, recvEvPT: 101, evRate: 8000}
	if err := p.configure(out, n); err != nil {
		t.Fatal(err)
	}
	p.setSending(true)
	return p, out
}

func sineFrame(rate int, freq float64, frame int) []int16 {
	n := rate / 50
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(frame*n+i)/float64(rate)))
	}
	return out
}

// TestPortLoop sends frames through one port's encoder and plays them
// back through its decoder: the timestamps advance by one packet per tick,
// a DTMF event's packets share its start timestamp, and the media clock
// catches up after it.
func TestPortLoop(t *testing.T) {
	for _, c := range []codec.Codec{builtin.PCMU(), builtin.G722(), builtin.Opus()} {
		t.Run(c.Info().Name, func(t *testing.T) {
			p, out := testPort(t, c, 96)
			step := c.Info().TimestampStep()
			for i := range 10 {
				p.WriteFrame(sineFrame(p.SampleRate(), 1000, i))
			}
			if len(out.packets) != 10 || !out.packets[0].Marker || out.packets[1].Marker {
				t.Fatalf("%d packets, markers %t %t", len(out.packets), out.packets[0].Marker, out.packets[1].Marker)
			}
			for i, pkt := range out.packets {
				if pkt.Timestamp != uint32(i)*step {
					t.Fatalf("packet %d at %d, want %d", i, pkt.Timestamp, uint32(i)*step)
				}
			}
			if err := p.sendDTMF('5'); err != nil {
				t.Fatal(err)
			}
			start := out.advanced
			for i := range 20 {
				p.WriteFrame(sineFrame(p.SampleRate(), 1000, 10+i))
			}
			var events, after int
			for _, pkt := range out.packets[10:] {
				switch {
				case pkt.PayloadType == 101:
					events++
					if pkt.Timestamp != start {
						t.Fatalf("event packet at %d, want the event's start %d", pkt.Timestamp, start)
					}
				default:
					if after == 0 && pkt.Timestamp != start+uint32(events)*step {
						t.Fatalf("first audio after the event at %d, want %d", pkt.Timestamp, start+uint32(events)*step)
					}
					after++
				}
			}
			// 200 ms at 20 ms per packet, the last one sent three times.
			if events != 12 || after != 8 {
				t.Fatalf("%d event packets and %d audio packets", events, after)
			}
		})
	}
}

// BenchmarkPortTick measures one 20 ms tick of the send side (encode,
// hand to RTP) and of the receive side (jitter buffer, decode) per codec,
// at the codec's rate (the mixer converts only where it must).
func BenchmarkPortTick(b *testing.B) {
	for _, c := range []codec.Codec{builtin.PCMU(), builtin.G722(), builtin.Opus()} {
		b.Run(c.Info().Name, func(b *testing.B) {
			p, out := testPort(b, c, 96)
			frame := sineFrame(p.SampleRate(), 440, 0)
			play := make([]int16, len(frame))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				p.WriteFrame(frame)
				pkt := out.packets[len(out.packets)-1]
				pkt.SequenceNumber, pkt.Timestamp = uint16(i), uint32(i)*c.Info().TimestampStep()
				p.receive(pkt)
				p.ReadFrame(play)
				out.packets = out.packets[:0]
			}
		})
	}
}
