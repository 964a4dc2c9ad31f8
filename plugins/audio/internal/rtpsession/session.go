package rtpsession

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpcrypto"
)

// replayWindow is the SRTP/SRTCP replay-protection window (RFC 3711 §3.3.2).
const replayWindow = 128

// Session is one RTP session. Create it with New, then Start it.
type Session struct {
	cfg    Config
	ssrc   uint32
	cname  string
	epoch  time.Time // origin of arrival times in timestamp units
	accept [256]bool
	filter bool

	// srtp contexts: one per direction and per protocol, so that each is
	// used by one goroutine (or under sendMu) only.
	srtpOut, srtpIn   rtpCipher
	srtcpOut, srtcpIn *srtp.Context

	sendMu      sync.Mutex // guards the send state below
	sending     bool
	seq         uint16
	ts          uint32
	lastPT      uint8
	havePT      bool
	sentPackets uint32 // RTP packets sent (SR packet count)
	sentOctets  uint32 // payload octets sent (SR octet count)
	sentBytes   uint64 // datagram bytes sent
	lastSend    time.Time
	lastSendTS  uint32
	sentSinceRR bool
	sendBuf     []byte
	encBuf      []byte

	mu         sync.Mutex // guards the fields below
	remoteRTP  net.Addr   // from SDP (SetRemote)
	remoteRTCP net.Addr
	recvRTP    net.Addr // latched source of received RTP
	recvRTCP   net.Addr
	peer       boundStream    // the stream received from the destination
	cand       latchCandidate // a new source on probation
	recv       receiver
	stats      counters
	started    bool
	closed     bool

	done chan struct{}
	wg   sync.WaitGroup

	// The timers (RTCP reports, keep-alives, the RTP timeout) run their
	// functions on the runtime's timer goroutines, not one of the
	// session's own: each holds timerMu, and once timersStopped is set
	// (Close, before its BYE) none runs again. The RTCP send state is
	// theirs, then Close's.
	timerMu                     sync.Mutex
	timersStopped               bool
	rtcpTimer, kaTimer, toTimer *time.Timer
	lastCount                   uint64 // packets received at the last timeout check
}

// counters are the statistics kept under Session.mu.
type counters struct {
	packetsReceived  uint64
	bytesReceived    uint64
	srtpFailures     uint64
	dropped          uint64
	rtcpSent         uint64
	rtcpReceived     uint64
	rtt              time.Duration
	remoteLost       int32
	remoteFraction   uint8
	remoteJitter     uint32
	haveRemoteReport bool
}

