// Package dtmf implements RFC 4733 telephone-events for DTMF digits: the
// 4-byte event payload, a sender that turns a digit into the packets of one
// event on a 20 ms packet clock, and a receiver that turns incoming packets
// back into digits exactly once per event.
//
// The reference (pjmedia under the SIP SIMPLE SDK) negotiates
// telephone-event/8000 with payload type 101 and sends each digit as an
// event of 1600 timestamp units (200 ms at 8 kHz), volume 10, with the final
// packet (E bit set) sent three times; [NewSender] defaults to the same.
//
// API:
//
//   - [Event] is one payload (RFC 4733 §2.3): event code, E bit, volume,
//     duration. [Event.Marshal], [Event.AppendTo] and [Unmarshal] convert it;
//     [Unmarshal] fails with [ErrShortPayload] under 4 bytes.
//   - [Code] and [Event.Digit] map DTMF digits 0-9 * # A-D to event codes
//     0-15 (RFC 4733 §3.2) and back.
//   - [Sender] queues digits ([Sender.Enqueue]) and, called once per packet
//     interval ([Sender.Tick]), returns the next [Packet]: its payload, the
//     RTP marker bit (first packet of an event, §2.5.1.2), and whether it
//     starts a new event (the RTP layer then takes the current media
//     timestamp; every later packet of the event repeats it, §2.5.1.1).
//   - [Receiver] takes each received telephone-event packet with its RTP
//     timestamp and marker ([Receiver.Receive]) and reports a [Digit] the
//     first time it sees an event, whichever packet that is: a lost start
//     packet does not lose the digit, updates and the redundant end packets
//     are not reported again, a new timestamp ends an event whose end
//     packets were lost, late packets of an older event are ignored, and
//     the segments of a long event (§2.5.2.3) count as one.
package dtmf
