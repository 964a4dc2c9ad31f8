package msrp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Session is one MSRP session bound on a Conn: its local URI, the peer's
// path and the Handler of its incoming requests. Obtain one from Dial,
// Listener.Accept, Conn.Bind or Conn.Expect.
type Session struct {
	conn     *Conn
	local    URI
	usePath  []URI
	remote   []URI
	handler  Handler
	verify   func(*tls.ConnectionState) error
	toPath   string // usePath + remote
	fromPath string // local

	inbound map[string]*inbound // owned by the Conn's reader goroutine

	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// inbound is the reassembly state of one incoming message.
type inbound struct {
	contentType string
	// start is the 1-based position of the first byte received: 1, or
	// later for a message resumed from an offset (RFC 5547 file-range,
	// the reference's FILE_OFFSET).
	start    int64
	received int64
	total    int64 // -1 unknown
	sawEnd   bool
	success  bool
	failure  ReportMode
}

func newSession(opts SessionOptions) *Session {
	h := opts.Handler
	if h == nil {
		h = HandlerFuncs{}
	}
	to := append(append([]URI(nil), opts.UsePath...), opts.Remote...)
	return &Session{
		local:    opts.Local,
		usePath:  append([]URI(nil), opts.UsePath...),
		remote:   append([]URI(nil), opts.Remote...),
		handler:  h,
		verify:   opts.VerifyPeer,
		toPath:   FormatPath(to),
		fromPath: opts.Local.String(),
		inbound:  map[string]*inbound{},
		done:     make(chan struct{}),
	}
}

// LocalURI returns this endpoint's URI.
func (s *Session) LocalURI() URI { return s.local }

// LocalPath returns the path to advertise in SDP a=path: the relay
// Use-Path followed by LocalURI.
func (s *Session) LocalPath() []URI {
	return append(append([]URI(nil), s.usePath...), s.local)
}

// RemotePath returns the peer's path.
func (s *Session) RemotePath() []URI { return append([]URI(nil), s.remote...) }

// Conn returns the connection carrying the session.
func (s *Session) Conn() *Conn { return s.conn }

// Done is closed when the session has closed, by Close or because its
// connection failed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session closed, or nil while it is open.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the session. A connection made by Dial or a Listener closes
// with its last session. Close waits for the connection's goroutines unless
// it is called from a Handler.
func (s *Session) Close() error {
	s.closeWith(ErrClosed)
	return nil
}

func (s *Session) closeWith(cause error) {
	s.finish(cause)
	s.conn.remove(s)
}

func (s *Session) finish(cause error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.err = cause
		s.mu.Unlock()
		close(s.done)
	})
}

func (s *Session) emptySend() *Message {
	m := &Message{TransactionID: NewTransactionID(), Method: MethodSEND, Flag: FlagEnd}
	m.SetHeader(HeaderToPath, s.toPath)
	m.SetHeader(HeaderFromPath, s.fromPath)
	m.SetHeader(HeaderMessageID, NewMessageID())
	m.SetHeader(HeaderByteRange, "1-0/0")
	return m
}

// verifyPeer runs SessionOptions.VerifyPeer on c.
func (s *Session) verifyPeer(c *Conn) error {
	if s.verify == nil {
		return nil
	}
	if st, ok := c.ConnectionState(); ok {
		return s.verify(&st)
	}
	return s.verify(nil)
}

// fromMatches checks the sender of a binding request: the session-id of
// the last From-Path URI (the peer itself) must be the expected one.
func (s *Session) fromMatches(from []URI) bool {
	want := s.remote[len(s.remote)-1].SessionID
	return want == "" || from[len(from)-1].SessionID == want
}

