package rtpsession

import (
	"net"
)

// Transport is a datagram transport for RTP or RTCP. A *net.UDPConn (or any
// net.PacketConn) is one; [ConnTransport] adapts a connected net.Conn such
// as an ICE connection.
type Transport interface {
	// ReadFrom reads one datagram and reports where it came from.
	ReadFrom(p []byte) (n int, addr net.Addr, err error)
	// WriteTo sends one datagram to addr.
	WriteTo(p []byte, addr net.Addr) (n int, err error)
	// Close unblocks ReadFrom and releases the transport.
	Close() error
}

// ConnTransport adapts a connected datagram net.Conn (for example the
// *ice.Conn of a negotiated ICE component) to a Transport: ReadFrom reports
// the connection's remote address and WriteTo ignores its address argument.
func ConnTransport(c net.Conn) Transport { return connTransport{c} }

type connTransport struct{ c net.Conn }

func (t connTransport) ReadFrom(p []byte) (int, net.Addr, error) {
	n, err := t.c.Read(p)
	return n, t.c.RemoteAddr(), err
}

func (t connTransport) WriteTo(p []byte, _ net.Addr) (int, error) { return t.c.Write(p) }

func (t connTransport) Close() error { return t.c.Close() }

// A PushTransport delivers the datagrams it receives itself, on a
// goroutine of its own (a socket shared by many sessions, read in batches,
// hands each session its packets): a session starts no reader for it and
// never calls its ReadFrom.
type PushTransport interface {
	Transport
	// Receive sets the function received datagrams are given to. It
	// returns whether the datagram was the session's: valid RTP or RTCP
	// that authenticated when SRTP is on. p is valid during the call
	// only. With trial set the transport is finding out which of several
	// sessions a datagram belongs to, and a session that refuses it
	// counts nothing. authenticated says whether the session accepts
	// only datagrams that authenticate (SRTP): a transport may then try
	// it with datagrams from unknown sources. Receive is called once,
	// before any datagram; deliver is called from one goroutine at a
	// time.
	Receive(deliver func(p []byte, from net.Addr, trial bool) bool, authenticated bool)
}

// A PeerTransport is told where the session sends (the SDP address, then
// a latched one, or nil), for example to route received datagrams by
// their source. SetPeer is called at Start and at every change.
type PeerTransport interface {
	SetPeer(addr net.Addr)
}

// connected reports whether t ignores destination addresses.
func connected(t Transport) bool {
	_, ok := t.(connTransport)
	return ok
}
