package dsstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// bufferSize is the most one read of the local socket takes, and so the
// largest SEND the stream writes; the MSRP connection reads as much at
// once, and the local socket is written as much at once. The reference
// reads 2048 bytes; a larger buffer costs no latency (a read returns what
// is there) and carries a full-screen update in fewer SENDs and hops.
const bufferSize = 256 << 10

// viewerClosed is the reason of HandlerDidEnd.
const viewerClosed = "the VNC viewer closed the connection"

// stream is one desktop sharing stream.
type stream struct {
	*msrpstream.Raw

	env           *sdk.Env
	role          ds.Role
	handler       ds.Handler
	vncServer     string        // external server: where the VNC server is
	viewerTimeout time.Duration // external viewer: how long to wait for it
	window        int64         // internal: bytes delivered and not acknowledged

	sent, received atomic.Int64

	mu         sync.Mutex
	ended      bool
	stop       chan struct{} // closed by End
	ln         net.Listener  // external viewer, until the viewer connects
	viewerAddr string
	local      net.Conn      // the VNC socket, once connected
	pending    []byte        // the peer's bytes that came before it was live
	live       bool          // pending is written: receive writes to local
	ready      chan struct{} // closed once local is up, or will never be
	unacked    int64         // internal: GotData bytes not acknowledged
	acked      chan struct{} // internal: an ack_data came
	wg         sync.WaitGroup
	copyBuf    []byte // receive's, on the MSRP connection's reader
}

var _ sdk.Stream = (*stream)(nil)

func newStream(env *sdk.Env, account *sdk.Account, p ds.Params) *stream {
	h, _ := ds.ParseHandler(string(p.Handler))
	s := &stream{
		env:           env,
		role:          p.Role,
		handler:       h,
		vncServer:     p.VNCServer,
		viewerTimeout: p.ViewerTimeout,
		window:        internalWindow(account),
		stop:          make(chan struct{}),
		ready:         make(chan struct{}),
		acked:         make(chan struct{}, 1),
	}
	if s.vncServer == "" {
		s.vncServer = account.Setting(ds.SettingVNCServer, ds.DefaultVNCServer)
	}
	if s.viewerTimeout == 0 {
		s.viewerTimeout = viewerTimeout(account)
	}
	return s
}

// rawConfig is what the MSRP base needs to know about the type.
func (s *stream) rawConfig() msrpstream.RawConfig {
	return msrpstream.RawConfig{
		MediaType:     ds.MediaType,
		AcceptTypes:   []string{ds.ContentType},
		Attributes:    []sdp.Attribute{{Key: ds.AttributeSetup, Value: s.role.Setup()}},
		Receive:       s.receive,
		Started:       s.started,
		PrepareLocked: s.prepare,
		MSRP:          msrp.Config{Logger: s.env.Logger, ReadBufferSize: bufferSize},
	}
}

// external reports whether a real VNC peer is at our end.
func (s *stream) external() bool { return s.handler == ds.HandlerExternal }

// prepare runs in Initialize: the external viewer handler listens on a
// loopback port, whatever the session's address, so that only local
// programs reach the shared screen.
func (s *stream) prepare() error {
	if !s.external() || s.role != ds.RoleViewer {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the VNC viewer on 127.0.0.1: %w", err)
	}
	s.mu.Lock()
	s.ln, s.viewerAddr = ln, ln.Addr().String()
	s.mu.Unlock()
	return nil
}

// Initialize initializes the MSRP base (and the viewer's listener), then
// tells where the viewer should connect.
func (s *stream) Initialize(ctx context.Context, req *sdk.InitializeRequest) error {
	if err := s.Raw.Initialize(ctx, req); err != nil {
		return err
	}
	s.mu.Lock()
	addr, ended := s.viewerAddr, s.ended
	s.mu.Unlock()
	if _, err := s.Raw.LocalMedia(); addr != "" && !ended && err == nil {
		s.env.Post(ds.HandlerDidStartListening, ds.AddressData{Address: addr})
	}
	return nil
}

// started runs once the MSRP session is up: the handler's goroutine
// connects the local socket and pumps it into the session.
func (s *stream) started() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.wg.Add(1)
	go s.run()
}

