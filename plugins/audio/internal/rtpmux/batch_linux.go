//go:build linux && (amd64 || arm64)

package rtpmux

import (
	"encoding/binary"
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

// GSO (UDP_SEGMENT, Linux 4.18): datagrams of one size to one destination
// go as one message that the kernel cuts into datagrams after its IP path,
// which is then walked once for all of them — half the kernel's cost per
// packet between two hosts that share their sockets.
const (
	maxSegments = 64    // datagrams per GSO message (UDP_MAX_SEGMENTS)
	maxGSOBytes = 60000 // and bytes: under 64 KiB with the headers
)

// batchWriter sends datagrams with sendmmsg, batchSize at a time, those of
// one size to one destination as GSO messages while the kernel takes them.
type batchWriter struct {
	raw   syscall.RawConn
	v6    bool // an IPv6 socket: IPv4 destinations go as mapped addresses
	gso   bool // UDP_SEGMENT is used (until the kernel refuses it once)
	hdrs  [batchSize]mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	ctrl  [batchSize][]byte // each message's UDP_SEGMENT control message
	segs  [batchSize]int    // datagrams in each message

	// grouping scratch, reused: runs of datagrams of one size to one
	// destination, in the order of their first datagram, each the
	// datagrams' indices in order; groupOf is each destination's last.
	groupOf map[netip.AddrPort]int
	groups  [][]int

	cnt, off, sent, calls, errs int
	gsoRefused                  bool // the message at off was a refused GSO one
	err                         error
	fn                          func(fd uintptr) bool
}

func newBatchWriter(c *net.UDPConn) (*batchWriter, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	w := &batchWriter{raw: raw, v6: c.LocalAddr().(*net.UDPAddr).IP.To4() == nil, gso: true, groupOf: map[netip.AddrPort]int{}}
	for i := range batchSize {
		w.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		w.ctrl[i] = make([]byte, unix.CmsgSpace(2))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&w.ctrl[i][0]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
	}
	w.fn = func(fd uintptr) bool {
		for w.off < w.cnt {
			n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[w.off])), uintptr(w.cnt-w.off), 0, 0, 0)
			w.calls++
			switch e {
			case 0:
				for range int(n) {
					w.sent += w.segs[w.off]
					w.off++
				}
			case unix.EINTR:
			case unix.EAGAIN:
				return false // wait until writable
			default:
				if w.segs[w.off] > 1 && gsoRefusal(e) {
					w.gsoRefused = true // sent again without GSO
					return true
				}
				// The first message failed: skip it, send the rest.
				w.errs += w.segs[w.off]
				w.err = e
				w.off++
			}
		}
		return true
	}
	return w, nil
}

// gsoRefusal tells the errors of a kernel, socket or route without GSO.
func gsoRefusal(e syscall.Errno) bool {
	return e == unix.EINVAL || e == unix.EIO || e == unix.ENOPROTOOPT || e == unix.EOPNOTSUPP
}

// send sends bufs[i] to to[i]; it returns how many were sent, in how many
// system calls, how many failed and the last error. Datagrams to one
// destination leave in their order.
func (w *batchWriter) send(bufs [][]byte, to []netip.AddrPort) (sent, calls, errs int, err error) {
	w.sent, w.calls, w.errs, w.err = 0, 0, 0, nil
	for len(bufs) > 0 {
		n := min(len(bufs), batchSize)
		if !w.sendChunk(bufs[:n], to[:n]) {
			break
		}
		bufs, to = bufs[n:], to[n:]
	}
	for i := range w.iovs {
		w.iovs[i].Base = nil // keep no datagram alive
	}
	return w.sent, w.calls, w.errs, w.err
}

