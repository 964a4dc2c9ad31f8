//go:build !unix

package engine

import "net"

// canPoll tells that busyRead can read a socket without waiting: not
// here, where the reader always waits for the socket.
const canPoll = false

func (c *packetConn) busyRead([]byte) (int, net.Addr, bool, error) {
	return 0, nil, false, nil
}
