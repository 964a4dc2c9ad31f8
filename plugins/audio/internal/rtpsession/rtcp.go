package rtpsession

import (
	"net"
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpMiddle returns the middle 32 bits of an NTP timestamp (LSR units).
func ntpMiddle(ntp uint64) uint32 { return uint32(ntp >> 16) }

// buildReport returns the compound RTCP packet for now: SR while sending,
// else RR, then SDES CNAME (RFC 3550 §6.1).
func (s *Session) buildReport(now time.Time) []rtcp.Packet {
	s.sendMu.Lock()
	sender := s.sentSinceRR && s.sending
	s.sentSinceRR = false
	packets, octets := s.sentPackets, s.sentOctets
	rtpTime := s.lastSendTS + uint32(now.Sub(s.lastSend)*time.Duration(s.cfg.ClockRate)/time.Second)
	s.sendMu.Unlock()

	var reports []rtcp.ReceptionReport
	s.mu.Lock()
	if s.recv.active {
		reports = append(reports, s.recv.report(now))
	}
	s.mu.Unlock()

	var first rtcp.Packet
	if sender {
		first = &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     rtpTime,
			PacketCount: packets,
			OctetCount:  octets,
			Reports:     reports,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports}
	}
	return []rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname)}
}

func (s *Session) sendReport(now time.Time) {
	s.writeRTCP(s.buildReport(now))
}

// sendBye sends a final report and BYE (RFC 3550 §6.6), unless the
// session never sent an RTP or RTCP packet: a participant that was never
// heard from does not say goodbye (RFC 3550 §6.3.7). Calls hung up as soon
// as they are answered end that way, before the first packet of media, and
// their BYE would be one more packet for each of them.
func (s *Session) sendBye() {
	s.sendMu.Lock()
	sent := s.sentPackets > 0
	s.sendMu.Unlock()
	s.mu.Lock()
	sent = sent || s.stats.rtcpSent > 0
	s.mu.Unlock()
	if !sent {
		return
	}
	pkts := s.buildReport(time.Now())
	pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	s.writeRTCP(pkts)
}

// writeRTCP marshals, protects and sends a compound RTCP packet. It is only
// called from the RTCP timer (under timerMu), or from Close after the
// timers stopped.
func (s *Session) writeRTCP(pkts []rtcp.Packet) {
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		s.cfg.Logger.Debug("rtcp marshal", "err", err)
		return
	}
	if s.srtcpOut != nil {
		if raw, err = s.srtcpOut.EncryptRTCP(nil, raw, nil); err != nil {
			s.cfg.Logger.Debug("srtcp protect", "err", err)
			return
		}
	}
	t := s.cfg.RTCP
	if s.cfg.RTCPMux {
		t = s.cfg.RTP
	}
	_, dst := s.destinations()
	if dst == nil && !connected(t) {
		return
	}
	if _, err := t.WriteTo(raw, dst); err != nil {
		s.cfg.Logger.Debug("rtcp send", "err", err)
		return
	}
	s.count(func(c *counters) { c.rtcpSent++ })
}

// handleRTCP processes a received (S)RTCP compound packet and reports
// whether it was the session's (as handleRTP).
func (s *Session) handleRTCP(pkt []byte, from net.Addr, dec *[]byte, trial bool) bool {
	now := time.Now()
	if s.srtcpIn != nil {
		plain, err := s.srtcpIn.DecryptRTCP((*dec)[:0], pkt, nil)
		if err != nil {
			if !trial {
				s.count(func(c *counters) { c.srtpFailures++ })
			}
			return false
		}
		*dec = plain[:0]
		pkt = plain
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil {
		s.drop(trial)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.rtcpReceived++
	if s.cfg.Latch && from != nil {
		before := s.recvRTCP
		s.latchRTCPLocked(from, pkts)
		if s.recvRTCP != before {
			s.notifyPeersLocked()
		}
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			if s.recv.active && p.SSRC == s.recv.ssrc || !s.recv.active {
				s.recv.lastSR = ntpMiddle(p.NTPTime)
				s.recv.lastSRAt = now
			}
			s.takeReportsLocked(p.Reports, now)
		case *rtcp.ReceiverReport:
			s.takeReportsLocked(p.Reports, now)
		}
	}
	return true
}

// takeReportsLocked records the peer's view of our stream and the RTT.
func (s *Session) takeReportsLocked(reports []rtcp.ReceptionReport, now time.Time) {
	for _, r := range reports {
		if r.SSRC != s.ssrc {
			continue
		}
		s.stats.haveRemoteReport = true
		s.stats.remoteFraction = r.FractionLost
		s.stats.remoteLost = int32(r.TotalLost<<8) >> 8
		s.stats.remoteJitter = r.Jitter
		if r.LastSenderReport != 0 {
			rtt := ntpMiddle(ntpTime(now)) - r.LastSenderReport - r.Delay
			if int32(rtt) >= 0 {
				s.stats.rtt = time.Duration(rtt) * time.Second / 65536
			}
		}
	}
}