// sendChunk sends up to batchSize datagrams; false when the socket is
// closed.
func (w *batchWriter) sendChunk(bufs [][]byte, to []netip.AddrPort) bool {
	w.layout(bufs, to)
	if w.cnt == 0 {
		return true
	}
	w.off, w.gsoRefused = 0, false
	if e := w.raw.Write(w.fn); e != nil {
		for i := w.off; i < w.cnt; i++ {
			w.errs += w.segs[i]
		}
		w.err = e
		return false
	}
	if !w.gsoRefused {
		return true
	}
	// The kernel (or the route's device) does not do GSO: from the
	// refused message on, the datagrams go one per message, and so from
	// now on. Messages hold their groups' datagrams in order.
	skip := 0
	for i := range w.off {
		skip += w.segs[i]
	}
	var rb [][]byte
	var rt []netip.AddrPort
	k := 0
	for _, g := range w.groups {
		for _, i := range g {
			if k >= skip {
				rb, rt = append(rb, bufs[i]), append(rt, to[i])
			}
			k++
		}
	}
	w.gso = false
	return w.sendChunk(rb, rt)
}

// layout fills the messages: with GSO one per run of datagrams of one size
// to one destination (at most maxSegments), else one per datagram. Datagrams that
// cannot be sent from this socket are counted as failed.
func (w *batchWriter) layout(bufs [][]byte, to []netip.AddrPort) {
	clear(w.groupOf)
	for i := range w.groups {
		w.groups[i] = w.groups[i][:0]
	}
	w.groups = w.groups[:0]
	for i, p := range bufs {
		if len(p) == 0 || !w.reachable(to[i]) {
			w.errs++
			w.err = fmt.Errorf("cannot send %d bytes to %v from this socket", len(p), to[i])
			continue
		}
		g := len(w.groups) // without GSO every datagram is a group
		if w.gso {
			// The destination's last group, if of this size: a datagram
			// of another size starts a new one, so that the datagrams to
			// one destination keep their order.
			if prev, ok := w.groupOf[to[i]]; ok && len(bufs[w.groups[prev][0]]) == len(p) {
				g = prev
			} else {
				w.groupOf[to[i]] = g
			}
		}
		if g == len(w.groups) {
			if g < cap(w.groups) {
				w.groups = w.groups[:g+1]
			} else {
				w.groups = append(w.groups, nil)
			}
		}
		w.groups[g] = append(w.groups[g], i)
	}
	w.cnt = 0
	iov := 0
	for _, g := range w.groups {
		for len(g) > 0 {
			size := len(bufs[g[0]])
			m := min(len(g), maxSegments, max(1, maxGSOBytes/size))
			h := &w.hdrs[w.cnt]
			h.hdr.Namelen = w.name(w.cnt, to[g[0]])
			h.hdr.Iov = &w.iovs[iov]
			h.hdr.SetIovlen(m)
			for _, i := range g[:m] {
				w.iovs[iov].Base = &bufs[i][0]
				w.iovs[iov].SetLen(len(bufs[i]))
				iov++
			}
			h.hdr.Control, h.hdr.Controllen = nil, 0
			if m > 1 {
				c := w.ctrl[w.cnt]
				binary.NativeEndian.PutUint16(c[unix.CmsgLen(0):], uint16(size))
				h.hdr.Control = &c[0]
				h.hdr.SetControllen(len(c))
			}
			w.segs[w.cnt] = m
			w.cnt++
			g = g[m:]
		}
	}
}

// reachable reports whether the socket can send to dst.
func (w *batchWriter) reachable(dst netip.AddrPort) bool {
	a := dst.Addr()
	return w.v6 || a.Is4() || a.Is4In6()
}

// name writes dst as the i-th destination and returns its length; dst is
// reachable.
func (w *batchWriter) name(i int, dst netip.AddrPort) uint32 {
	a := dst.Addr()
	port := dst.Port()
	if !w.v6 {
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&w.names[i]))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return unix.SizeofSockaddrInet4
	}
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	sa := &w.names[i]
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return unix.SizeofSockaddrInet6
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
