//go:build !(linux && (amd64 || arm64))

package rtpmux

import (
	"net"
	"net/netip"
)

// batchReader reads one datagram per call where recvmmsg is not used.
type batchReader struct {
	conn *net.UDPConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func newBatchReader(c *net.UDPConn) (*batchReader, error) {
	return &batchReader{conn: c, buf: make([]byte, maxDatagram)}, nil
}

func (r *batchReader) read() (int, error) {
	n, from, err := r.conn.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from
	return 1, nil
}

func (r *batchReader) datagram(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }

// batchWriter sends one datagram per call where sendmmsg is not used.
type batchWriter struct{ conn *net.UDPConn }

func newBatchWriter(c *net.UDPConn) (*batchWriter, error) { return &batchWriter{conn: c}, nil }

func (w *batchWriter) send(bufs [][]byte, to []netip.AddrPort) (sent, calls, errs int, err error) {
	for i, p := range bufs {
		calls++
		if _, e := w.conn.WriteToUDPAddrPort(p, to[i]); e != nil {
			errs++
			err = e
			continue
		}
		sent++
	}
	return sent, calls, errs, err
}

// growBuffers asks for socketBuffer bytes of kernel buffer each way.
func growBuffers(c *net.UDPConn) {
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
}
