package rtpsession

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/jitter"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports"
)

// TestWithPortsAndJitter wires the pieces as the audio stream does: port
// pairs from the allocator, SRTP-less sessions, received packets into a
// jitter buffer popped once per frame.
func TestWithPortsAndJitter(t *testing.T) {
	ip := net.IPv4(127, 0, 0, 1)
	alloc := ports.New(ports.Range{Min: 42000, Max: 42999})
	pa, err := alloc.Allocate(context.Background(), ip)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := alloc.Allocate(context.Background(), ip)
	if err != nil {
		pa.Close()
		t.Fatal(err)
	}
	buf, err := jitter.New(jitter.Config{MinDelay: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pushed := make(chan struct{}, 64)
	sa, err := New(Config{RTP: pa.RTP, RTCP: pa.RTCP, RemoteRTP: pb.RTP.LocalAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := New(Config{RTP: pb.RTP, RTCP: pb.RTCP, RemoteRTP: pa.RTP.LocalAddr(),
		OnPacket: func(p Packet) {
			buf.Push(jitter.Packet{SSRC: p.SSRC, SequenceNumber: p.SequenceNumber, Timestamp: p.Timestamp,
				Marker: p.Marker, PayloadType: p.PayloadType, Payload: p.Payload}, p.Arrival)
			pushed <- struct{}{}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if st := sa.Stats(); st.RemoteRTCPSDP.(*net.UDPAddr).Port != pb.RTCPPort() {
		t.Fatalf("RTCP address not derived as RTP+1: %v", st.RemoteRTCPSDP)
	}
	for _, s := range []*Session{sa, sb} {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if err := sa.Send(0, []byte{byte(i)}, false, 160); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		select {
		case <-pushed:
		case <-time.After(10 * time.Second):
			t.Fatal("packet not received")
		}
	}
	for i := 0; i < 5; i++ {
		p, st := buf.Pop()
		if st != jitter.StatusOK || p.Payload[0] != byte(i) {
			t.Fatalf("pop %d: %v %v", i, st, p.Payload)
		}
	}
}

func TestRTCPDelay(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Second} {
		for i := 0; i < 1000; i++ {
			if got := rtcpDelay(d); got < d/2 || got > d*3/2 {
				t.Fatalf("rtcpDelay(%v) = %v", d, got)
			}
		}
	}
}
