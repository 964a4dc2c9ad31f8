package rtpsession

import (
	"net"
	"time"
)

// Stats is a snapshot of a Session's statistics.
type Stats struct {
	SSRC       uint32 // ours
	RemoteSSRC uint32

	PacketsSent     uint64
	BytesSent       uint64 // datagram bytes, SRTP overhead included
	PacketsReceived uint64 // accepted RTP packets, keep-alives included
	BytesReceived   uint64

	// Lost is the cumulative number of remote packets lost (RFC 3550 A.3);
	// FractionLost is the fraction lost in the last report interval.
	Lost         int64
	FractionLost float64
	// Jitter is the interarrival jitter of the remote stream (A.8).
	Jitter time.Duration
	// RTT is the round-trip time from the last RTCP report about our
	// stream (0 until one arrived).
	RTT time.Duration

	// What the peer reports about our stream.
	RemoteLost         int64
	RemoteFractionLost float64
	RemoteJitter       time.Duration

	SRTPFailures uint64 // packets dropped for failing SRTP/SRTCP authentication or replay checks
	Dropped      uint64 // malformed packets and unaccepted payload types
	RTCPSent     uint64
	RTCPReceived uint64
	LastReceived time.Time // zero until the first RTP packet

	// RemoteRTPSDP and RemoteRTCPSDP are the addresses from SDP;
	// RemoteRTPReceived and RemoteRTCPReceived the latched source addresses
	// (nil unless Latch moved the destination).
	RemoteRTPSDP, RemoteRTCPSDP           net.Addr
	RemoteRTPReceived, RemoteRTCPReceived net.Addr
}

// Stats returns a snapshot of the session's statistics.
func (s *Session) Stats() Stats {
	s.sendMu.Lock()
	st := Stats{
		SSRC:        s.ssrc,
		PacketsSent: uint64(s.sentPackets),
		BytesSent:   s.sentBytes,
	}
	s.sendMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	st.PacketsReceived = c.packetsReceived
	st.BytesReceived = c.bytesReceived
	st.SRTPFailures = c.srtpFailures
	st.Dropped = c.dropped
	st.RTCPSent = c.rtcpSent
	st.RTCPReceived = c.rtcpReceived
	st.RTT = c.rtt
	if c.haveRemoteReport {
		st.RemoteLost = int64(c.remoteLost)
		st.RemoteFractionLost = float64(c.remoteFraction) / 256
		st.RemoteJitter = time.Duration(c.remoteJitter) * time.Second / time.Duration(s.cfg.ClockRate)
	}
	if s.recv.active {
		st.RemoteSSRC = s.recv.ssrc
		st.Lost = s.recv.lost()
		st.Jitter = time.Duration(s.recv.jitter * float64(time.Second) / float64(s.cfg.ClockRate))
		st.LastReceived = s.recv.last
		expected := s.recv.extMax() - s.recv.baseSeq + 1
		if ei := expected - s.recv.expectedPrior; ei > 0 {
			if li := int64(ei) - int64(s.recv.received-s.recv.receivedPrior); li > 0 {
				st.FractionLost = float64(li) / float64(ei)
			}
		}
	}
	st.RemoteRTPSDP, st.RemoteRTCPSDP = s.remoteRTP, s.remoteRTCP
	st.RemoteRTPReceived, st.RemoteRTCPReceived = s.recvRTP, s.recvRTCP
	return st
}
