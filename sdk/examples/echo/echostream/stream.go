package echostream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

const (
	// defaultLocalIP is bound when the session names no local address.
	defaultLocalIP = "127.0.0.1"
	// maxPending bounds the pings whose echo we still wait for.
	maxPending = 1024
	// readBuffer holds the largest UDP datagram.
	readBuffer = 64 << 10
)

// state is where a stream is in its life.
type state int

const (
	stateNew         state = iota // built by a factory
	stateInitialized              // socket bound
	stateStarted                  // negotiated; the reader runs
	stateFailed                   // Initialize or Start failed
	stateEnded                    // End was called
)

func (s state) String() string {
	switch s {
	case stateNew:
		return "new"
	case stateInitialized:
		return "initialized"
	case stateStarted:
		return "started"
	case stateFailed:
		return "failed"
	case stateEnded:
		return "ended"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// stream is one echo stream. The SDK serialises the calls of sdk.Stream, but
// the reader goroutine runs alongside them: mu guards every field below it.
// Post never blocks, so notifications are posted with mu held, which keeps
// their order the order of the state changes.
type stream struct {
	sdk.UnimplementedStream // forward compatibility: new methods get defaults

	env     *sdk.Env
	account *sdk.Account

	mu             sync.Mutex
	state          state
	deactivated    bool
	conn           *net.UDPConn
	local          netip.AddrPort
	remote         netip.AddrPort // invalid while unknown or held old-style
	index          int
	direction      string // last negotiated local direction; "" before
	holdRequested  bool
	onHoldByLocal  bool
	onHoldByRemote bool
	lastSeq        uint64
	pending        map[uint64]time.Time // send time of pings awaiting their echo
	counters       Counters
	failure        string        // last failure reason, for MediaStreamDidEnd
	readerDone     chan struct{} // closed when the reader returns
}

var _ sdk.Stream = (*stream)(nil)

func newStream(env *sdk.Env, account *sdk.Account, index int) *stream {
	return &stream{env: env, account: account, index: index, pending: map[uint64]time.Time{}}
}

// Initialize binds the stream's UDP socket on the session's local address.
// The outcome is a notification: MediaStreamDidInitialize, or
// MediaStreamDidNotInitialize with the reason.
func (s *stream) Initialize(_ context.Context, req *sdk.InitializeRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return sdk.Errorf(sdk.ErrIllegalState, "Initialize in state %s", s.state)
	}
	conn, local, err := listen(req.Session, s.account)
	if err != nil {
		s.state = stateFailed
		s.failure = err.Error()
		s.env.Post(sdk.MediaStreamDidNotInitialize, sdk.DidNotInitializeData{Reason: err.Error()})
		return nil
	}
	s.conn, s.local, s.state = conn, local, stateInitialized
	s.env.Post(sdk.MediaStreamDidInitialize, nil)
	return nil
}

// listen binds a UDP socket on the session's local IP and the account's
// echo port.
func listen(session *sdk.SessionInfo, account *sdk.Account) (*net.UDPConn, netip.AddrPort, error) {
	host := defaultLocalIP
	if session != nil && session.LocalIP != "" {
		host = session.LocalIP
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("local IP %q is not an IP address", host)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		// It would go into c=, where it means "do not send to me".
		return nil, netip.AddrPort{}, fmt.Errorf("local IP %s is unspecified: the session must name the address it signals on", ip)
	}
	setting := account.Setting(SettingPort, "0")
	port, err := strconv.ParseUint(setting, 10, 16)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("setting %s=%q is not a port number", SettingPort, setting)
	}
	network := "udp6"
	if ip.Is4() {
		network = "udp4"
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	bound := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	return conn, netip.AddrPortFrom(ip, bound), nil
}

// GetLocalMedia returns our m-line: an offer when req.ForOffer or there is
// no remote SDP, else the answer to the remote's m-line req.StreamIndex.
func (s *stream) GetLocalMedia(_ context.Context, req *sdk.GetLocalMediaRequest) (*sdk.GetLocalMediaResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || s.state == stateEnded {
		return nil, sdk.Errorf(sdk.ErrIllegalState, "GetLocalMedia in state %s", s.state)
	}
	var dir string
	if req.ForOffer || req.RemoteSDP == "" {
		dir = offerDirection(s.direction, s.holdRequested)
	} else {
		rs, rm, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
		if err != nil {
			return nil, err
		}
		if !isEcho(rm) {
			return nil, sdk.Errorf(sdk.ErrInvalidStream, "remote m-line %d is not an echo stream", req.StreamIndex)
		}
		_, offered, err := endpoint(rs, rm)
		if err != nil {
			return nil, err
		}
		dir = answerDirection(s.direction, offered)
	}
	text, err := sdk.MarshalMedia(localMedia(s.local, dir))
	if err != nil {
		return nil, err
	}
	return &sdk.GetLocalMediaResponse{Media: text}, nil
}

// Start applies the negotiated SDP and starts the reader. The outcome is a
// notification: MediaStreamDidStart, or MediaStreamDidFail with context
// "start".
func (s *stream) Start(_ context.Context, req *sdk.StartRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateInitialized || s.deactivated {
		return sdk.Errorf(sdk.ErrIllegalState, "Start in state %s", s.state)
	}
	neg, err := negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if err == nil && neg.removed {
		err = errors.New("the remote refused the stream (port 0)")
	}
	if err != nil {
		s.failLocked("start", sdk.ReasonOf(err))
		return nil
	}
	s.index, s.remote = req.StreamIndex, neg.peer
	s.state = stateStarted
	s.readerDone = make(chan struct{})
	go s.read(s.conn, s.readerDone)
	s.env.Post(sdk.MediaStreamDidStart, nil)
	s.setDirectionLocked(neg.direction)
	return nil
}

// ValidateUpdate accepts a re-INVITE whose m-line is still a usable echo
// m-line, or removes the stream (port 0). It changes nothing.
func (s *stream) ValidateUpdate(_ context.Context, req *sdk.ValidateUpdateRequest) (*sdk.ValidateUpdateResponse, error) {
	sess, m, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
	if err != nil || !isEcho(m) {
		return &sdk.ValidateUpdateResponse{OK: false}, nil
	}
	if m.MediaName.Port.Value == 0 {
		return &sdk.ValidateUpdateResponse{OK: true}, nil
	}
	_, _, err = endpoint(sess, m)
	return &sdk.ValidateUpdateResponse{OK: err == nil}, nil
}

// Update applies renegotiated SDP: a new remote address or port rebinds the
// peer in place, and a new direction updates the hold flags. A removed
// m-line (port 0) changes nothing: the session ends the stream next.
func (s *stream) Update(_ context.Context, req *sdk.UpdateRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateStarted {
		return sdk.Errorf(sdk.ErrIllegalState, "Update in state %s", s.state)
	}
	neg, err := negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return err
	}
	if neg.removed {
		return nil
	}
	s.index, s.remote = req.StreamIndex, neg.peer
	s.setDirectionLocked(neg.direction)
	return nil
}