// stopped reports whether End has begun.
func (s *stream) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// run is the handler: connect (or accept) the local VNC socket, then pump
// it into the MSRP session until either breaks or End.
func (s *stream) run() {
	defer s.wg.Done()
	if !s.external() {
		close(s.ready) // no socket: receive delivers notifications
		return
	}
	conn, err := s.connectLocal()
	if err != nil {
		close(s.ready)
		if !s.stopped() {
			s.fail(ds.ContextConnecting, err.Error())
		}
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		conn.Close()
		close(s.ready)
		return
	}
	s.local = conn // End closes it from now on
	s.mu.Unlock()
	// What the peer sent before the socket was up goes first, written
	// without the lock (a viewer that does not read must not block End);
	// receive holds what comes meanwhile, until live.
	for {
		s.mu.Lock()
		pending := s.pending
		s.pending = nil
		if len(pending) == 0 {
			s.live = true
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		n, err := conn.Write(pending)
		s.received.Add(int64(n))
		if err != nil {
			close(s.ready)
			s.localBroke(ds.ContextSending, err)
			return
		}
	}
	close(s.ready)
	s.env.Post(ds.HandlerDidConnect, ds.AddressData{Address: conn.RemoteAddr().String()})

	src := &errReader{r: conn}
	for {
		n, err := s.Raw.SendFrom(src, bufferSize)
		s.sent.Add(int64(n))
		if err == nil {
			continue
		}
		if src.err != nil {
			s.localBroke(ds.ContextReading, src.err)
		}
		// Otherwise the MSRP session refused the write: the stream is
		// ending or its session broke, which the base reports.
		s.closeLocal()
		return
	}
}

// connectLocal connects to the VNC server (server role) or accepts the VNC
// viewer (viewer role). Errors name the address.
func (s *stream) connectLocal() (net.Conn, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if s.role == ds.RoleServer {
		d := net.Dialer{Timeout: ds.ConnectTimeout}
		conn, err := d.DialContext(ctx, "tcp", s.vncServer)
		if err != nil {
			return nil, fmt.Errorf("could not connect to the VNC server at %s: %v", s.vncServer, unwrapOp(err))
		}
		return conn, nil
	}
	s.mu.Lock()
	ln, addr := s.ln, s.viewerAddr
	s.mu.Unlock()
	if ln == nil {
		return nil, fmt.Errorf("not listening for the VNC viewer")
	}
	defer func() {
		// One viewer only: the port closes once it is taken.
		s.mu.Lock()
		s.ln = nil
		s.mu.Unlock()
		ln.Close()
	}()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(s.viewerTimeout))
	conn, err := ln.Accept()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("no VNC viewer connected to %s within %v", addr, s.viewerTimeout)
		}
		return nil, fmt.Errorf("waiting for the VNC viewer on %s: %v", addr, unwrapOp(err))
	}
	return conn, nil
}

// unwrapOp drops net.OpError's repetition of the addresses.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// writerOnly hides the socket's ReadFrom, so that io.CopyBuffer uses
// the stream's buffer (as large as the reads of the MSRP connection)
// rather than the 32 KiB of net's generic copy.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// errReader remembers the error of its reader, to tell a broken local
// socket from a refused MSRP write.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// localBroke handles the end of the local socket: for the viewer role a
// viewer that went away ends the handler (HandlerDidEnd); anything else
// fails the stream with the address in the reason.
func (s *stream) localBroke(context string, err error) {
	defer s.closeLocal()
	if s.stopped() || errors.Is(err, net.ErrClosed) {
		return // End, a failure or the MSRP session closed it
	}
	gone := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	if s.role == ds.RoleViewer {
		if gone {
			if s.Raw.Active() {
				s.env.Logger.Info("the VNC viewer closed the connection")
				s.env.Post(ds.HandlerDidEnd, ds.EndData{Reason: viewerClosed})
			}
			return
		}
		s.fail(context, fmt.Sprintf("VNC viewer: %v", unwrapOp(err)))
		return
	}
	switch {
	case errors.Is(err, io.EOF):
		s.fail(context, fmt.Sprintf("the VNC server at %s closed the connection", s.vncServer))
	case context == ds.ContextReading:
		s.fail(context, fmt.Sprintf("reading from the VNC server at %s: %v", s.vncServer, unwrapOp(err)))
	default:
		s.fail(context, fmt.Sprintf("writing to the VNC server at %s: %v", s.vncServer, unwrapOp(err)))
	}
}

// fail posts HandlerDidFail then MediaStreamDidFail, unless the stream is
// closing or failed already.
func (s *stream) fail(context, reason string) {
	s.env.Logger.Warn("desktop sharing handler failed", "context", context, "reason", reason)
	s.Raw.Fail(context, reason, func() {
		s.env.Post(ds.HandlerDidFail, ds.FailData{Context: context, Reason: reason})
	})
	s.closeLocal()
}

// closeLocal closes the local socket, which stops both pumps.
func (s *stream) closeLocal() {
	s.mu.Lock()
	conn := s.local
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// maxPending bounds what the stream keeps of the peer's bytes before the
// local socket is up. An RFB server sends 12 bytes and waits for the
// viewer; the bound only stops a peer that floods.
const maxPending = 256 << 10

// hold keeps body while the local socket is not up yet and there is room,
// and reports whether it did. It never waits: the peer's data may arrive
// before the stream has started — before the response that completes the
// binding of an active side, which the connection's reader, running this,
// must go on to read. Past maxPending the caller waits for the socket
// instead (the stream has started by then, unless the peer floods).
func (s *stream) hold(body io.Reader) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live || len(s.pending) >= maxPending {
		return false
	}
	select {
	case <-s.ready:
		return false // it will not come up: drop
	default:
	}
	b, err := io.ReadAll(io.LimitReader(body, int64(maxPending-len(s.pending))))
	s.pending = append(s.pending, b...)
	if err == nil && len(s.pending) >= maxPending {
		// Whatever is left of this body waits for the socket.
		return false
	}
	return true
}

