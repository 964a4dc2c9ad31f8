package dtmf

// Digit is one DTMF digit a [Receiver] recognised.
type Digit struct {
	// Digit is one of 0-9 * # A-D.
	Digit rune
	// Timestamp is the RTP timestamp of the event (its start).
	Timestamp uint32
	// Volume is the event's power level in -dBm0.
	Volume uint8
}

// segmentMin is the smallest duration after which a following packet with a
// new timestamp, no marker and the same code can be the next segment of a
// long event (RFC 4733 §2.5.2.3 starts a segment when the 16-bit duration
// is about to overflow). The margin tolerates lost packets at the end of
// a segment.
const segmentMin = 0xF000

// Receiver recognises digits in received telephone-event packets. It is
// not safe for concurrent use: one RTP receive loop owns it. The zero value
// is ready to use.
type Receiver struct {
	have     bool   // an event has been seen
	ts       uint32 // timestamp of the current event (segment)
	code     uint8
	duration uint16 // largest duration seen in the current segment
	ended    bool   // an E packet of the current event was seen
}

// Receive takes one telephone-event packet's RTP timestamp, marker bit and
// payload. It returns the digit, true the first time a DTMF event is seen,
// and false for every other packet: the event's updates and end packets,
// late packets of an older event, later segments of a long event, and
// non-DTMF events. It fails only for payloads shorter than 4 bytes.
func (r *Receiver) Receive(timestamp uint32, marker bool, payload []byte) (Digit, bool, error) {
	ev, err := Unmarshal(payload)
	if err != nil {
		return Digit{}, false, err
	}
	if r.have {
		delta := timestamp - r.ts
		switch {
		case delta == 0:
			// Same event: an update, or an end packet and its repeats.
			r.duration = max(r.duration, ev.Duration)
			r.ended = r.ended || ev.End
			return Digit{}, false, nil
		case int32(delta) < 0:
			// A reordered packet of an event already superseded.
			return Digit{}, false, nil
		case !marker && ev.Code == r.code && !r.ended && r.duration >= segmentMin && delta <= 0xFFFF:
			// The next segment of a long event.
			r.ts, r.duration, r.ended = timestamp, ev.Duration, ev.End
			return Digit{}, false, nil
		}
	}
	// A new timestamp starts a new event, whether or not its first
	// packet (marker) arrived and whether or not the previous event's
	// end packets did.
	r.have, r.ts, r.code, r.duration, r.ended = true, timestamp, ev.Code, ev.Duration, ev.End
	d, ok := ev.Digit()
	if !ok {
		return Digit{}, false, nil
	}
	return Digit{Digit: d, Timestamp: timestamp, Volume: ev.Volume}, true, nil
}

// Active reports whether the last event seen has not ended (no E packet
// yet): a player can hold back audio meanwhile.
func (r *Receiver) Active() bool {
	return r.have && !r.ended
}