// setDirectionLocked records the negotiated direction and posts a
// HoldStateNotification for each hold flag that changes.
func (s *stream) setDirectionLocked(dir string) {
	local, remote := checkHold(dir, s.onHoldByLocal)
	s.direction = dir
	if local != s.onHoldByLocal {
		s.onHoldByLocal = local
		s.env.Post(HoldStateNotification, HoldStateData{Originator: "local", OnHold: local})
	}
	if remote != s.onHoldByRemote {
		s.onHoldByRemote = remote
		s.env.Post(HoldStateNotification, HoldStateData{Originator: "remote", OnHold: remote})
	}
}

// Hold records a local hold request: from now on the stream neither sends
// nor answers pings, and the next offer asks the remote to stop sending.
func (s *stream) Hold(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdRequested = true
	return nil
}

// Unhold withdraws the local hold request; the next offer resumes the flow.
func (s *stream) Unhold(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdRequested = false
	return nil
}

// Reset records the stream's new index after a re-INVITE without SDP; the
// next GetLocalMedia is an offer.
func (s *stream) Reset(_ context.Context, req *sdk.ResetRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index = req.StreamIndex
	return nil
}

// Deactivate stops sending; from now on the socket closing is normal.
func (s *stream) Deactivate(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deactivated = true
	return nil
}

// End closes the socket and waits for the reader. It posts
// MediaStreamWillEnd then MediaStreamDidEnd, or, before Initialize,
// MediaStreamDidNotInitialize with reason "Interrupted". A second End does
// nothing.
func (s *stream) End(context.Context) error {
	s.mu.Lock()
	prev := s.state
	if prev == stateEnded {
		s.mu.Unlock()
		return nil
	}
	s.state = stateEnded
	if prev == stateNew {
		s.env.Post(sdk.MediaStreamDidNotInitialize, sdk.DidNotInitializeData{Reason: "Interrupted"})
		s.mu.Unlock()
		return nil
	}
	s.env.Post(sdk.MediaStreamWillEnd, nil)
	conn, done := s.conn, s.readerDone
	s.mu.Unlock()

	// The reader sees stateEnded and takes the close as normal.
	if conn != nil {
		_ = conn.Close()
	}
	if done != nil {
		<-done
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.env.Post(sdk.MediaStreamDidEnd, sdk.DidEndData{Error: s.failure})
	return nil
}

// Attributes returns the hold flags and the echo attributes.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := Attributes{Direction: s.direction, Counters: s.counters}
	if s.local.IsValid() {
		own.LocalAddress = s.local.String()
	}
	if s.remote.IsValid() {
		own.RemoteAddress = s.remote.String()
	}
	extra, err := sdk.MarshalJSONValue(own)
	if err != nil {
		return nil, err
	}
	return &sdk.Attributes{
		HoldSupported:  true,
		OnHoldByLocal:  s.onHoldByLocal,
		OnHoldByRemote: s.onHoldByRemote,
		Extra:          extra,
	}, nil
}

