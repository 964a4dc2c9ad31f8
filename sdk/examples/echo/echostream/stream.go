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
	// maxPending bounds the pings whose echo we still wait for.
	maxPending = 1024
	// readBuffer holds the largest UDP datagram.
	readBuffer = 64 << 10
)

// stream is one echo stream. The SDK serialises the calls of sdk.Stream, but
// the reader goroutine runs alongside them: mu guards every field below it,
// the SDK's lifecycle and hold helpers included. Post never blocks, so
// notifications are posted with mu held, which keeps their order the order
// of the state changes.
type stream struct {
	sdk.UnimplementedStream // forward compatibility: new methods get defaults

	env     *sdk.Env
	account *sdk.Account

	mu       sync.Mutex
	life     sdk.Lifecycle // state, outcome notifications, the reader, End
	hold     sdk.HoldState // hold request, negotiated direction, hold flags
	conn     *net.UDPConn
	local    netip.AddrPort
	remote   netip.AddrPort // invalid while unknown or held old-style
	lastSeq  uint64
	pending  map[uint64]time.Time // send time of pings awaiting their echo
	counters Counters
}

var _ sdk.Stream = (*stream)(nil)

func newStream(env *sdk.Env, account *sdk.Account) *stream {
	return &stream{
		env: env, account: account, pending: map[uint64]time.Time{},
		life: sdk.NewLifecycle(env), hold: sdk.NewHoldState(env, HoldStateNotification),
	}
}

// Initialize binds the stream's UDP socket on the session's local address.
// The outcome is a notification: MediaStreamDidInitialize, or
// MediaStreamDidNotInitialize with the reason.
func (s *stream) Initialize(_ context.Context, req *sdk.InitializeRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.life.Initialize(func() (err error) {
		if s.conn, s.local, err = listen(req.Session, s.account); err == nil {
			s.life.Defer(func() { _ = s.conn.Close() }) // also stops the reader
		}
		return err
	})
}

// listen binds a UDP socket on the session's local IP and the account's
// echo port.
func listen(session *sdk.SessionInfo, account *sdk.Account) (*net.UDPConn, netip.AddrPort, error) {
	ip, err := session.LocalAddr()
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	setting := account.Setting(SettingPort, "0")
	port, err := strconv.ParseUint(setting, 10, 16)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("setting %s=%q is not a port number", SettingPort, setting)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	return conn, netip.AddrPortFrom(ip, uint16(conn.LocalAddr().(*net.UDPAddr).Port)), nil
}

// GetLocalMedia returns our m-line: an offer when req.ForOffer or there is
// no remote SDP, else the answer to the remote's m-line req.StreamIndex.
func (s *stream) GetLocalMedia(_ context.Context, req *sdk.GetLocalMediaRequest) (*sdk.GetLocalMediaResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Check("GetLocalMedia", sdk.StateInitialized, sdk.StateStarted); err != nil {
		return nil, err
	}
	dir := s.hold.Offer()
	if !req.ForOffer && req.RemoteSDP != "" {
		remote, err := parseRemote(req.RemoteSDP, req.StreamIndex)
		if err != nil {
			return nil, err
		}
		dir = s.hold.Answer(remote.Direction)
	}
	return sdk.LocalMediaResponse(localMedia(s.local, dir))
}

// Start applies the negotiated SDP and starts the reader. The outcome is a
// notification: MediaStreamDidStart, or MediaStreamDidFail with context
// "start".
func (s *stream) Start(_ context.Context, req *sdk.StartRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Starting(); err != nil {
		return err
	}
	remote, dir, err := negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if err != nil {
		s.life.Fail("start", sdk.ReasonOf(err))
		return nil
	}
	s.remote = remote.Peer()
	conn := s.conn
	s.life.Go(func(context.Context) { s.read(conn) })
	s.life.Started()
	s.hold.Negotiated(dir)
	return nil
}

