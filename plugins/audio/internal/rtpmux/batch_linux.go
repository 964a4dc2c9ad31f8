//go:build linux && (amd64 || arm64)

package rtpmux

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// batchReader reads up to batchSize datagrams per recvmmsg.
type batchReader struct {
	raw   syscall.RawConn
	buf   []byte
	hdrs  [batchSize]mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	n     int
	err   error
	fn    func(fd uintptr) bool // made once: no allocation per read
}

func newBatchReader(c *net.UDPConn) (*batchReader, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	r := &batchReader{raw: raw, buf: make([]byte, batchSize*maxDatagram)}
	for i := range batchSize {
		r.iovs[i].Base = &r.buf[i*maxDatagram]
		r.iovs[i].SetLen(maxDatagram)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
		r.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.fn = func(fd uintptr) bool {
		for i := range r.hdrs {
			r.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
			r.hdrs[i].hdr.Flags = 0
		}
		for {
			n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), batchSize, 0, 0, 0)
			switch e {
			case 0:
				r.n, r.err = int(n), nil
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until readable
			default:
				r.n, r.err = 0, e
				return true
			}
		}
	}
	return r, nil
}

// read reads the next batch, waiting for one.
func (r *batchReader) read() (int, error) {
	if err := r.raw.Read(r.fn); err != nil {
		return 0, err
	}
	return r.n, r.err
}

// datagram returns the i-th datagram of the last batch and its source.
func (r *batchReader) datagram(i int) ([]byte, netip.AddrPort) {
	off := i * maxDatagram
	return r.buf[off : off+int(r.hdrs[i].len)], sockaddrAddrPort(&r.names[i])
}

func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// batchWriter sends datagrams with sendmmsg, batchSize at a time.
type batchWriter struct {
	raw   syscall.RawConn
	v6    bool // an IPv6 socket: IPv4 destinations go as mapped addresses
	hdrs  [batchSize]mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6

	cnt, off, sent, calls, errs int
	err                         error
	fn                          func(fd uintptr) bool
}

func newBatchWriter(c *net.UDPConn) (*batchWriter, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	w := &batchWriter{raw: raw, v6: c.LocalAddr().(*net.UDPAddr).IP.To4() == nil}
	for i := range batchSize {
		w.hdrs[i].hdr.Iov = &w.iovs[i]
		w.hdrs[i].hdr.SetIovlen(1)
		w.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
	}
	w.fn = func(fd uintptr) bool {
		for w.off < w.cnt {
			n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[w.off])), uintptr(w.cnt-w.off), 0, 0, 0)
			w.calls++
			switch e {
			case 0:
				w.off += int(n)
				w.sent += int(n)
			case unix.EINTR:
			case unix.EAGAIN:
				return false // wait until writable
			default:
				// The first datagram failed: skip it, send the rest.
				w.errs++
				w.err = e
				w.off++
			}
		}
		return true
	}
	return w, nil
}

// send sends bufs[i] to to[i]; it returns how many were sent, in how many
// system calls, how many failed and the last error.
func (w *batchWriter) send(bufs [][]byte, to []netip.AddrPort) (sent, calls, errs int, err error) {
	w.sent, w.calls, w.errs, w.err = 0, 0, 0, nil
	for len(bufs) > 0 {
		w.cnt, w.off = 0, 0
		for len(bufs) > 0 && w.cnt < batchSize {
			p, dst := bufs[0], to[0]
			bufs, to = bufs[1:], to[1:]
			namelen, ok := w.name(w.cnt, dst)
			if !ok || len(p) == 0 {
				w.errs++
				w.err = fmt.Errorf("cannot send %d bytes to %v from this socket", len(p), dst)
				continue
			}
			w.iovs[w.cnt].Base = &p[0]
			w.iovs[w.cnt].SetLen(len(p))
			w.hdrs[w.cnt].hdr.Namelen = namelen
			w.cnt++
		}
		if w.cnt == 0 {
			continue
		}
		if e := w.raw.Write(w.fn); e != nil {
			w.errs += w.cnt - w.off
			w.err = e
			break
		}
	}
	for i := range w.iovs {
		w.iovs[i].Base = nil // keep no datagram alive
	}
	return w.sent, w.calls, w.errs, w.err
}

// name writes dst as the i-th destination.
func (w *batchWriter) name(i int, dst netip.AddrPort) (uint32, bool) {
	a := dst.Addr()
	port := dst.Port()
	if !w.v6 {
		if !a.Is4() && !a.Is4In6() {
			return 0, false
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&w.names[i]))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return unix.SizeofSockaddrInet4, true
	}
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	sa := &w.names[i]
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return unix.SizeofSockaddrInet6, true
}

// growBuffers asks for socketBuffer bytes of kernel buffer each way: the
// datagrams of many calls arrive in bursts (every call's packet of a
// 20 ms tick at once). SO_RCVBUFFORCE passes net.core.rmem_max where the
// process may (CAP_NET_ADMIN); elsewhere the kernel caps the request at
// that limit.
func growBuffers(c *net.UDPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, socketBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, socketBuffer)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, socketBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, socketBuffer)
		}
	})
}