// New validates cfg and returns a Session that owns cfg's transports.
func New(cfg Config) (*Session, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Session{
		cfg:        cfg,
		ssrc:       cfg.SSRC,
		epoch:      time.Now(),
		sending:    true,
		seq:        uint16(rand.Uint32()),
		ts:         rand.Uint32(),
		remoteRTP:  cfg.RemoteRTP,
		remoteRTCP: rtcpAddr(cfg.RemoteRTP, cfg.RemoteRTCP, cfg.RTCPMux),
		done:       make(chan struct{}),
	}
	for s.ssrc == 0 {
		s.ssrc = rand.Uint32()
	}
	s.cname = cfg.CNAME
	if s.cname == "" {
		s.cname = DefaultCNAME(s.ssrc)
	}
	for _, pt := range cfg.PayloadTypes {
		s.accept[pt&0x7f] = true
		s.filter = true
	}
	if cfg.SRTP != nil {
		var err error
		if s.srtpOut, s.srtcpOut, err = contexts(cfg.SRTP.Profile, cfg.SRTP.LocalKey); err != nil {
			return nil, err
		}
		if s.srtpIn, s.srtcpIn, err = contexts(cfg.SRTP.Profile, cfg.SRTP.RemoteKey,
			srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func contexts(p srtp.ProtectionProfile, key []byte, opts ...srtp.ContextOption) (rtpCipher, *srtp.Context, error) {
	kl, _ := p.KeyLen()
	a, err := newRTPCipher(p, key[:kl], key[kl:], opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: SRTP context: %w", ErrInvalidConfig, err)
	}
	b, err := srtp.CreateContext(key[:kl], key[kl:], p, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: SRTCP context: %w", ErrInvalidConfig, err)
	}
	return a, b, nil
}

// rtpCipher protects and unprotects the RTP packets of one direction:
// both return the whole packet (header and payload, without the tag).
// The header's fields come as values: a pointer through an interface
// would move every packet's header to the heap.
type rtpCipher interface {
	protect(dst, pkt []byte, hlen int, ssrc uint32, seq uint16) ([]byte, error)
	unprotect(dst, pkt []byte, hlen int, ssrc uint32, seq uint16) ([]byte, error)
}

// newRTPCipher uses package rtpcrypto for the AES_CM_128 suites (no
// allocation per packet), pion's SRTP for the others.
func newRTPCipher(p srtp.ProtectionProfile, key, salt []byte, opts ...srtp.ContextOption) (rtpCipher, error) {
	switch p {
	case srtp.ProtectionProfileAes128CmHmacSha1_80:
		c, err := rtpcrypto.New(key, salt, rtpcrypto.TagLen80)
		return aesCM{c}, err
	case srtp.ProtectionProfileAes128CmHmacSha1_32:
		c, err := rtpcrypto.New(key, salt, rtpcrypto.TagLen32)
		return aesCM{c}, err
	}
	c, err := srtp.CreateContext(key, salt, p, opts...)
	return pionCipher{c}, err
}

type aesCM struct{ c *rtpcrypto.Context }

func (a aesCM) protect(dst, pkt []byte, hlen int, ssrc uint32, seq uint16) ([]byte, error) {
	return a.c.Protect(dst, pkt, hlen, ssrc, seq)
}

func (a aesCM) unprotect(dst, pkt []byte, hlen int, ssrc uint32, seq uint16) ([]byte, error) {
	return a.c.Unprotect(dst, pkt, hlen, ssrc, seq)
}

type pionCipher struct{ c *srtp.Context }

// pionCipher lets pion parse the header again (nil): its suites are not
// the media path's.
func (p pionCipher) protect(dst, pkt []byte, _ int, _ uint32, _ uint16) ([]byte, error) {
	return p.c.EncryptRTP(dst, pkt, nil)
}

func (p pionCipher) unprotect(dst, pkt []byte, _ int, _ uint32, _ uint16) ([]byte, error) {
	return p.c.DecryptRTP(dst, pkt, nil)
}

// DefaultCNAME is the RTCP canonical name of a session with ssrc and no
// Config.CNAME.
func DefaultCNAME(ssrc uint32) string { return fmt.Sprintf("%08x@sipstreams", ssrc) }

// SSRC returns our synchronisation source identifier.
func (s *Session) SSRC() uint32 { return s.ssrc }

// Start launches the receive loops and the timer loop. ctx only bounds the
// call; Close stops the session.
func (s *Session) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return nil
	}
	s.started = true
	s.startTimers()
	s.receive(s.cfg.RTP, true)
	if !s.cfg.RTCPMux {
		s.receive(s.cfg.RTCP, false)
	}
	s.notifyPeersLocked()
	return nil
}

// receive starts reading t, or has it push its datagrams when it can.
func (s *Session) receive(t Transport, isRTP bool) {
	p, ok := t.(PushTransport)
	if !ok {
		s.wg.Add(1)
		go s.readLoop(t, isRTP)
		return
	}
	var dec []byte // grown to the packets' size, then reused
	p.Receive(func(pkt []byte, from net.Addr, trial bool) bool {
		if !isRTP || (s.cfg.RTCPMux && isRTCP(pkt)) {
			return s.handleRTCP(pkt, from, &dec, trial)
		}
		return s.handleRTP(pkt, from, &dec, trial)
	}, s.srtpIn != nil)
}

// notifyPeersLocked tells the transports that want to know where RTP and
// RTCP go now (PeerTransport). s.mu is held.
func (s *Session) notifyPeersLocked() {
	if p, ok := s.cfg.RTP.(PeerTransport); ok {
		p.SetPeer(s.rtpDestLocked())
	}
	if s.cfg.RTCP == nil {
		return
	}
	if p, ok := s.cfg.RTCP.(PeerTransport); ok {
		dst := s.remoteRTCP
		if s.recvRTCP != nil {
			dst = s.recvRTCP
		}
		p.SetPeer(dst)
	}
}

// Close sends an RTCP BYE (when the session sent anything), stops every
// goroutine and closes the transports.
// It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if started {
		close(s.done)
		s.stopTimers()
		s.sendBye()
	}
	err := s.cfg.RTP.Close()
	if s.cfg.RTCP != nil {
		err = errors.Join(err, s.cfg.RTCP.Close())
	}
	s.wg.Wait()
	return err
}