// ValidateUpdate accepts a re-INVITE whose m-line is still a usable echo
// m-line, or removes the stream (port 0). It changes nothing.
func (s *stream) ValidateUpdate(_ context.Context, req *sdk.ValidateUpdateRequest) (*sdk.ValidateUpdateResponse, error) {
	_, err := parseRemote(req.RemoteSDP, req.StreamIndex)
	return &sdk.ValidateUpdateResponse{OK: err == nil || errors.Is(err, errRemoved)}, nil
}

// Update applies renegotiated SDP: a new remote address or port rebinds the
// peer in place, and a new direction updates the hold flags. A removed
// m-line (port 0) changes nothing: the session ends the stream next.
func (s *stream) Update(_ context.Context, req *sdk.UpdateRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Check("Update", sdk.StateStarted); err != nil {
		return err
	}
	remote, dir, err := negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if errors.Is(err, errRemoved) {
		return nil
	}
	if err != nil {
		return err
	}
	s.remote = remote.Peer()
	s.hold.Negotiated(dir)
	return nil
}

// Hold records a local hold request: from now on the stream neither sends
// nor answers pings, and the next offer asks the remote to stop sending.
func (s *stream) Hold(context.Context) error { return s.requestHold(true) }

// Unhold withdraws the local hold request; the next offer resumes the flow.
func (s *stream) Unhold(context.Context) error { return s.requestHold(false) }

func (s *stream) requestHold(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold.Request(on)
	return nil
}

// Deactivate stops sending; from now on the socket closing is normal.
func (s *stream) Deactivate(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.life.Deactivate()
	return nil
}

// End closes the socket (see Initialize) and waits for the reader; the
// lifecycle posts the notifications (MediaStreamWillEnd and
// MediaStreamDidEnd, or "Interrupted" before Initialize).
func (s *stream) End(context.Context) error { return s.life.End(&s.mu, nil) }

// Attributes returns the hold flags and the echo attributes.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := Attributes{Direction: s.hold.Direction(), Counters: s.counters}
	if s.local.IsValid() {
		own.LocalAddress = s.local.String()
	}
	if s.remote.IsValid() {
		own.RemoteAddress = s.remote.String()
	}
	return s.hold.Attributes(own)
}

// Invoke serves MethodSend and MethodStats.
func (s *stream) Invoke(ctx context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case MethodSend:
		return sdk.HandleInvoke(req, s.send)
	case MethodStats:
		s.mu.Lock()
		defer s.mu.Unlock()
		return sdk.Result(s.counters)
	}
	return s.UnimplementedStream.Invoke(ctx, req)
}

// send sends a ping to the peer. A UDP send does not block, so it is made
// with mu held, as receive sends its pongs.
func (s *stream) send(args SendArgs) (SendResult, error) {
	if len(args.Payload) > MaxPayload {
		return SendResult{}, sdk.Errorf(sdk.ErrInvalidArgument, "payload of %d bytes exceeds %d", len(args.Payload), MaxPayload)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.life.Active() || !s.hold.MaySend() || !s.remote.IsValid() {
		return SendResult{}, sdk.Errorf(sdk.ErrIllegalState, "stream may not send (state %s, direction %s, hold requested %t, closing %t)",
			s.life.State(), s.hold.Direction(), s.hold.Requested(), s.life.Closing())
	}
	seq := s.lastSeq + 1
	s.pending[seq] = time.Now()
	if _, err := s.conn.WriteToUDPAddrPort(Datagram{Kind: KindPing, Seq: seq, Payload: args.Payload}.Marshal(), s.remote); err != nil {
		delete(s.pending, seq)
		return SendResult{}, sdk.Errorf(sdk.ErrInternal, "send to %s: %v", s.remote, err)
	}
	s.lastSeq = seq
	delete(s.pending, seq-maxPending) // seq <= maxPending: no such key
	s.counters.PacketsSent++
	s.counters.PingsSent++
	return SendResult{Seq: seq}, nil
}

// read is the stream's one goroutine: it receives datagrams until the socket
// closes (End closes it: the stream is closing then, which is no failure).
func (s *stream) read(conn *net.UDPConn) {
	buf := make([]byte, readBuffer)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			s.mu.Lock()
			s.life.TransportClosed("reading", err.Error())
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
		answer := s.life.Active() && s.hold.MaySend()
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