// Invoke serves MethodSend and MethodStats.
func (s *stream) Invoke(ctx context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case MethodSend:
		var args SendArgs
		if err := decodeArgs(req.Args, &args); err != nil {
			return nil, err
		}
		seq, err := s.send(args.Payload)
		if err != nil {
			return nil, err
		}
		return result(SendResult{Seq: seq})
	case MethodStats:
		s.mu.Lock()
		c := s.counters
		s.mu.Unlock()
		return result(c)
	}
	return s.UnimplementedStream.Invoke(ctx, req)
}

// send sends a ping to the peer.
func (s *stream) send(payload string) (uint64, error) {
	if len(payload) > MaxPayload {
		return 0, sdk.Errorf(sdk.ErrInvalidArgument, "payload of %d bytes exceeds %d", len(payload), MaxPayload)
	}
	s.mu.Lock()
	if s.state != stateStarted {
		s.mu.Unlock()
		return 0, sdk.Errorf(sdk.ErrIllegalState, "send in state %s", s.state)
	}
	if !s.maySendLocked() || !s.remote.IsValid() {
		err := sdk.Errorf(sdk.ErrIllegalState, "stream may not send (direction %s, hold requested %t, deactivated %t)",
			s.direction, s.holdRequested, s.deactivated)
		s.mu.Unlock()
		return 0, err
	}
	s.lastSeq++
	seq := s.lastSeq
	s.pending[seq] = time.Now()
	if seq > maxPending {
		delete(s.pending, seq-maxPending)
	}
	conn, peer := s.conn, s.remote
	s.mu.Unlock()

	if _, err := conn.WriteToUDPAddrPort(Datagram{Kind: KindPing, Seq: seq, Payload: payload}.Marshal(), peer); err != nil {
		s.mu.Lock()
		delete(s.pending, seq)
		s.mu.Unlock()
		return 0, sdk.Errorf(sdk.ErrInternal, "send to %s: %v", peer, err)
	}
	s.mu.Lock()
	s.counters.PacketsSent++
	s.counters.PingsSent++
	s.mu.Unlock()
	return seq, nil
}

// maySendLocked reports whether the negotiated direction and the hold
// request let us send.
func (s *stream) maySendLocked() bool {
	return s.state == stateStarted && !s.deactivated && !s.holdRequested && hasSend(s.direction)
}

// failLocked records a failure and posts MediaStreamDidFail.
func (s *stream) failLocked(where, reason string) {
	if s.state != stateEnded {
		s.state = stateFailed
	}
	s.failure = reason
	s.env.Post(sdk.MediaStreamDidFail, sdk.DidFailData{Context: where, Reason: reason})
}

// read is the stream's one goroutine: it receives datagrams until the socket
// closes, then closes done.
func (s *stream) read(conn *net.UDPConn, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, readBuffer)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			s.mu.Lock()
			if s.state != stateEnded && !s.deactivated {
				s.failLocked("reading", err.Error())
			}
			s.mu.Unlock()
			return
		}
		s.receive(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
	}
}

// receive handles one datagram from the network.
func (s *stream) receive(b []byte, from netip.AddrPort) {
	d, err := ParseDatagram(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters.PacketsReceived++
	if err != nil {
		s.counters.BadPackets++
		return
	}
	switch d.Kind {
	case KindPing:
		s.counters.PingsReceived++
		answer := s.maySendLocked()
		s.env.Post(GotPingNotification, GotPingData{Seq: d.Seq, Payload: d.Payload, From: from.String(), Answered: answer})
		if !answer {
			return
		}
		d.Kind = KindPong
		// A UDP send does not block; a failure is the peer's loss, not ours.
		if _, err := s.conn.WriteToUDPAddrPort(d.Marshal(), from); err == nil {
			s.counters.PacketsSent++
		}
	case KindPong:
		sent, ok := s.pending[d.Seq]
		if !ok {
			s.counters.BadPackets++ // not an echo of ours, or a duplicate
			return
		}
		delete(s.pending, d.Seq)
		s.counters.EchoesReceived++
		s.env.Post(GotEchoNotification, GotEchoData{Seq: d.Seq, Payload: d.Payload, From: from.String(), RTTNanos: time.Since(sent).Nanoseconds()})
	}
}