// SetSending turns media sending on or off (hold). While off, Send drops
// media (the timestamp still advances) and keep-alives are sent instead.
func (s *Session) SetSending(on bool) {
	s.sendMu.Lock()
	s.sending = on
	s.sendMu.Unlock()
}

// SetRemote changes the remote RTP and RTCP addresses in place (a re-INVITE
// moved the peer), keeping SSRC, sequence numbers and SRTP state. rtcp may be
// nil to derive it from rtp. A latched address is forgotten.
func (s *Session) SetRemote(rtpAddr, rtcp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remoteRTP = rtpAddr
	s.remoteRTCP = rtcpAddr(rtpAddr, rtcp, s.cfg.RTCPMux)
	s.recvRTP, s.recvRTCP = nil, nil
	s.peer, s.cand = boundStream{}, latchCandidate{}
	if s.started && !s.closed {
		s.notifyPeersLocked()
	}
}

// destinations returns where RTP and RTCP go now.
func (s *Session) destinations() (rtpDst, rtcpDst net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rtpDst, rtcpDst = s.remoteRTP, s.remoteRTCP
	if s.recvRTP != nil {
		rtpDst = s.recvRTP
	}
	if s.recvRTCP != nil {
		rtcpDst = s.recvRTCP
	}
	return rtpDst, rtcpDst
}

// Timestamp returns the RTP timestamp the next Send will use.
func (s *Session) Timestamp() uint32 {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.ts
}

// Send sends one RTP packet with the current timestamp and then advances the
// timestamp by advance (160 for 20 ms at 8 kHz; 0 for the packets of one
// RFC 4733 event). While sending is off it only advances the timestamp.
func (s *Session) Send(payloadType uint8, payload []byte, marker bool, advance uint32) error {
	s.mu.Lock() // once a packet: the state and the destination together
	closed, started, dst := s.closed, s.started, s.rtpDestLocked()
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !started {
		return ErrNotStarted
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if !s.sending {
		s.ts += advance
		return nil
	}
	err := s.sendLocked(payloadType, payload, marker, dst)
	s.ts += advance
	return err
}

// sendLocked builds, protects and writes one RTP packet to dst. sendMu is
// held.
func (s *Session) sendLocked(pt uint8, payload []byte, marker bool, dst net.Addr) error {
	h := rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt & 0x7f,
		SequenceNumber: s.seq,
		Timestamp:      s.ts,
		SSRC:           s.ssrc,
	}
	size := h.MarshalSize() + len(payload)
	if cap(s.sendBuf) < size {
		s.sendBuf = make([]byte, size, size+32) // the next packets fit
	}
	buf := s.sendBuf[:size]
	n, err := h.MarshalTo(buf)
	if err != nil {
		return fmt.Errorf("rtpsession: marshal RTP header: %w", err)
	}
	copy(buf[n:], payload)
	out := buf
	if s.srtpOut != nil {
		out, err = s.srtpOut.protect(s.encBuf[:0], buf, n, h.SSRC, h.SequenceNumber)
		if err != nil {
			return fmt.Errorf("rtpsession: SRTP protect: %w", err)
		}
		s.encBuf = out[:0]
	}
	if dst == nil && !connected(s.cfg.RTP) {
		return ErrNoRemote
	}
	s.seq++
	if _, err := s.cfg.RTP.WriteTo(out, dst); err != nil {
		return fmt.Errorf("rtpsession: send RTP to %v: %w", dst, err)
	}
	s.lastPT, s.havePT = h.PayloadType, true
	s.sentPackets++
	s.sentOctets += uint32(len(payload))
	s.sentBytes += uint64(len(out))
	// The time of one packet in sendClockEvery, with its timestamp: the
	// pair an SR maps RTP time from, and when a keep-alive is due (a clock
	// read per packet is a cost at thousands of calls).
	if len(payload) == 0 || s.sentPackets%sendClockEvery == 1 {
		s.lastSend = time.Now()
		s.lastSendTS = s.ts
	}
	if len(payload) > 0 {
		s.sentSinceRR = true
	}
	return nil
}