// Send queues a message. It blocks while the connection already
// interleaves Config.MaxActiveSends messages (back-pressure) or until ctx
// ends. The returned Delivery reports the transaction outcome.
//
// A SingleChunk message is read whole by Send and needs no such slot: it
// joins a queue that the writer empties whenever it comes round, so
// SingleChunk messages leave in the order of their Sends (of Sends that
// do not overlap: one goroutine's, say) and the next can be sent before
// the previous one is answered. Send blocks while that queue holds
// 256 KiB of bodies (back-pressure from the network).
func (s *Session) Send(ctx context.Context, o Outgoing) (*Delivery, error) {
	if o.ContentType == "" {
		return nil, fmt.Errorf("%w: Outgoing needs a ContentType", ErrInvalidArgument)
	}
	if o.Body == nil {
		o.Body, o.Size = bytes.NewReader(nil), 0
	}
	if o.Size < -1 {
		return nil, fmt.Errorf("%w: negative Size", ErrInvalidArgument)
	}
	if o.SingleChunk && o.Size < 0 {
		return nil, fmt.Errorf("%w: SingleChunk needs a known Size", ErrInvalidArgument)
	}
	if o.Start == 0 {
		o.Start = 1
	}
	if o.Start < 1 || o.Total < 0 || (o.Total > 0 && o.Size >= 0 && o.Start-1+o.Size > o.Total) {
		return nil, fmt.Errorf("%w: byte range start %d size %d total %d", ErrInvalidArgument, o.Start, o.Size, o.Total)
	}
	if o.Total == 0 {
		o.Total = -1
		if o.Size >= 0 {
			o.Total = o.Start - 1 + o.Size
		}
	}
	if o.MessageID == "" {
		o.MessageID = NewMessageID()
	} else if !validTransactionID(o.MessageID) {
		return nil, fmt.Errorf("%w: invalid Message-ID %q", ErrInvalidArgument, o.MessageID)
	}
	om := &outgoing{c: s.conn, o: o, offset: o.Start - 1, delivery: &Delivery{MessageID: o.MessageID, done: make(chan struct{})}}
	om.delivery.om = om
	h := &om.head
	h.Method = MethodSEND
	h.Headers = make([]HeaderField, 0, 7+len(o.Headers))
	h.AddHeader(HeaderToPath, s.toPath)
	h.AddHeader(HeaderFromPath, s.fromPath)
	h.AddHeader(HeaderMessageID, o.MessageID)
	om.rangeIdx = len(h.Headers)
	h.AddHeader(HeaderByteRange, "")
	if o.SuccessReport {
		h.AddHeader(HeaderSuccessReport, "yes")
	}
	if o.FailureReport != ReportYes {
		h.AddHeader(HeaderFailureReport, o.FailureReport.String())
	}
	for _, f := range o.Headers {
		if f.Name == "" || !validChars(f.Name, tokenChars) || !validText(f.Value) {
			return nil, fmt.Errorf("%w: invalid header %q", ErrInvalidArgument, f.Name)
		}
		h.AddHeader(f.Name, f.Value)
	}
	h.AddHeader(HeaderContentType, o.ContentType)
	select {
	case <-s.done:
		return nil, ErrClosed
	default:
	}
	if o.SingleChunk {
		// Read here, so that the writer sends it whole, in the order
		// of the Sends, without a producer of its own.
		om.whole = make([]byte, o.Size)
		if _, err := io.ReadFull(o.Body, om.whole); err != nil {
			return nil, fmt.Errorf("msrp: reading message body of %d bytes: %w", o.Size, err)
		}
		if err := s.conn.queueWhole(ctx, s, om); err != nil {
			return nil, err
		}
		return om.delivery, nil
	}
	select {
	case s.conn.msgs <- om:
		return om.delivery, nil
	case <-s.done:
		return nil, ErrClosed
	case <-s.conn.closing:
		return nil, s.conn.closedErr()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SendMessage sends a small in-memory message and waits for its Delivery
// result.
func (s *Session) SendMessage(ctx context.Context, contentType string, body []byte) (Result, error) {
	d, err := s.Send(ctx, Outgoing{ContentType: contentType, Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		return Result{}, err
	}
	return d.Wait(ctx)
}

// SendReport sends a REPORT about a received message (RFC 4975 §7.1.2),
// for handlers that report themselves (the reference SDK's streams run with
// automatic reports off) or that receive byte ranges, which the session does
// not track to completion. req is the Request of one of the message's
// chunks; rng the bytes reported on.
func (s *Session) SendReport(req *Message, rng ByteRange, code int, comment string) error {
	if req == nil || req.MessageID() == "" {
		return fmt.Errorf("%w: REPORT needs a request with a Message-ID", ErrInvalidArgument)
	}
	if comment == "" {
		comment = StatusText(code)
	}
	rep := &Message{TransactionID: NewTransactionID(), Method: MethodREPORT, Flag: FlagEnd, Headers: make([]HeaderField, 0, 5)}
	rep.AddHeader(HeaderToPath, req.Header(HeaderFromPath))
	rep.AddHeader(HeaderFromPath, s.fromPath)
	rep.AddHeader(HeaderMessageID, req.MessageID())
	rep.AddHeader(HeaderByteRange, rng.String())
	rep.AddHeader(HeaderStatus, Status{Code: code, Comment: comment}.String())
	return s.conn.sendFrame(rep.Marshal())
}

// Request sends a bodiless request of any method other than SEND and
// REPORT on the session — NICKNAME (RFC 7701), or a method of an extension
// — with To-Path and From-Path filled in and headers added after them, and
// waits for its transaction response. The Result carries the response's
// code and comment; without a response within Config.ResponseTimeout it is
// the local 408 "Timed out while waiting for transaction response", as in
// the reference. The error is the Result's Err for a non-2xx response
// (a *StatusError; errors.Is(err, ErrTimeout) for the 408), ctx's error, or
// one wrapping ErrClosed or ErrInvalidArgument, with a zero Result.
func (s *Session) Request(ctx context.Context, method string, headers []HeaderField) (Result, error) {
	resp, err := s.RequestMessage(ctx, method, headers)
	if err != nil {
		return Result{}, err
	}
	res := resultOf(resp.StatusCode, resp.Comment)
	return res, res.Err
}

// RequestMessage is Request returning the response itself, for a method
// whose answer carries headers: the reference's FILE_OFFSET is answered
// with an Offset header. A response that did not come (the local 408) is
// a Message with that status and no headers; err is nil for any response,
// 2xx or not, and otherwise ctx's error or one wrapping ErrClosed or
// ErrInvalidArgument.
func (s *Session) RequestMessage(ctx context.Context, method string, headers []HeaderField) (*Message, error) {
	if method == "" || !validChars(method, methodChars) || method == MethodSEND || method == MethodREPORT {
		return nil, fmt.Errorf("%w: request method %q", ErrInvalidArgument, method)
	}
	m := &Message{TransactionID: NewTransactionID(), Method: method, Flag: FlagEnd}
	m.AddHeader(HeaderToPath, s.toPath)
	m.AddHeader(HeaderFromPath, s.fromPath)
	for _, f := range headers {
		if f.Name == "" || !validChars(f.Name, tokenChars) || !validText(f.Value) ||
			strings.EqualFold(f.Name, HeaderToPath) || strings.EqualFold(f.Name, HeaderFromPath) ||
			strings.EqualFold(f.Name, HeaderContentType) {
			return nil, fmt.Errorf("%w: invalid header %q in %s request", ErrInvalidArgument, f.Name, method)
		}
		m.AddHeader(f.Name, f.Value)
	}
	select {
	case <-s.done:
		return nil, ErrClosed
	default:
	}
	resp, err := s.conn.transactResponse(ctx, m, true)
	if err != nil {
		return nil, fmt.Errorf("%s request: %w", method, err)
	}
	return resp, nil
}

// limitReader fails with ErrTooLarge once more than n bytes are read.
type limitReader struct {
	r   io.Reader
	n   int64
	hit bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.hit = true
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.hit = true
		return n - 1, ErrTooLarge
	}
	return n, err
}

// handleRequest serves one incoming request on the reader goroutine.
func (s *Session) handleRequest(ctx context.Context, r *Reader, m *Message) error {
	c := s.conn
	hasBody := r.boundary != nil
	drain := func() error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	switch m.Method {
	case MethodSEND:
		br, err := m.ByteRange()
		if err != nil {
			if err := drain(); err != nil {
				return err
			}
			c.respond(m, StatusBadRequest, "Invalid Byte-Range")
			return nil
		}
		if !hasBody {
			// Binding or keep-alive empty SEND.
			c.respond(m, StatusOK, "")
			return nil
		}
		id := m.MessageID()
		if m.ContentType() == "" || id == "" {
			if err := drain(); err != nil {
				return err
			}
			if id == "" {
				c.respond(m, StatusBadRequest, "Message-ID header missing")
			} else {
				c.respond(m, StatusUnsupportedMedia, "Content-Type header missing")
			}
			return nil
		}
		return s.handleChunk(ctx, r, m, br, id)
	case MethodREPORT:
		if err := drain(); err != nil {
			return err
		}
		st, err := m.Status()
		br, err2 := m.ByteRange()
		if err != nil || err2 != nil || m.MessageID() == "" {
			c.log.Debug("dropping malformed REPORT", "tid", m.TransactionID)
			return nil
		}
		c.inHandler.Store(true)
		s.handler.HandleReport(ctx, &Report{Request: m, MessageID: m.MessageID(), Range: br, Status: st})
		c.inHandler.Store(false)
		return nil
	default:
		ch := &Chunk{Request: m, MessageID: m.MessageID(), ContentType: m.ContentType(), body: r, flag: func() byte { return m.Flag }, sess: s}
		ch.Range, _ = m.ByteRange()
		c.inHandler.Store(true)
		code := s.handler.HandleRequest(ctx, ch)
		c.inHandler.Store(false)
		if err := drain(); err != nil {
			return err
		}
		c.respondWith(m, code, ch.ResponseComment, ch.ResponseHeaders, nil)
		return nil
	}
}

func (s *Session) handleChunk(ctx context.Context, r *Reader, m *Message, br ByteRange, id string) error {
	c := s.conn
	st := s.inbound[id]
	if st == nil {
		st = &inbound{contentType: m.ContentType(), start: 1, total: -1, success: m.SuccessReport() == ReportYes, failure: m.FailureReport()}
	}
	if br.Total >= 0 {
		st.total = br.Total
	}
	var body io.Reader = r
	var lim *limitReader
	if max := c.cfg.MaxMessageSize; max > 0 {
		if br.Total > max || br.End > max || br.Start-1 > max {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
			return s.refuse(ctx, m, id, st, StatusStopSending, "")
		}
		lim = &limitReader{r: r, n: max - (br.Start - 1)}
		body = lim
	}
	ch := &Chunk{Request: m, MessageID: id, ContentType: st.contentType, Range: br, body: body, flag: func() byte { return m.Flag }, sess: s}
	c.inHandler.Store(true)
	code := s.handler.HandleChunk(ctx, ch)
	c.inHandler.Store(false)
	if _, err := io.Copy(io.Discard, ch); err != nil && !errors.Is(err, ErrTooLarge) {
		var pe *ParseError
		if errors.As(err, &pe) && pe.TransactionID != "" {
			return s.refuse(ctx, m, id, st, StatusBadRequest, "")
		}
		return err
	}
	if lim != nil && lim.hit {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		code, ch.ResponseComment = StatusStopSending, ""
	}
	if code != StatusOK {
		return s.refuse(ctx, m, id, st, code, ch.ResponseComment)
	}
	if ch.StartsMessage && st.received == 0 {
		st.start = br.Start
	}
	st.received += ch.n
	if m.Flag == FlagAborted {
		// Completed (what the handler holds released) before the 200:
		// an aborted message gets no REPORT, so the 200 is the last
		// word the sender has of it.
		delete(s.inbound, id)
		s.complete(ctx, &Completion{MessageID: id, ContentType: st.contentType, Start: st.start, Size: st.received, Aborted: true, Status: StatusOK})
		c.respond(m, StatusOK, "")
		return nil
	}
	c.respond(m, StatusOK, "")
	switch m.Flag {
	case FlagEnd:
		st.sawEnd = true
	}
	if !st.sawEnd || (st.total >= 0 && st.start-1+st.received < st.total) {
		s.inbound[id] = st
		return nil
	}
	delete(s.inbound, id)
	comp := &Completion{MessageID: id, ContentType: st.contentType, Start: st.start, Size: st.received, Status: StatusOK}
	code = s.complete(ctx, comp)
	s.report(m, st, code, comp.ReportComment)
	return nil
}

// refuse answers a chunk with a failure (comment "" means StatusText) and
// forgets its message, telling the handler first (it lets go of the
// message before the peer hears back). When earlier chunks of the message
// were accepted with 200, a failure REPORT on the refused chunk's bytes
// follows the response (unless Failure-Report is no), so that a sender
// that counts the message by its REPORTs learns that it failed as a whole.
func (s *Session) refuse(ctx context.Context, m *Message, id string, st *inbound, code int, comment string) error {
	delete(s.inbound, id)
	s.complete(ctx, &Completion{MessageID: id, ContentType: st.contentType, Start: st.start, Size: st.received, Aborted: true, Status: code})
	s.conn.respond(m, code, comment)
	if st.received > 0 && st.failure != ReportNo {
		if br, err := m.ByteRange(); err == nil {
			_ = s.SendReport(m, br, code, comment)
		}
	}
	return nil
}

func (s *Session) complete(ctx context.Context, comp *Completion) int {
	s.conn.inHandler.Store(true)
	defer s.conn.inHandler.Store(false)
	return s.handler.HandleComplete(ctx, comp)
}

// report sends the REPORT the sender asked for (RFC 4975 §7.1.2): success
// when Success-Report is yes and code is 200, failure when Failure-Report
// is yes or partial and code is not. An empty comment means StatusText.
func (s *Session) report(req *Message, st *inbound, code int, comment string) {
	if code == StatusOK && !st.success || code != StatusOK && st.failure == ReportNo {
		return
	}
	end := st.start - 1 + st.received
	total := st.total
	if total < 0 {
		total = end
	}
	_ = s.SendReport(req, ByteRange{Start: st.start, End: end, Total: total}, code, comment)
}
