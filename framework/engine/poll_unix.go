//go:build unix

package engine

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
)

// canPoll tells that busyRead can read a socket without waiting.
const canPoll = true

// busyRead reads a datagram if one is queued, without waiting: ok is
// false when none is.
func (c *packetConn) busyRead(b []byte) (n int, addr net.Addr, ok bool, err error) {
	var sa syscall.Sockaddr
	var rerr error
	if err := c.raw.Read(func(fd uintptr) bool {
		n, sa, rerr = syscall.Recvfrom(int(fd), b, 0)
		return true // never wait
	}); err != nil {
		return 0, nil, false, err // closed, or the deadline of Close
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EWOULDBLOCK), errors.Is(rerr, syscall.EINTR):
		return 0, nil, false, nil
	case rerr != nil:
		return 0, nil, false, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: os.NewSyscallError("recvfrom", rerr)}
	}
	from := udpAddr(sa)
	if from == nil {
		// Not from an IP address, which a UDP socket cannot read: the
		// datagram is dropped.
		return 0, nil, false, nil
	}
	return max(n, 0), from, true, nil
}

// udpAddr is the address of a datagram's sender, as net.UDPConn gives it;
// nil for a socket address that is not IP.
func udpAddr(sa syscall.Sockaddr) *net.UDPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.UDPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.UDPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			} else {
				a.Zone = strconv.Itoa(int(sa.ZoneId))
			}
		}
		return a
	}
	return nil
}