// waitLocal waits until the local socket is up; nil when it will not be.
func (s *stream) waitLocal(ctx context.Context) net.Conn {
	select {
	case <-s.ready:
	case <-s.stop:
		return nil
	case <-ctx.Done():
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

// receive takes the body of each incoming SEND, on the MSRP connection's
// reader: an external handler writes it to the local socket as it arrives
// (a socket that does not drain blocks the reader, which is the
// back-pressure on the peer); an internal one posts it.
func (s *stream) receive(ctx context.Context, _ string, body io.Reader) {
	if !s.external() {
		s.deliver(ctx, body)
		return
	}
	if s.hold(body) {
		return
	}
	conn := s.waitLocal(ctx)
	if conn == nil {
		return // unread bytes are discarded
	}
	src := &errReader{r: body}
	if s.copyBuf == nil {
		s.copyBuf = make([]byte, bufferSize) // receive runs on one goroutine
	}
	n, err := io.CopyBuffer(writerOnly{conn}, src, s.copyBuf)
	s.received.Add(n)
	if err != nil && src.err == nil {
		s.localBroke(ds.ContextSending, err)
	}
}

// deliver posts the bytes of a SEND to the application in pieces of at
// most bufferSize, each once the unacknowledged bytes are below the
// window.
func (s *stream) deliver(ctx context.Context, body io.Reader) {
	buf := make([]byte, bufferSize)
	for {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			if !s.waitWindow(ctx) {
				return
			}
			s.mu.Lock()
			s.unacked += int64(n)
			s.mu.Unlock()
			s.received.Add(int64(n))
			s.env.Post(ds.GotData, ds.DataData{Data: buf[:n]})
		}
		if err != nil {
			return
		}
	}
}

// waitWindow waits until fewer than window bytes are unacknowledged; false
// when the stream ends first.
func (s *stream) waitWindow(ctx context.Context) bool {
	for {
		s.mu.Lock()
		open := s.unacked < s.window
		s.mu.Unlock()
		if open {
			return true
		}
		select {
		case <-s.acked:
		case <-s.stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// End stops the handler, closes the local sockets and ends the base.
func (s *stream) End(ctx context.Context) error {
	s.mu.Lock()
	if !s.ended {
		s.ended = true
		close(s.stop)
	}
	ln, conn := s.ln, s.local
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	if conn != nil {
		conn.Close()
	}
	err := s.Raw.End(ctx)
	s.wg.Wait()
	return err
}

// Invoke serves the internal handler's methods.
func (s *stream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case ds.MethodSendData:
		return sdk.HandleInvoke(req, func(a ds.DataArgs) (ds.SendResult, error) {
			if s.external() {
				return ds.SendResult{}, sdk.Errorf(sdk.ErrIllegalState, "%s is for the internal handler; this stream's is %s", ds.MethodSendData, s.handler)
			}
			n, err := s.Raw.Write(a.Data)
			if err != nil {
				if errors.Is(err, msrp.ErrClosed) {
					return ds.SendResult{}, sdk.Errorf(sdk.ErrIllegalState, "%v", err)
				}
				return ds.SendResult{}, err
			}
			s.sent.Add(int64(n))
			return ds.SendResult{Sent: n}, nil
		})
	case ds.MethodAckData:
		return sdk.HandleInvoke(req, func(a ds.AckArgs) (struct{}, error) {
			if a.Bytes < 0 {
				return struct{}{}, sdk.Errorf(sdk.ErrInvalidArgument, "negative acknowledgement %d", a.Bytes)
			}
			s.mu.Lock()
			s.unacked = max(0, s.unacked-a.Bytes)
			s.mu.Unlock()
			select {
			case s.acked <- struct{}{}:
			default:
			}
			return struct{}{}, nil
		})
	}
	return nil, sdk.Errorf(sdk.ErrUnknownMethod, "%q", req.Method)
}

// Attributes returns the stream's own attributes; no hold.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	s.mu.Lock()
	a := ds.Attributes{
		Role:          s.role,
		Handler:       s.handler,
		Setup:         s.role.Setup(),
		ViewerAddress: s.viewerAddr,
		Connected:     s.local != nil,
	}
	s.mu.Unlock()
	if s.external() && s.role == ds.RoleServer {
		a.VNCServer = s.vncServer
	}
	a.BytesSent, a.BytesReceived = s.sent.Load(), s.received.Load()
	if lm, err := s.Raw.LocalMedia(); err == nil {
		a.LocalPath = msrp.FormatPath(lm.Path)
	}
	if m := s.Raw.Remote(); m != nil {
		a.RemotePath = msrp.FormatPath(m.Path)
	} else if m := s.Raw.Offer(); m != nil {
		a.RemotePath = msrp.FormatPath(m.Path)
	}
	return sdk.NewAttributes(a)
}