// keepAlive sends an empty RTP packet if nothing was sent for a whole
// keep-alive interval and media sending is off.
func (s *Session) keepAlive(now time.Time) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sending || now.Sub(s.lastSend) < s.cfg.KeepAlive {
		return
	}
	pt, ok := s.lastPT, s.havePT
	if s.cfg.KeepAlivePayloadType != nil {
		pt, ok = *s.cfg.KeepAlivePayloadType, true
	}
	if !ok && len(s.cfg.PayloadTypes) > 0 {
		pt, ok = s.cfg.PayloadTypes[0], true
	}
	if !ok {
		return
	}
	dst, _ := s.destinations()
	if err := s.sendLocked(pt, nil, false, dst); err != nil {
		s.cfg.Logger.Debug("rtp keep-alive", "err", err)
	}
}

// readLoop reads one transport until it is closed. With rtcp-mux the RTP
// transport also carries RTCP.
func (s *Session) readLoop(t Transport, isRTP bool) {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	var dec []byte
	failures := 0
	for {
		n, from, err := t.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || s.isClosed() {
				return
			}
			// Transient errors (an ICMP error reported on a connected
			// socket) are skipped; a transport that only fails is
			// given up rather than spun on.
			if failures++; failures > maxReadFailures {
				s.cfg.Logger.Warn("rtp transport keeps failing; receiving stopped", "err", err)
				return
			}
			s.cfg.Logger.Debug("rtp read", "err", err)
			continue
		}
		failures = 0
		pkt := buf[:n]
		if !isRTP || (s.cfg.RTCPMux && isRTCP(pkt)) {
			s.handleRTCP(pkt, from, &dec, false)
			continue
		}
		s.handleRTP(pkt, from, &dec, false)
	}
}

// sendClockEvery is how often, in packets sent, the send time is read.
const sendClockEvery = 8

// maxReadFailures is how many consecutive read errors end a receive loop.
const maxReadFailures = 100

func (s *Session) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): RTCP
// packet types 192–223 fall where RTP's marker bit and payload type are.
func isRTCP(p []byte) bool {
	return len(p) >= 2 && p[1] >= 192 && p[1] <= 223
}

