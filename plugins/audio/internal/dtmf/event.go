package dtmf

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// PayloadSize is the size of one telephone-event payload.
const PayloadSize = 4

// DefaultPayloadType is the payload type the reference uses for
// telephone-event.
const DefaultPayloadType = 101

// digits lists the DTMF digits in event-code order (RFC 4733 §3.2).
const digits = "0123456789*#ABCD"

// Code returns the RFC 4733 event code of a DTMF digit (0-9 * # A-D, the
// letters in either case).
func Code(digit rune) (uint8, error) {
	i := strings.IndexRune(digits, digit)
	if i < 0 && digit >= 'a' && digit <= 'd' {
		i = strings.IndexRune(digits, digit-'a'+'A')
	}
	if i < 0 {
		return 0, fmt.Errorf("digit %q: %w", digit, ErrInvalidDigit)
	}
	return uint8(i), nil
}

// Event is one RFC 4733 §2.3 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code; 0-15 are DTMF digits.
	Code uint8
	// End is the E bit: this packet ends the event.
	End bool
	// Volume is the power level in -dBm0, 0-63 (only 6 bits are sent).
	Volume uint8
	// Duration is the event duration so far, in RTP timestamp units.
	Duration uint16
}

// Digit returns the DTMF digit of the event, false for codes above 15.
func (e Event) Digit() (rune, bool) {
	if int(e.Code) >= len(digits) {
		return 0, false
	}
	return rune(digits[e.Code]), true
}

// AppendTo appends the 4-byte payload to b. The R bit is sent as zero.
func (e Event) AppendTo(b []byte) []byte {
	flags := e.Volume & 0x3F
	if e.End {
		flags |= 0x80
	}
	b = append(b, e.Code, flags)
	return binary.BigEndian.AppendUint16(b, e.Duration)
}

// Marshal returns the 4-byte payload.
func (e Event) Marshal() []byte {
	return e.AppendTo(make([]byte, 0, PayloadSize))
}

// Unmarshal parses the first event of a telephone-event payload. The R bit
// is ignored, as receivers must (RFC 4733 §2.3.3); bytes after the first 4
// are ignored.
func Unmarshal(b []byte) (Event, error) {
	if len(b) < PayloadSize {
		return Event{}, fmt.Errorf("telephone-event of %d bytes: %w", len(b), ErrShortPayload)
	}
	return Event{
		Code:     b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}
