package rtpsession

import (
	"time"

	"github.com/pion/rtcp"
)

// receiver keeps the reception statistics of the remote source
// (RFC 3550 appendix A.1, A.3 and A.8).
type receiver struct {
	active   bool
	ssrc     uint32
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	received uint32
	// at the last report
	expectedPrior uint32
	receivedPrior uint32

	transit     int64
	haveTransit bool
	jitter      float64 // timestamp units

	lastSR   uint32 // middle 32 bits of the last SR's NTP time
	lastSRAt time.Time
	last     time.Time // last RTP arrival
}

// maxDropout is the largest forward jump still taken as the same sequence
// (RFC 3550 A.1 MAX_DROPOUT).
const maxDropout = 3000

func (r *receiver) update(ssrc uint32, seq uint16, ts uint32, arrival int64, now time.Time) {
	if !r.active || ssrc != r.ssrc {
		*r = receiver{active: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq}
	} else {
		delta := seq - r.maxSeq
		switch {
		case delta == 0:
			// duplicate: counted as received, as RFC 3550 A.3 allows
		case delta < maxDropout:
			if seq < r.maxSeq {
				r.cycles += 1 << 16
			}
			r.maxSeq = seq
		case delta <= 0xffff-100:
			// A large jump: the sender restarted its sequence.
			*r = receiver{active: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq,
				lastSR: r.lastSR, lastSRAt: r.lastSRAt}
		default:
			// reordered or duplicate within MAX_MISORDER
		}
	}
	r.received++
	r.last = now
	transit := arrival - int64(ts)
	if r.haveTransit {
		d := int64(int32(transit - r.transit))
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit, r.haveTransit = transit, true
}

func (r *receiver) extMax() uint32 { return r.cycles + uint32(r.maxSeq) }

// lost returns the cumulative number of packets lost (RFC 3550 A.3),
// negative when duplicates outnumber losses.
func (r *receiver) lost() int64 {
	expected := int64(r.extMax()) - int64(r.baseSeq) + 1
	return expected - int64(r.received)
}

// report builds a reception report block and starts a new interval.
func (r *receiver) report(now time.Time) rtcp.ReceptionReport {
	expected := r.extMax() - r.baseSeq + 1
	expectedInterval := expected - r.expectedPrior
	receivedInterval := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval != 0 && lostInterval > 0 {
		fraction = uint8((lostInterval << 8) / int64(expectedInterval))
	}
	lost := r.lost()
	// 24-bit signed, clamped (RFC 3550 A.3).
	lost = min(max(lost, -0x800000), 0x7fffff)
	rr := rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xffffff,
		LastSequenceNumber: r.extMax(),
		Jitter:             uint32(r.jitter),
	}
	if !r.lastSRAt.IsZero() {
		rr.LastSenderReport = r.lastSR
		rr.Delay = uint32(now.Sub(r.lastSRAt) * 65536 / time.Second)
	}
	return rr
}