// handleRTP processes a received RTP packet and reports whether it was
// the session's (valid, and authentic with SRTP). With trial a refused
// packet is not counted: a shared transport is trying its sessions.
// dec is the decryption buffer, kept for the next packet.
func (s *Session) handleRTP(pkt []byte, from net.Addr, dec *[]byte, trial bool) bool {
	now := time.Now()
	var h rtp.Header
	hlen, err := h.Unmarshal(pkt)
	if err != nil || h.Version != 2 {
		s.drop(trial)
		return false
	}
	payload := pkt[hlen:]
	if h.Padding && len(payload) > 0 {
		pad := int(payload[len(payload)-1])
		if s.srtpIn == nil {
			if pad == 0 || pad > len(payload) {
				s.drop(trial)
				return false
			}
			payload = payload[:len(payload)-pad]
		}
	}
	if s.srtpIn != nil {
		plain, err := s.srtpIn.unprotect((*dec)[:0], pkt, hlen, h.SSRC, h.SequenceNumber)
		if err != nil {
			if !trial {
				s.count(func(c *counters) { c.srtpFailures++ })
			}
			return false
		}
		*dec = plain[:0]
		payload = plain[hlen:]
		if h.Padding && len(payload) > 0 {
			pad := int(payload[len(payload)-1])
			if pad == 0 || pad > len(payload) {
				s.drop(false) // authentic: ours, but unusable
				return true
			}
			payload = payload[:len(payload)-pad]
		}
	}
	if s.filter && len(payload) > 0 && !s.accept[h.PayloadType] {
		s.drop(trial)
		return false
	}
	var latched, old net.Addr
	s.mu.Lock()
	s.stats.packetsReceived++
	s.stats.bytesReceived += uint64(len(pkt))
	s.recv.update(h.SSRC, h.SequenceNumber, h.Timestamp, s.arrivalUnits(now), now)
	if s.cfg.Latch && !connected(s.cfg.RTP) && from != nil {
		old, latched = s.latchLocked(from, h.SSRC, h.SequenceNumber)
		if latched != nil {
			s.notifyPeersLocked()
		}
	}
	s.mu.Unlock()
	if latched != nil {
		s.cfg.Logger.Debug("rtp latched", "old", old, "new", latched)
		if s.cfg.OnRemoteChange != nil {
			s.cfg.OnRemoteChange(old, latched)
		}
	}
	if len(payload) == 0 || s.cfg.OnPacket == nil {
		return true // keep-alive
	}
	s.cfg.OnPacket(Packet{
		PayloadType:    h.PayloadType,
		SequenceNumber: h.SequenceNumber,
		Timestamp:      h.Timestamp,
		Marker:         h.Marker,
		SSRC:           h.SSRC,
		Payload:        payload, // valid during the call: the jitter buffer copies it
		Arrival:        now,
	})
	return true
}

// drop counts a packet dropped as invalid, unless on trial.
func (s *Session) drop(trial bool) {
	if !trial {
		s.count(func(c *counters) { c.dropped++ })
	}
}

// arrivalUnits converts an arrival time to RTP timestamp units.
func (s *Session) arrivalUnits(t time.Time) int64 {
	return int64(t.Sub(s.epoch)) * int64(s.cfg.ClockRate) / int64(time.Second)
}

func (s *Session) count(f func(*counters)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// startTimers schedules the RTCP reports, keep-alive checks and RTP
// timeout checks.
func (s *Session) startTimers() {
	s.timerMu.Lock() // a timer that fires at once waits for its fields
	defer s.timerMu.Unlock()
	if s.cfg.RTCPInterval > 0 {
		s.rtcpTimer = time.AfterFunc(rtcpDelay(s.cfg.RTCPInterval), s.onRTCPTimer)
	}
	if s.cfg.KeepAlive > 0 {
		s.kaTimer = time.AfterFunc(s.cfg.KeepAlive/2, s.onKeepAliveTimer)
	}
	if s.cfg.Timeout > 0 {
		s.toTimer = time.AfterFunc(s.cfg.Timeout, s.onTimeoutTimer)
	}
}

// stopTimers stops the timers and waits for one that is running.
func (s *Session) stopTimers() {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	s.timersStopped = true
	for _, t := range []*time.Timer{s.rtcpTimer, s.kaTimer, s.toTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

func (s *Session) onRTCPTimer() {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	if s.timersStopped {
		return
	}
	s.sendReport(time.Now())
	s.rtcpTimer.Reset(rtcpDelay(s.cfg.RTCPInterval))
}

func (s *Session) onKeepAliveTimer() {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	if s.timersStopped {
		return
	}
	s.keepAlive(time.Now())
	s.kaTimer.Reset(s.cfg.KeepAlive / 2)
}

func (s *Session) onTimeoutTimer() {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	if s.timersStopped {
		return
	}
	s.mu.Lock()
	n := s.stats.packetsReceived
	s.mu.Unlock()
	if n == s.lastCount && s.cfg.OnTimeout != nil {
		s.cfg.OnTimeout()
	}
	s.lastCount = n
	s.toTimer.Reset(s.cfg.Timeout)
}

// rtcpDelay randomizes the report interval to 0.5–1.5 times its nominal
// value so that participants do not synchronise (RFC 3550 §6.3.1).
func rtcpDelay(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}
