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

// connected reports whether t ignores destination addresses.
func connected(t Transport) bool {
	_, ok := t.(connTransport)
	return ok
}
