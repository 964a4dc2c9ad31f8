package rtpsession

import (
	"net"

	"github.com/pion/rtcp"
)

// Latching (symmetric RTP behind NAT, RFC 4961) moves our destination to
// where the peer's packets come from. With plain RTP the source address is
// all an attacker needs to forge, so a new source is only followed when its
// packets belong to the peer's stream:
//
//   - the peer's stream is bound by the packets that come from our current
//     destination (the SDP address, or the latched one): their SSRC and
//     highest sequence number;
//   - a packet from another source starts a candidate only if (plain RTP)
//     it carries the bound SSRC and a sequence number at most
//     maxLatchGap ahead of the bound one, or (SRTP) it authenticated;
//     before any stream is bound any packet starts one;
//   - the candidate is followed after Config.LatchAfter packets of one
//     SSRC in a row from its source, each at most maxProbationGap ahead of
//     the last; a packet from the current destination ends the candidate.
//
// A spoofer who does not see the peer's packets can neither guess the SSRC
// nor the sequence; with SRTP it cannot make a packet that authenticates.

const (
	// maxLatchGap is how far ahead of the bound stream's highest sequence
	// number a new source's first packet may be (2 s of 20 ms packets lost
	// while the peer's NAT binding moved).
	maxLatchGap = 100
	// maxProbationGap is how far each candidate packet may be ahead of the
	// previous one (a few lost on the way).
	maxProbationGap = 4
)

// boundStream is the peer's RTP stream as received from our destination.
type boundStream struct {
	ok   bool
	ssrc uint32
	seq  uint16 // highest sequence number
}

// latchCandidate is a new source on probation.
type latchCandidate struct {
	from  net.Addr
	ssrc  uint32
	seq   uint16
	count int
}

// ahead reports whether seq is 1..gap after prev (modulo 2^16).
func ahead(prev, seq uint16, gap uint16) bool {
	d := seq - prev
	return d >= 1 && d <= gap
}

func sameAddr(a, b net.Addr) bool {
	if a == nil || b == nil {
		return false
	}
	// Every packet is checked: UDP addresses without formatting them.
	if ua, ok := a.(*net.UDPAddr); ok {
		if ub, ok := b.(*net.UDPAddr); ok {
			return ua.Port == ub.Port && ua.Zone == ub.Zone && ua.IP.Equal(ub.IP)
		}
	}
	return a.String() == b.String()
}

// sameIP reports whether two UDP addresses have the same IP.
func sameIP(a, b net.Addr) bool {
	ua, ok1 := a.(*net.UDPAddr)
	ub, ok2 := b.(*net.UDPAddr)
	if ok1 && ok2 {
		return ua.IP.Equal(ub.IP)
	}
	ha, _, err1 := net.SplitHostPort(a.String())
	hb, _, err2 := net.SplitHostPort(b.String())
	return err1 == nil && err2 == nil && ha == hb
}

// rtpDestLocked is where RTP goes now.
func (s *Session) rtpDestLocked() net.Addr {
	if s.recvRTP != nil {
		return s.recvRTP
	}
	return s.remoteRTP
}

// latchLocked applies one received RTP packet from from (authenticated
// when SRTP is on) to the latching state. It returns the old and new
// destination when it switched.
func (s *Session) latchLocked(from net.Addr, ssrc uint32, seq uint16) (old, latched net.Addr) {
	cur := s.rtpDestLocked()
	if sameAddr(cur, from) {
		switch {
		case !s.peer.ok || s.peer.ssrc != ssrc:
			s.peer = boundStream{ok: true, ssrc: ssrc, seq: seq}
		case int16(seq-s.peer.seq) > 0:
			s.peer.seq = seq
		}
		s.cand = latchCandidate{}
		return nil, nil
	}
	c := &s.cand
	if sameAddr(c.from, from) && c.ssrc == ssrc && ahead(c.seq, seq, maxProbationGap) {
		c.seq = seq
		c.count++
	} else {
		if s.peer.ok && s.srtpIn == nil && (ssrc != s.peer.ssrc || !ahead(s.peer.seq, seq, maxLatchGap)) {
			return nil, nil // not the peer's stream: a pending candidate stays
		}
		*c = latchCandidate{from: from, ssrc: ssrc, seq: seq, count: 1}
	}
	if c.count < s.cfg.LatchAfter {
		return nil, nil
	}
	s.peer = boundStream{ok: true, ssrc: c.ssrc, seq: c.seq}
	s.cand = latchCandidate{}
	s.recvRTP = from
	if s.cfg.RTCPMux {
		s.recvRTCP = from
	}
	return cur, from
}

// latchRTCPLocked follows the source of received RTCP without rtcp-mux
// (with rtcp-mux RTCP goes where RTP goes). A new source is taken when the
// compound authenticated (SRTCP), or when it comes from the IP our RTP goes
// to and reports as the bound stream's SSRC.
func (s *Session) latchRTCPLocked(from net.Addr, pkts []rtcp.Packet) {
	if s.cfg.RTCPMux || connected(s.cfg.RTCP) {
		return
	}
	if s.srtcpIn == nil {
		dst := s.rtpDestLocked()
		if !s.peer.ok || dst == nil || !sameIP(dst, from) || !fromSSRC(pkts, s.peer.ssrc) {
			return
		}
	}
	if sameAddr(s.remoteRTCP, from) {
		s.recvRTCP = nil
		return
	}
	s.recvRTCP = from
}

// fromSSRC reports whether a compound RTCP packet's report comes from
// ssrc.
func fromSSRC(pkts []rtcp.Packet, ssrc uint32) bool {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			return p.SSRC == ssrc
		case *rtcp.ReceiverReport:
			return p.SSRC == ssrc
		}
	}
	return false
}
