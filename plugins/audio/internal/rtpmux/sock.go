package rtpmux

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// maxReadFailures is how many read errors in a row stop a socket's reader.
const maxReadFailures = 1000

// sock is one shared socket: its routing table, reader and writer.
type sock struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	logger *slog.Logger
	closed atomic.Bool
	in     *batchReader
	out    *writer

	mu     sync.RWMutex
	byAddr map[netip.AddrPort][]*Endpoint // by peer
	bySSRC map[uint32][]*Endpoint         // by the peer's SSRC
	// fresh are the receiving endpoints that learned no SSRC yet.
	fresh map[*Endpoint]struct{}

	// targets is the reader's scratch list of candidate endpoints.
	targets []target
	// delivering guards the delivery functions while the reader hands a
	// batch to the sessions (taken before mu): an endpoint leaves the
	// tables under it, so that no delivery to it runs once its Close
	// returned (the session's port and codec go right after).
	delivering sync.Mutex

	received, readCalls, unrouted, invalid atomic.Uint64
}

// target is an endpoint as the reader found it under the lock.
type target struct {
	e       *Endpoint
	deliver func(p []byte, from net.Addr, trial bool) bool
	peer    net.Addr // the endpoint's peer, nil when from is not it
	known   bool     // the endpoint has learned this SSRC
}

func newSock(c *net.UDPConn, logger *slog.Logger) (*sock, error) {
	growBuffers(c)
	in, err := newBatchReader(c)
	if err != nil {
		return nil, err
	}
	out, err := newWriter(c, logger)
	if err != nil {
		return nil, err
	}
	local := normal(c.LocalAddr().(*net.UDPAddr).AddrPort())
	return &sock{
		conn: c, local: local, logger: logger, in: in, out: out,
		byAddr: map[netip.AddrPort][]*Endpoint{}, bySSRC: map[uint32][]*Endpoint{}, fresh: map[*Endpoint]struct{}{},
	}, nil
}

func (s *sock) endpoint(m *Mux) *Endpoint { return &Endpoint{s: s, mux: m} }

// readLoop reads batches until the socket is closed and routes each
// datagram.
func (s *sock) readLoop() {
	failures := 0
	for {
		n, err := s.in.read()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if failures++; failures > maxReadFailures {
				s.logger.Warn("shared RTP socket keeps failing; receiving stopped", "local", s.local, "err", err)
				return
			}
			s.logger.Debug("shared RTP socket read", "local", s.local, "err", err)
			continue
		}
		failures = 0
		s.readCalls.Add(1)
		s.received.Add(uint64(n))
		s.delivering.Lock()
		for i := range n {
			p, from := s.in.datagram(i)
			s.route(p, from)
		}
		s.delivering.Unlock()
	}
}

// Datagram kinds.
const (
	kindInvalid = iota
	kindRTP
	kindRTCP
)

// classify tells RTP from RTCP (RFC 5761 §4) and returns the SSRC that
// routes it: the RTP SSRC, or the RTCP packet's sender. SRTP and SRTCP
// leave both in the clear.
func classify(p []byte) (ssrc uint32, kind int) {
	if len(p) < 8 || p[0]>>6 != 2 {
		return 0, kindInvalid
	}
	if p[1] >= 192 && p[1] <= 223 {
		return uint32(p[4])<<24 | uint32(p[5])<<16 | uint32(p[6])<<8 | uint32(p[7]), kindRTCP
	}
	if len(p) < 12 {
		return 0, kindInvalid
	}
	return uint32(p[8])<<24 | uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11]), kindRTP
}

// route hands one datagram to the endpoint it belongs to (see the package
// documentation): the endpoint at its source that learned its SSRC, else
// the endpoints elsewhere that did (the peer moved), else the endpoints at
// its source, those that learned no SSRC first, tried in turn when there
// is more than one or the one there learned another SSRC.
func (s *sock) route(p []byte, from netip.AddrPort) {
	ssrc, kind := classify(p)
	if kind == kindInvalid {
		s.invalid.Add(1)
		return
	}
	from = normal(from)
	ts := s.targets[:0]
	trial := false
	s.mu.RLock()
	here := s.byAddr[from]
	for _, e := range here {
		if e.hasSSRC && e.ssrc == ssrc && e.deliver != nil {
			ts = append(ts, target{e, e.deliver, e.peerAddr, true})
			break
		}
	}
	if len(ts) == 0 {
		for _, e := range s.bySSRC[ssrc] {
			if e.deliver != nil {
				ts = append(ts, target{e: e, deliver: e.deliver, known: true})
			}
		}
		trial = len(ts) > 1
	}
	if len(ts) == 0 {
		for _, e := range here {
			if !e.hasSSRC && e.deliver != nil {
				ts = append(ts, target{e, e.deliver, e.peerAddr, false})
			}
		}
		alone := len(ts) == 1
		for _, e := range here {
			if e.hasSSRC && e.deliver != nil {
				ts = append(ts, target{e, e.deliver, e.peerAddr, false})
				alone = false
			}
		}
		trial = !alone
	}
	if len(here) == 0 && len(ts) == 0 && len(s.fresh) > 0 {
		ts, trial = s.freshLocked(ts)
	}
	s.mu.RUnlock()
	s.targets = ts[:0]
	var fromAddr net.Addr
	for _, t := range ts {
		addr := t.peer
		if addr == nil {
			if fromAddr == nil {
				fromAddr = net.UDPAddrFromAddrPort(from)
			}
			addr = fromAddr
		}
		if t.deliver(p, addr, trial) {
			if !t.known {
				s.learn(t.e, ssrc)
			}
			return
		}
	}
	s.unrouted.Add(1)
}

// maxFreshTrials bounds the endpoints one datagram from an unknown source
// is tried on: a flood from nowhere costs at most that many SRTP checks.
const maxFreshTrials = 32

// freshLocked lists the endpoints a datagram from an unknown source with an
// unknown SSRC may belong to: those that learned no SSRC yet and
// authenticate (tried), or the one such endpoint that does not. s.mu is
// held.
func (s *sock) freshLocked(ts []target) ([]target, bool) {
	var plain *Endpoint
	plains := 0
	for e := range s.fresh { // map order: a different few each time
		if e.deliver == nil {
			continue
		}
		if !e.authenticated {
			plain = e
			plains++
			continue
		}
		if len(ts) < maxFreshTrials {
			ts = append(ts, target{e: e, deliver: e.deliver})
		} else if plains > 1 {
			break
		}
	}
	if len(ts) > 0 {
		return ts, true
	}
	if plains == 1 {
		return append(ts, target{e: plain, deliver: plain.deliver}), false
	}
	return ts, false
}

// learn records that e's peer sends ssrc.
func (s *sock) learn(e *Endpoint, ssrc uint32) {
	s.mu.Lock()
	if !e.closed {
		s.bindLocked(e, ssrc)
	}
	s.mu.Unlock()
}

// bindLocked moves e to ssrc in the SSRC table. s.mu is held for writing.
func (s *sock) bindLocked(e *Endpoint, ssrc uint32) {
	if e.hasSSRC && e.ssrc == ssrc {
		return
	}
	s.unlinkSSRCLocked(e)
	e.ssrc, e.hasSSRC = ssrc, true
	s.bySSRC[ssrc] = append(s.bySSRC[ssrc], e)
	delete(s.fresh, e)
}
