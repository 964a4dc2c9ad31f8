package rtpsession

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func TestReceiverLoss(t *testing.T) {
	tests := []struct {
		name     string
		seqs     []uint16
		lost     int64
		extMax   uint32
		fraction uint8
	}{
		{"in order", []uint16{10, 11, 12, 13}, 0, 13, 0},
		{"one gap", []uint16{10, 11, 13, 14}, 1, 14, 51}, // 1/5 * 256
		{"reordered", []uint16{10, 12, 11, 13}, 0, 13, 0},
		{"wraparound", []uint16{65534, 65535, 0, 1}, 0, 65536 + 1, 0},
		{"loss across wrap", []uint16{65534, 1}, 2, 65536 + 1, 128},
		{"duplicate", []uint16{10, 11, 11, 12}, -1, 12, 0},
		{"restart", []uint16{10, 11, 40000, 40001}, 0, 40001, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r receiver
			for i, s := range tt.seqs {
				r.update(7, s, uint32(i)*160, int64(i)*160, time.Now())
			}
			if got := r.lost(); got != tt.lost {
				t.Errorf("lost = %d, want %d", got, tt.lost)
			}
			rep := r.report(time.Now())
			if rep.LastSequenceNumber != tt.extMax || rep.FractionLost != tt.fraction || rep.SSRC != 7 {
				t.Errorf("report %+v, want extMax %d fraction %d", rep, tt.extMax, tt.fraction)
			}
			if tt.lost >= 0 && rep.TotalLost != uint32(tt.lost) {
				t.Errorf("TotalLost %d", rep.TotalLost)
			}
			// A second report with nothing new has no fractional loss.
			if rep := r.report(time.Now()); rep.FractionLost != 0 {
				t.Errorf("second interval fraction %d", rep.FractionLost)
			}
		})
	}
}

func TestReceiverJitter(t *testing.T) {
	tests := []struct {
		name    string
		arrival func(i int) int64 // arrival in timestamp units
		min     float64
		max     float64
	}{
		{"perfectly paced", func(i int) int64 { return int64(i) * 160 }, 0, 0},
		{"constant offset", func(i int) int64 { return 5000 + int64(i)*160 }, 0, 0},
		// Alternating ±40 units: |D| = 80 every packet, J converges to 80.
		{"alternating", func(i int) int64 { return int64(i)*160 + int64(i%2)*80 }, 79, 80},
		// All at once: |D| = 160, J converges to 160.
		{"burst", func(int) int64 { return 0 }, 159, 160},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r receiver
			for i := 0; i < 500; i++ {
				r.update(1, uint16(i), uint32(i)*160, tt.arrival(i), time.Now())
			}
			if r.jitter < tt.min || r.jitter > tt.max {
				t.Fatalf("jitter %.2f, want %.0f..%.0f", r.jitter, tt.min, tt.max)
			}
		})
	}
}

func TestReportDLSR(t *testing.T) {
	var r receiver
	r.update(1, 1, 0, 0, time.Now())
	at := time.Unix(1000, 0)
	r.lastSR, r.lastSRAt = 0xabcd1234, at
	rep := r.report(at.Add(1500 * time.Millisecond))
	if rep.LastSenderReport != 0xabcd1234 || rep.Delay != 65536*3/2 {
		t.Fatalf("LSR %x DLSR %d", rep.LastSenderReport, rep.Delay)
	}
}

func TestRTT(t *testing.T) {
	s, err := New(Config{RTP: listen(t), RTCPMux: true, SSRC: 42})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	sent := now.Add(-300 * time.Millisecond)
	s.mu.Lock()
	s.takeReportsLocked([]rtcp.ReceptionReport{
		{SSRC: 41, LastSenderReport: 1}, // not about us
		{SSRC: 42, LastSenderReport: ntpMiddle(ntpTime(sent)), Delay: 65536 / 10, FractionLost: 64, TotalLost: 0xffffff, Jitter: 800},
	}, now)
	s.mu.Unlock()
	st := s.Stats()
	if st.RTT < 195*time.Millisecond || st.RTT > 205*time.Millisecond {
		t.Fatalf("RTT %v, want 200ms", st.RTT)
	}
	if st.RemoteFractionLost != 0.25 || st.RemoteLost != -1 || st.RemoteJitter != 100*time.Millisecond {
		t.Fatalf("remote view %+v", st)
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Unix(0, 500_000_000).UTC()
	if got := ntpTime(tm); got != uint64(ntpEpochOffset)<<32|1<<31 {
		t.Fatalf("ntpTime = %x", got)
	}
}

// FuzzReceive feeds arbitrary datagrams to the RTP and RTCP input paths of a
// plain and an SRTP session: nothing may panic, and only a datagram that
// parses as RTP may be delivered.
func FuzzReceive(f *testing.F) {
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, SSRC: 5}, Payload: []byte{1, 2, 3}}).Marshal()
	f.Add(pkt)
	padded, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, Extension: true, ExtensionProfile: 0xbede, CSRC: []uint32{1}}, Payload: []byte{1, 2}, PaddingSize: 3}).Marshal()
	f.Add(padded)
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2, LastSenderReport: 3}}}, rtcp.NewCNAMESourceDescription(1, "x")})
	f.Add(rr)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40}})
	f.Add(sr)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, secure := range []bool{false, true} {
			var delivered []Packet
			cfg := Config{RTP: nopTransport{}, RTCPMux: true, OnPacket: func(p Packet) { delivered = append(delivered, kept(p)) }, PayloadTypes: []uint8{0, 8}}
			if secure {
				cfg.SRTP = &SRTP{Profile: 1, LocalKey: key(1), RemoteKey: key(1)}
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
			s.handleRTP(append([]byte(nil), data...), from, new([]byte), false)
			s.handleRTCP(append([]byte(nil), data...), from, new([]byte), false)
			if len(delivered) > 0 {
				var p rtp.Packet
				if err := p.Unmarshal(data); err != nil || secure {
					t.Fatalf("delivered %+v from %x (secure %v)", delivered, data, secure)
				}
				if delivered[0].PayloadType != 0 && delivered[0].PayloadType != 8 {
					t.Fatalf("unaccepted payload type delivered: %d", delivered[0].PayloadType)
				}
			}
		}
	})
}

type nopTransport struct{}

func (nopTransport) ReadFrom([]byte) (int, net.Addr, error)    { return 0, nil, net.ErrClosed }
func (nopTransport) WriteTo(p []byte, _ net.Addr) (int, error) { return len(p), nil }
func (nopTransport) Close() error                              { return nil }
