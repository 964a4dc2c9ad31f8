package sdk

import (
	"net/netip"

	"github.com/pion/sdp/v3"
)

// MediaDirection is an SDP media direction attribute (RFC 3264 §5.1) as one
// side writes it: what that side may send and receive. The zero value, "",
// stands for "nothing negotiated yet" where a stream keeps its last
// negotiated direction.
type MediaDirection string

// The four SDP media directions.
const (
	SendRecv MediaDirection = "sendrecv"
	SendOnly MediaDirection = "sendonly"
	RecvOnly MediaDirection = "recvonly"
	Inactive MediaDirection = "inactive"
)

// DirectionOf returns the direction that sends when send is true and
// receives when recv is true.
func DirectionOf(send, recv bool) MediaDirection {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Sends reports whether d lets its side send (sendrecv or sendonly).
func (d MediaDirection) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether d lets its side receive (sendrecv or recvonly).
func (d MediaDirection) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse returns d as the other side sees it: sendonly becomes recvonly
// and the other way round.
func (d MediaDirection) Reverse() MediaDirection { return DirectionOf(d.Receives(), d.Sends()) }

// String returns the attribute name ("sendrecv", …), or "" for the zero
// value.
func (d MediaDirection) String() string { return string(d) }

// Attribute returns d as an SDP attribute line (a=sendrecv, …); the zero
// value writes sendrecv, the default of RFC 3264 §5.1.
func (d MediaDirection) Attribute() sdp.Attribute {
	if d == "" {
		d = SendRecv
	}
	return sdp.NewPropertyAttribute(string(d))
}

// OfferDirection is the direction to offer, given our last negotiated
// direction (the zero value before any) and whether we hold the stream
// (reference §3.5, sipsimple's RTPStream):
//
//   - nothing negotiated yet: sendrecv, even while holding;
//   - we were sending: sendonly while holding, else sendrecv;
//   - we were not sending (the remote holds us): inactive while holding,
//     else recvonly.
func OfferDirection(last MediaDirection, holding bool) MediaDirection {
	if last == "" {
		return SendRecv
	}
	return DirectionOf(last.Sends(), !holding)
}

// AnswerDirection is the direction to answer an offer with, given our last
// negotiated direction (reference §3.5): sendrecv if nothing was negotiated
// yet or we were receiving, else sendonly (we hold the stream), intersected
// with the offer as RFC 3264 §6.1 asks: we send only if the offerer
// receives, and receive only if it sends.
func AnswerDirection(last, offered MediaDirection) MediaDirection {
	recv := last == "" || last.Receives()
	return DirectionOf(offered.Receives(), recv && offered.Sends())
}

// NegotiatedDirection is our direction once an exchange is over: what our
// own SDP says, narrowed by what the remote's allows. It equals local in a
// well-formed exchange, and keeps us from sending to a remote that holds
// old-style (see RemoteDirection).
func NegotiatedDirection(local, remote MediaDirection) MediaDirection {
	return DirectionOf(local.Sends() && remote.Receives(), local.Receives() && remote.Sends())
}

// HoldFlags derives the hold flags from our negotiated direction, as the
// reference's _check_hold: we hold the stream when we only send (inactive
// may be either side, so it keeps wasOnHoldByLocal); the remote holds it
// when we may not send.
func HoldFlags(dir MediaDirection, wasOnHoldByLocal bool) (onHoldByLocal, onHoldByRemote bool) {
	onHoldByLocal = wasOnHoldByLocal
	if dir != Inactive {
		onHoldByLocal = dir == SendOnly
	}
	return onHoldByLocal, !dir.Sends()
}

// Direction returns the media direction of m within s (s may be nil): the
// media-level attribute, else the session-level one, else sendrecv (RFC
// 3264 §5.1).
func Direction(s *sdp.SessionDescription, m *sdp.MediaDescription) MediaDirection {
	for _, d := range []MediaDirection{SendRecv, SendOnly, RecvOnly, Inactive} {
		if _, ok := m.Attribute(string(d)); ok {
			return d
		}
	}
	if s != nil {
		for _, a := range s.Attributes {
			switch d := MediaDirection(a.Key); d {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				return d
			}
		}
	}
	return SendRecv
}

// RemoteDirection is Direction for the remote's m-line, with an old-style
// hold read as RFC 2543 meant it: a connection address of 0.0.0.0 (or ::)
// says the remote does not want to receive, whatever its direction
// attribute says (reference §3.5), so "recv" is dropped.
func RemoteDirection(s *sdp.SessionDescription, m *sdp.MediaDescription) MediaDirection {
	d := Direction(s, m)
	if a, err := netip.ParseAddr(ConnectionAddress(s, m)); err == nil && a.IsUnspecified() {
		return DirectionOf(d.Sends(), false)
	}
	return d
}
