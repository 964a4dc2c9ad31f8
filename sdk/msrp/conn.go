package msrp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one MSRP connection carrying any number of sessions, told apart
// by the session-id of the last To-Path URI of each request (RFC 4975 §5.4;
// at an endpoint, relays have removed their own URIs).
//
// A Conn owns three goroutines: a reader that parses requests and
// responses and calls the sessions' Handlers, a writer that interleaves the
// chunks of outgoing messages with responses and REPORTs, and a keep-alive
// ticker. Close stops all three and waits for them.
type Conn struct {
	nc  net.Conn
	tls *tls.Conn // nc's TLS layer, nil on plain TCP
	cfg Config
	log *slog.Logger

	ctrlReady chan struct{}  // ctrlQ or wholeQ has work for the writer
	msgs      chan *outgoing // messages to be chunked by the writer
	// wholeSpace is signalled when the writer takes from wholeQ, for a
	// Send waiting for room.
	wholeSpace chan struct{}
	// bw buffers the writer's frames: they go to the network when the
	// writer has nothing more to write at once (or bw is full), so a
	// burst of small frames costs one write, and one TLS record, instead
	// of one each. Owned by the writer goroutine.
	bw        *bufio.Writer
	wake      chan struct{} // a chunk is ready or a message failed
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	cancel    context.CancelFunc

	// claim, when set, binds unknown session-ids to sessions waiting on
	// a Listener; an error means the session refused this connection.
	// A refusal (the session's VerifyPeer) comes with refuse, which tells
	// the waiter once the 403 is written.
	claim func(c *Conn, sessionID string, fromPath []URI) (s *Session, refuse func(), err error)
	// owned: the Conn closes itself when its last session closes.
	owned bool
	// inHandler is set while the reader runs a Handler method, so that a
	// Close from inside a handler does not wait for the reader itself.
	inHandler atomic.Bool

	mu   sync.Mutex
	txns map[string]*txn
	// expiry holds the transactions in the order they started, which is
	// the order of their deadlines (one ResponseTimeout for all): one
	// timer, expiryTimer, fires at the first one's, instead of a timer
	// per transaction. Answered ones leave from the front.
	expiry      []*txn
	expiryTimer *time.Timer
	sessions    map[string]*Session
	pending     map[string]*Pending
	watch       map[string]chan *Message // responses wanted whole, by tid
	// toCache and fromCache remember the last parsed paths; a session's
	// chunks repeat them. Owned by the reader goroutine.
	toCache, fromCache pathCache
	// ctrlQ holds complete frames (responses, REPORTs, bodiless requests)
	// for the writer, which sends them before the next chunk. It is
	// unbounded so that the reader never blocks on the writer: two peers
	// both blocked writing would otherwise stop reading and deadlock.
	ctrlQ []ctrlFrame
	// wholeQ holds the SingleChunk messages read by Send, in the order
	// of the Sends, for the writer, which takes them all at once;
	// wholeBytes counts their bodies, and a Send waits while it is
	// maxQueuedWhole or more (back-pressure).
	wholeQ      []*outgoing
	wholeBytes  int64
	hadSessions bool
	err         error
}

// txn is a request waiting for its response.
type txn struct {
	tid       string
	done      func(code int, comment string)
	deadline  time.Time
	timeoutOK bool
	over      bool // answered, withdrawn or timed out: no longer in txns
}

// NewConn starts an MSRP connection over nc, which it now owns. Sessions
// are added with Bind (active side) or Expect (passive side).
func NewConn(nc net.Conn, cfg Config) *Conn {
	return newConn(nc, cfg, false, nil)
}

func newConn(nc net.Conn, cfg Config, owned bool, claim func(*Conn, string, []URI) (*Session, func(), error)) *Conn {
	cfg = cfg.withDefaults()
	tc, _ := nc.(*tls.Conn)
	if cfg.Trace != nil {
		nc = traceConn{Conn: nc, trace: cfg.Trace}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		nc:         nc,
		tls:        tc,
		cfg:        cfg,
		log:        cfg.Logger.With("local", nc.LocalAddr().String(), "remote", nc.RemoteAddr().String()),
		ctrlReady:  make(chan struct{}, 1),
		msgs:       make(chan *outgoing),
		wholeSpace: make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		cancel:     cancel,
		owned:      owned,
		claim:      claim,
		txns:       map[string]*txn{},
		sessions:   map[string]*Session{},
		pending:    map[string]*Pending{},
	}
	if tc != nil {
		c.log.Debug("connection established", "transport", "tls")
	} else {
		c.log.Debug("connection established", "transport", "tcp")
	}
	// Every Add before the first goroutine starts: the reader may hand a
	// session to a caller who closes it, and waits, at once.
	n := 2
	if cfg.KeepAliveInterval > 0 {
		n++
	}
	c.bw = bufio.NewWriterSize(nc, writeBufferSize)
	c.wg.Add(n)
	go c.readLoop(ctx)
	go c.writeLoop()
	if cfg.KeepAliveInterval > 0 {
		go c.keepAliveLoop()
	}
	return c
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// ConnectionState returns the TLS state of an msrps connection (the
// peer's certificates among it); ok is false on plain TCP.
func (c *Conn) ConnectionState() (state tls.ConnectionState, ok bool) {
	if c.tls == nil {
		return tls.ConnectionState{}, false
	}
	return c.tls.ConnectionState(), true
}

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.closing }

// Err returns why the connection closed, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and every session on it, failing pending
// transactions with ErrClosed, and waits for its goroutines.
func (c *Conn) Close() error {
	c.shutdown(ErrClosed)
	c.wg.Wait()
	return nil
}

// shutdown closes the connection without waiting; it is safe from the
// Conn's own goroutines.
func (c *Conn) shutdown(cause error) {
	c.closeOnce.Do(func() {
		c.log.Debug("connection closed", "cause", cause)
		c.mu.Lock()
		c.err = cause
		txns := c.txns
		c.txns = map[string]*txn{}
		c.expiry = nil
		if c.expiryTimer != nil {
			c.expiryTimer.Stop()
		}
		sessions := c.sessions
		c.sessions = map[string]*Session{}
		pending := c.pending
		c.pending = map[string]*Pending{}
		c.mu.Unlock()
		close(c.closing)
		c.cancel()
		_ = c.nc.Close()
		for _, t := range txns {
			t.done(0, cause.Error())
		}
		for _, s := range sessions {
			s.finish(cause)
		}
		for _, p := range pending {
			p.fail(cause)
		}
	})
}

func (c *Conn) fail(err error) {
	if !errors.Is(err, ErrClosed) {
		c.log.Debug("connection failed", "err", err)
	}
	c.shutdown(err)
}

// startTxn registers a transaction whose response calls done. A timeout
// calls done with a local 408, or with 200 when timeoutOK (Failure-Report
// partial: no news is good news).
func (c *Conn) startTxn(tid string, timeoutOK bool, done func(int, string)) error {
	t := &txn{tid: tid, done: done, deadline: time.Now().Add(c.cfg.ResponseTimeout), timeoutOK: timeoutOK}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if old := c.txns[tid]; old != nil {
		old.over = true // a duplicate id: the new one replaces it
	}
	c.txns[tid] = t
	c.expiry = append(c.expiry, t)
	if len(c.expiry) == 1 {
		c.armLocked()
	}
	return nil
}

// armLocked sets the expiry timer to the first transaction's deadline.
func (c *Conn) armLocked() {
	d := time.Until(c.expiry[0].deadline)
	if c.expiryTimer == nil {
		c.expiryTimer = time.AfterFunc(d, c.expire)
		return
	}
	c.expiryTimer.Reset(d)
}

// endLocked takes t off the transactions.
func (c *Conn) endLocked(t *txn) {
	t.over = true
	delete(c.txns, t.tid)
	n := 0
	for n < len(c.expiry) && c.expiry[n].over {
		c.expiry[n] = nil
		n++
	}
	c.expiry = c.expiry[n:]
	switch {
	case len(c.expiry) == 0:
		c.expiry = nil
		c.expiryTimer.Stop()
	case len(c.expiry) > 64 && len(c.expiry) > 2*len(c.txns):
		// Answered behind one that is not: keep only those waiting.
		live := make([]*txn, 0, len(c.txns))
		for _, x := range c.expiry {
			if !x.over {
				live = append(live, x)
			}
		}
		c.expiry = live
	}
}

// expire ends the transactions past their deadline with the local 408
// (or 200, see startTxn), and sets the timer for the next.
func (c *Conn) expire() {
	var expired []*txn
	c.mu.Lock()
	now := time.Now()
	for len(c.expiry) > 0 {
		t := c.expiry[0]
		if !t.over && t.deadline.After(now) {
			break
		}
		if !t.over {
			t.over = true
			delete(c.txns, t.tid)
			expired = append(expired, t)
		}
		c.expiry[0] = nil
		c.expiry = c.expiry[1:]
	}
	if len(c.expiry) > 0 && c.err == nil {
		c.armLocked()
	}
	c.mu.Unlock()
	for _, t := range expired {
		if t.timeoutOK {
			t.done(StatusOK, "OK")
		} else {
			t.done(StatusRequestTimeout, "Timed out while waiting for transaction response")
		}
	}
}

// takeTxn withdraws the transaction tid: its response will be ignored.
func (c *Conn) takeTxn(tid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.txns[tid]
	if ok {
		c.endLocked(t)
	}
	return ok
}

func (c *Conn) resolveTxn(tid string, code int, comment string) {
	c.mu.Lock()
	t, ok := c.txns[tid]
	if ok {
		c.endLocked(t)
	}
	c.mu.Unlock()
	if !ok {
		c.log.Debug("response to unknown transaction", "tid", tid, "code", code)
		return
	}
	t.done(code, comment)
}

// sendFrame queues a complete frame for the writer. It never blocks.
func (c *Conn) sendFrame(frame []byte) error { return c.sendFrameThen(frame, nil) }

// ctrlFrame is a queued control frame; after, if set, runs once it was
// written (or could not be: the connection is gone).
type ctrlFrame struct {
	b     []byte
	after func()
}

// sendFrameThen queues frame for the writer and runs after once it is
// on the wire (or the connection failed), so that what follows a
// response — a session refused, then closed — cannot overtake it.
func (c *Conn) sendFrameThen(frame []byte, after func()) error {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		if after != nil {
			after()
		}
		return c.closedErr()
	}
	c.ctrlQ = append(c.ctrlQ, ctrlFrame{frame, after})
	c.mu.Unlock()
	select {
	case c.ctrlReady <- struct{}{}:
	default:
	}
	return nil
}

// popFrame takes the oldest queued frame, or a zero one.
func (c *Conn) popFrame() ctrlFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ctrlQ) == 0 {
		return ctrlFrame{}
	}
	f := c.ctrlQ[0]
	c.ctrlQ[0] = ctrlFrame{}
	c.ctrlQ = c.ctrlQ[1:]
	if len(c.ctrlQ) == 0 {
		c.ctrlQ = nil
	}
	return f
}

func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && !errors.Is(c.err, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, c.err)
	}
	return ErrClosed
}

// transact sends a bodiless request and waits for its response.
func (c *Conn) transact(ctx context.Context, m *Message) (Result, error) {
	ch := make(chan Result, 1)
	if err := c.startTxn(m.TransactionID, false, func(code int, comment string) {
		if code == 0 {
			ch <- Result{Comment: comment, Err: c.closedErr()}
			return
		}
		ch <- resultOf(code, comment)
	}); err != nil {
		return Result{}, c.closedErr()
	}
	if err := c.sendFrame(m.Marshal()); err != nil {
		c.takeTxn(m.TransactionID)
		return Result{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		c.takeTxn(m.TransactionID)
		return Result{}, ctx.Err()
	}
}

// transactMessage sends a bodiless request and returns its response
// message (for AUTH, whose 200 carries Use-Path). A local 408 is an error.
func (c *Conn) transactMessage(ctx context.Context, m *Message) (*Message, error) {
	return c.transactResponse(ctx, m, false)
}

// transactResponse is transactMessage; with local408 a timeout is a
// Message with the local 408 rather than an error.
func (c *Conn) transactResponse(ctx context.Context, m *Message, local408 bool) (*Message, error) {
	ch := make(chan *Message, 1)
	c.mu.Lock()
	if c.watch == nil {
		c.watch = map[string]chan *Message{}
	}
	c.watch[m.TransactionID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.watch, m.TransactionID)
		c.mu.Unlock()
	}()
	res, err := c.transact(ctx, m)
	if err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	default:
		// Local result (408): no message arrived.
		if res.Err != nil && (!local408 || res.Code == 0) {
			return nil, res.Err
		}
		return &Message{TransactionID: m.TransactionID, StatusCode: res.Code, Comment: res.Comment}, nil
	}
}

func (c *Conn) keepAliveLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.KeepAliveInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		c.mu.Lock()
		var ss []*Session
		for _, s := range c.sessions {
			ss = append(ss, s)
		}
		c.mu.Unlock()
		for _, s := range ss {
			m := s.emptySend()
			m.AddHeader(HeaderKeepAlive, "yes")
			ch := make(chan int, 1)
			if c.startTxn(m.TransactionID, false, func(code int, _ string) { ch <- code }) != nil {
				return
			}
			if c.sendFrame(m.Marshal()) != nil {
				return
			}
			// The response is checked asynchronously so a dead peer is
			// detected without blocking this loop's Close.
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				select {
				case code := <-ch:
					if code == StatusRequestTimeout {
						c.fail(fmt.Errorf("keep-alive: %w", ErrTimeout))
					}
				case <-c.closing:
				}
			}()
		}
	}
}

// ---- writer ----

// outgoing is the state of one message being chunked. A producer goroutine
// reads the body into at most two chunk buffers (so memory per message is
// bounded and a slow body does not stall other messages); the writer
// goroutine frames and writes the chunks.
type outgoing struct {
	c        *Conn
	o        Outgoing
	head     Message // template of each chunk's headers (writer only)
	rangeIdx int     // index of Byte-Range in head.Headers
	offset   int64   // body bytes framed (writer only)
	chunks   int     // chunks written (writer only)

	read    int64 // body bytes read (producer only)
	look    byte  // one byte of lookahead when Size is unknown
	hasLook bool

	ready chan chunkBuf
	free  chan []byte
	stop  chan struct{}
	// whole is the body of a SingleChunk message, read by Send: the
	// writer sends it at once, without ready, free, stop or producer.
	whole []byte

	mu       sync.Mutex
	pending  int
	written  bool
	failure  *Result
	cancel   bool // failure is a local Cancel
	finished bool
	delivery *Delivery
}

// frameOverhead is the room a frame buffer kept for reuse has beyond
// Config.ChunkSize: the start line, the headers and the end-line of a
// chunk (a file transfer's 64 KiB chunks would otherwise need a fresh
// buffer each — a gigabyte of garbage per gigabyte sent).
const frameOverhead = 8 << 10

// writeBufferSize is the size of the writer's buffer: one TLS record,
// some fifty small chat messages; a connection costs it besides the
// reader's buffer.
const writeBufferSize = 16 << 10

// maxQueuedWhole bounds the bodies of the SingleChunk messages queued for
// the writer (one larger message is queued alone).
const maxQueuedWhole = 256 << 10

// queueWhole queues a SingleChunk message of s for the writer, waiting
// while the queue is full.
func (c *Conn) queueWhole(ctx context.Context, s *Session, om *outgoing) error {
	size := int64(len(om.whole))
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return c.closedErr()
		}
		if len(c.wholeQ) == 0 || c.wholeBytes+size <= maxQueuedWhole {
			c.wholeQ = append(c.wholeQ, om)
			c.wholeBytes += size
			room := c.wholeBytes < maxQueuedWhole
			c.mu.Unlock()
			signal(c.ctrlReady)
			if room {
				signal(c.wholeSpace) // another Send may be waiting
			}
			return nil
		}
		c.mu.Unlock()
		select {
		case <-c.wholeSpace:
		case <-s.done:
			return ErrClosed
		case <-c.closing:
			return c.closedErr()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// takeWhole takes every queued SingleChunk message, oldest first.
func (c *Conn) takeWhole() []*outgoing {
	c.mu.Lock()
	ws := c.wholeQ
	c.wholeQ, c.wholeBytes = nil, 0
	c.mu.Unlock()
	if len(ws) > 0 {
		signal(c.wholeSpace)
	}
	return ws
}

// signal wakes the one waiter of a channel of capacity 1, or leaves the
// signal for it.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

type chunkBuf struct {
	data []byte
	last bool
	err  error
}

func (om *outgoing) aborted() bool {
	om.mu.Lock()
	defer om.mu.Unlock()
	return om.failure != nil
}

func (om *outgoing) cancelled() bool {
	om.mu.Lock()
	defer om.mu.Unlock()
	return om.cancel
}

// abort is Delivery.Cancel: the message fails locally and the writer stops
// it, sending an aborting end-line if chunks went out already.
func (om *outgoing) abort() {
	om.mu.Lock()
	if om.failure != nil || om.finished {
		om.mu.Unlock()
		return
	}
	om.failure = &Result{Comment: "cancelled", Err: ErrCancelled}
	om.cancel = true
	om.maybeFinishLocked()
	om.mu.Unlock()
	om.c.wakeup()
}

func (om *outgoing) chunkDone(code int, comment string, err error) {
	om.mu.Lock()
	om.pending--
	failed := false
	if om.failure == nil && (err != nil || code < 200 || code > 299) {
		r := resultOf(code, comment)
		if err != nil {
			r.Err = err
		}
		om.failure = &r
		failed = true
	}
	om.maybeFinishLocked()
	om.mu.Unlock()
	if failed {
		om.c.wakeup() // the writer drops the message
	}
}

func (om *outgoing) writtenAll(err error) {
	om.mu.Lock()
	om.written = true
	if err != nil && om.failure == nil {
		om.failure = &Result{Comment: err.Error(), Err: err}
	}
	om.maybeFinishLocked()
	om.mu.Unlock()
}

func (om *outgoing) maybeFinishLocked() {
	if om.finished || !om.written || (om.pending > 0 && om.failure == nil) {
		return
	}
	om.finished = true
	if om.failure != nil {
		om.delivery.result = *om.failure
	} else {
		om.delivery.result = resultOf(StatusOK, "OK")
	}
	close(om.delivery.done)
}

func (c *Conn) wakeup() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// produce reads om's body into chunk buffers for the writer.
func (c *Conn) produce(om *outgoing) {
	defer c.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-om.free:
		case <-om.stop:
			return
		case <-c.closing:
			return
		}
		cb := om.fill(buf[:cap(buf)])
		select {
		case om.ready <- cb:
			c.wakeup()
		case <-om.stop:
			return
		case <-c.closing:
			return
		}
		if cb.last || cb.err != nil {
			return
		}
	}
}

// fill reads the next chunk body into buf. last reports the end of the
// body; err a read failure or a body shorter than the declared Size.
func (om *outgoing) fill(buf []byte) chunkBuf {
	if om.o.Size >= 0 {
		if rem := om.o.Size - om.read; rem < int64(len(buf)) {
			buf = buf[:rem]
		}
	}
	n := 0
	if om.hasLook && len(buf) > 0 {
		buf[0] = om.look
		om.hasLook = false
		n = 1
	}
	k, err := io.ReadFull(om.o.Body, buf[n:])
	n += k
	om.read += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if om.o.Size >= 0 {
			return chunkBuf{data: buf[:n], err: fmt.Errorf("body ended after %d of %d bytes: %w", om.read, om.o.Size, io.ErrUnexpectedEOF)}
		}
		return chunkBuf{data: buf[:n], last: true}
	case err != nil:
		return chunkBuf{data: buf[:n], err: err}
	}
	if om.o.Size >= 0 {
		return chunkBuf{data: buf[:n], last: om.read == om.o.Size}
	}
	var one [1]byte
	k, err = io.ReadFull(om.o.Body, one[:])
	switch {
	case k == 1:
		om.look, om.hasLook = one[0], true
		return chunkBuf{data: buf[:n]}
	case err == io.EOF:
		return chunkBuf{data: buf[:n], last: true}
	default:
		return chunkBuf{data: buf[:n], err: err}
	}
}

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	var active []*outgoing
	defer func() {
		for _, om := range active {
			close(om.stop)
			om.writtenAll(c.closedErr())
		}
		// The connection failed (c.err is set): no Send queues more.
		for _, om := range c.takeWhole() {
			om.writtenAll(c.closedErr())
		}
		// What waited for a frame that will never be written goes on.
		c.mu.Lock()
		left := c.ctrlQ
		c.ctrlQ = nil
		c.mu.Unlock()
		for _, f := range left {
			if f.after != nil {
				f.after()
			}
		}
	}()
	next := 0
	var frame []byte
	for {
		if f := c.popFrame(); f.b != nil {
			err := c.write(f.b)
			if err == nil && f.after != nil {
				err = c.flush()
			}
			if f.after != nil {
				f.after()
			}
			if err != nil {
				return
			}
			continue
		}
		// The SingleChunk messages queued now, then a chunk of the
		// others, so that neither kind starves the other.
		ws := c.takeWhole()
		for i, om := range ws {
			var err error
			if frame, err = c.writeWhole(om, frame); err != nil {
				for _, left := range ws[i+1:] {
					left.writtenAll(c.closedErr())
				}
				return
			}
		}
		wrote := len(ws) > 0
		msgs := c.msgs
		if len(active) >= c.cfg.MaxActiveSends {
			msgs = nil
		}
		select {
		case om := <-msgs:
			active = append(active, c.start(om))
			continue
		default:
		}
		// Round robin over the messages with a chunk ready.
		progressed := false
		for i := 0; i < len(active) && !progressed; i++ {
			idx := (next + i) % len(active)
			om := active[idx]
			if om.aborted() {
				if om.cancelled() && om.chunks > 0 {
					// Tell the peer: an empty chunk ending in '#'.
					var err error
					frame, err = c.writeAbort(om, frame[:0])
					if err != nil {
						return
					}
				}
				close(om.stop)
				om.writtenAll(nil)
				active = append(active[:idx], active[idx+1:]...)
				progressed = true
				break
			}
			select {
			case cb := <-om.ready:
				var err error
				frame, err = c.writeChunk(om, cb, frame[:0])
				if err != nil {
					return
				}
				if cap(frame) > c.cfg.ChunkSize+frameOverhead {
					frame = nil // a SingleChunk message's frame is not kept
				}
				if cb.last || cb.err != nil {
					close(om.stop)
					active = append(active[:idx], active[idx+1:]...)
					next = idx
				} else {
					om.free <- cb.data
					next = idx + 1
				}
				progressed = true
			default:
			}
		}
		if progressed || wrote {
			continue
		}
		// Nothing more to write at once: what is buffered goes out.
		if c.flush() != nil {
			return
		}
		select {
		case <-c.ctrlReady:
		case om := <-msgs:
			active = append(active, c.start(om))
		case <-c.wake:
		case <-c.closing:
			return
		}
	}
}

// writeWhole writes a SingleChunk message read by Send; an error means
// the connection failed, and the message fails with it.
func (c *Conn) writeWhole(om *outgoing, frame []byte) ([]byte, error) {
	if om.aborted() {
		om.writtenAll(nil) // cancelled before a byte went out
		return frame, nil
	}
	frame, err := c.writeChunk(om, chunkBuf{data: om.whole, last: true}, frame[:0])
	om.whole = nil
	if cap(frame) > c.cfg.ChunkSize+frameOverhead {
		frame = nil
	}
	if err != nil {
		om.writtenAll(c.closedErr())
	}
	return frame, err
}

// start gives a new message its buffers and producer: two chunk buffers,
// or one sized to the body when it fits in a chunk (always for
// SingleChunk).
func (c *Conn) start(om *outgoing) *outgoing {
	om.ready = make(chan chunkBuf, 1)
	om.free = make(chan []byte, 2)
	om.stop = make(chan struct{})
	size := int64(c.cfg.ChunkSize)
	if om.o.SingleChunk || (om.o.Size >= 0 && om.o.Size < size) {
		size = om.o.Size
	}
	om.free <- make([]byte, size)
	if om.o.Size < 0 || om.o.Size > size {
		om.free <- make([]byte, size)
	}
	c.wg.Add(1)
	go c.produce(om)
	return om
}

// write adds b to the writer's buffer, which goes to the network when it
// is full or at the next flush; a frame larger than the buffer goes at
// once.
func (c *Conn) write(b []byte) error {
	if _, err := c.bw.Write(b); err != nil {
		c.fail(&TransportError{Err: err})
		return err
	}
	return nil
}

// flush writes what the writer buffered.
func (c *Conn) flush() error {
	if c.bw.Buffered() == 0 {
		return nil
	}
	if err := c.bw.Flush(); err != nil {
		c.fail(&TransportError{Err: err})
		return err
	}
	return nil
}

// writeAbort writes an empty chunk of om flagged '#' (RFC 4975 §7.1.1).
func (c *Conn) writeAbort(om *outgoing, frame []byte) ([]byte, error) {
	tid := NewTransactionID()
	om.head.TransactionID = tid
	om.head.Headers[om.rangeIdx].Value = ByteRange{Start: om.offset + 1, End: om.offset, Total: om.o.Total}.String()
	frame = om.head.AppendHead(frame)
	frame = AppendEndLine(frame, tid, FlagAborted, true)
	return frame, c.write(frame)
}

// writeChunk frames and writes one chunk of om; an error means the
// connection failed.
func (c *Conn) writeChunk(om *outgoing, cb chunkBuf, frame []byte) ([]byte, error) {
	n := int64(len(cb.data))
	flag := FlagContinued
	if cb.last {
		flag = FlagEnd
	}
	if cb.err != nil {
		flag = FlagAborted
	}
	br := ByteRange{Start: om.offset + 1, End: om.offset + n, Total: om.o.Total}
	if cb.last && br.Total < 0 {
		br.Total = br.End
	}
	if om.o.RangeEndStar {
		br.End = -1
	}
	tid := NewTransactionID()
	om.head.TransactionID = tid
	om.head.Headers[om.rangeIdx].Value = br.String()
	frame = om.head.AppendHead(frame)
	frame = append(frame, cb.data...)
	frame = AppendEndLine(frame, tid, flag, true)
	om.offset += n
	om.chunks++

	om.mu.Lock()
	om.pending++
	om.mu.Unlock()
	if om.o.FailureReport == ReportNo {
		om.chunkDone(StatusOK, "OK", nil)
	} else if err := c.startTxn(tid, om.o.FailureReport == ReportPartial, func(code int, comment string) {
		if code == 0 {
			om.chunkDone(0, comment, c.closedErr())
			return
		}
		om.chunkDone(code, comment, nil)
	}); err != nil {
		om.chunkDone(0, "", c.closedErr())
	}
	if err := c.write(frame); err != nil {
		return frame, err
	}
	switch {
	case cb.err != nil:
		om.writtenAll(fmt.Errorf("msrp: reading message body: %w", cb.err))
	case cb.last:
		om.writtenAll(nil)
	}
	return frame, nil
}

// ---- reader ----

func (c *Conn) readLoop(ctx context.Context) {
	defer c.wg.Done()
	r := NewReader(c.nc, WithMaxHeaderSize(c.cfg.MaxHeaderSize), WithReadBufferSize(c.cfg.ReadBufferSize))
	for {
		m, err := r.Next()
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && pe.TransactionID != "" {
				c.log.Debug("malformed message", "err", err)
				if pe.Method != "" {
					code := StatusBadRequest
					if errors.Is(err, ErrTooLarge) {
						code = StatusStopSending
					}
					c.respondRaw(pe.TransactionID, code)
				}
				continue
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = &TransportError{Err: err}
			}
			select {
			case <-c.closing:
			default:
				c.fail(err)
			}
			return
		}
		if !m.IsRequest() {
			_, _ = io.Copy(io.Discard, r)
			c.mu.Lock()
			if ch, ok := c.watch[m.TransactionID]; ok {
				select {
				case ch <- m:
				default:
				}
			}
			c.mu.Unlock()
			c.resolveTxn(m.TransactionID, m.StatusCode, m.Comment)
			continue
		}
		if err := c.handleRequest(ctx, r, m); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && pe.TransactionID != "" {
				// The body ended with a broken end-line; the stream
				// is back in sync.
				if m.Method != MethodREPORT {
					c.respond(m, StatusBadRequest, "")
				}
				continue
			}
			c.fail(err)
			return
		}
	}
}

// respondRaw answers a request that could not be parsed; it has no paths.
func (c *Conn) respondRaw(tid string, code int) {
	m := &Message{TransactionID: tid, StatusCode: code, Comment: StatusText(code)}
	_ = c.sendFrame(m.Marshal())
}

// respond answers req unless its Failure-Report forbids it (RFC 4975
// §7.2: none for "no", only failures for "partial").
func (c *Conn) respond(req *Message, code int, comment string) {
	c.respondThen(req, code, comment, nil)
}

// respondThen is respond, running after once the response is written
// (at once when none is sent).
func (c *Conn) respondThen(req *Message, code int, comment string, after func()) {
	c.respondWith(req, code, comment, nil, after)
}

// respondWith is respondThen with extra headers in the response, after
// To-Path and From-Path.
func (c *Conn) respondWith(req *Message, code int, comment string, headers []HeaderField, after func()) {
	fr := req.FailureReport()
	if req.Method == MethodSEND && (fr == ReportNo || (fr == ReportPartial && code == StatusOK)) {
		if after != nil {
			after()
		}
		return
	}
	if comment == "" {
		comment = StatusText(code)
	}
	m := &Message{TransactionID: req.TransactionID, StatusCode: code, Comment: comment, Headers: make([]HeaderField, 0, 2)}
	if from := req.Header(HeaderFromPath); from != "" {
		if req.Method == MethodSEND {
			from = firstField(from)
		}
		m.AddHeader(HeaderToPath, from)
	}
	if to := req.Header(HeaderToPath); to != "" {
		m.AddHeader(HeaderFromPath, firstField(to))
	}
	for _, h := range headers {
		if h.Name == "" || !validChars(h.Name, tokenChars) || !validText(h.Value) {
			c.log.Warn("dropping an invalid response header", "name", h.Name)
			continue
		}
		m.AddHeader(h.Name, h.Value)
	}
	_ = c.sendFrameThen(m.Marshal(), after)
}

func (c *Conn) handleRequest(ctx context.Context, r *Reader, m *Message) error {
	drain := func() error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	to, err1 := c.toCache.parse(m.Header(HeaderToPath))
	from, err2 := c.fromCache.parse(m.Header(HeaderFromPath))
	if err1 != nil || err2 != nil {
		if err := drain(); err != nil {
			return err
		}
		if m.Method != MethodREPORT {
			c.respond(m, StatusBadRequest, "Invalid To-Path or From-Path")
		}
		return nil
	}
	s, refuse, err := c.lookup(to[len(to)-1].SessionID, from)
	if s == nil {
		if err := drain(); err != nil {
			if refuse != nil {
				refuse()
			}
			return err
		}
		switch {
		case refuse != nil:
			// The 403 goes out before the session learns it was refused
			// (and may close the connection).
			c.log.Info("peer refused by the session", "err", err)
			if m.Method == MethodREPORT {
				refuse()
				break
			}
			c.respondThen(m, StatusForbidden, "Peer authentication failed", refuse)
		case m.Method == MethodREPORT:
		case err != nil:
			c.log.Info("peer refused by the session", "err", err)
			c.respond(m, StatusForbidden, "Peer authentication failed")
		default:
			c.respond(m, StatusNoSuchSession, "")
		}
		return nil
	}
	return s.handleRequest(ctx, r, m)
}

// lookup finds the session for an incoming request, binding a waiting
// passive session on first use. A session whose VerifyPeer refuses this
// connection is withdrawn and comes back as refuse with the error: the
// caller answers, then calls refuse to tell the session's waiter.
func (c *Conn) lookup(sessionID string, from []URI) (s *Session, refuse func(), err error) {
	c.mu.Lock()
	s, ok := c.sessions[sessionID]
	p := c.pending[sessionID]
	c.mu.Unlock()
	if ok {
		if !s.fromMatches(from) {
			return nil, nil, nil
		}
		return s, nil, nil
	}
	if p != nil {
		if !p.sess.fromMatches(from) {
			return nil, nil, nil
		}
		err := p.sess.verifyPeer(c)
		c.mu.Lock()
		if c.pending[sessionID] != p {
			c.mu.Unlock()
			return nil, nil, nil
		}
		delete(c.pending, sessionID)
		if err != nil {
			c.mu.Unlock()
			return nil, func() { p.fail(err) }, err
		}
		c.sessions[sessionID] = p.sess
		c.hadSessions = true
		c.mu.Unlock()
		p.bound()
		return p.sess, nil, nil
	}
	if c.claim != nil {
		return c.claim(c, sessionID, from)
	}
	return nil, nil, nil
}

// adopt adds a session bound by a Listener.
func (c *Conn) adopt(s *Session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	if _, dup := c.sessions[s.local.SessionID]; dup {
		return false
	}
	s.conn = c
	c.sessions[s.local.SessionID] = s
	c.hadSessions = true
	return true
}

// remove drops a closed session; an owned Conn closes with its last one.
func (c *Conn) remove(s *Session) {
	c.mu.Lock()
	if c.sessions[s.local.SessionID] == s {
		delete(c.sessions, s.local.SessionID)
	}
	idle := c.owned && c.hadSessions && len(c.sessions) == 0 && len(c.pending) == 0
	c.mu.Unlock()
	if !idle {
		return
	}
	c.shutdown(ErrClosed)
	if !c.inHandler.Load() {
		c.wg.Wait()
	}
}

// SessionOptions describes one session to bind on a connection.
type SessionOptions struct {
	// Local is this endpoint's URI, the last URI of the local path.
	Local URI
	// UsePath is the relay path obtained by AUTH (RFC 4976), empty for a
	// direct connection. It is prepended to Local in LocalPath and to
	// Remote in the To-Path of outgoing requests.
	UsePath []URI
	// Remote is the peer's path (its SDP a=path).
	Remote []URI
	// Handler receives incoming requests; nil accepts and drops them.
	Handler Handler
	// VerifyPeer, when set, authenticates the connection before the
	// session binds to it: say, the peer's certificate against its SDP
	// a=fingerprint (RFC 8122). It gets the TLS state, or nil on plain
	// TCP. Bind runs it before the binding SEND. On the passive side
	// (Listener.Prepare, Conn.Expect) it runs when the peer's first
	// request for the session arrives: an error answers that request 403
	// and fails Accept with the error.
	VerifyPeer func(state *tls.ConnectionState) error
}

// Bind adds an active session: it sends the binding empty SEND (as the
// reference SDK does) and waits for its 200. A non-200 answer fails with a
// *BindError (wrapping ErrBindFailed and the *StatusError).
func (c *Conn) Bind(ctx context.Context, opts SessionOptions) (*Session, error) {
	s, err := c.newSession(opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.closedErr()
	}
	if _, dup := c.sessions[s.local.SessionID]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: session-id %q already bound on this connection", ErrBindFailed, s.local.SessionID)
	}
	c.sessions[s.local.SessionID] = s
	c.hadSessions = true
	c.mu.Unlock()

	if err := s.verifyPeer(c); err != nil {
		s.closeWith(ErrBindFailed)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.BindTimeout)
	defer cancel()
	res, err := c.transact(ctx, s.emptySend())
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		s.closeWith(ErrBindFailed)
		var se *StatusError
		if errors.As(err, &se) {
			return nil, &BindError{Addr: c.RemoteAddr().String(), Code: se.Code, Comment: se.Comment}
		}
		return nil, fmt.Errorf("%w: %w", ErrBindFailed, err)
	}
	return s, nil
}

// Pending is a passive session waiting for its peer's first request.
type Pending struct {
	sess    *Session
	release func()
	once    sync.Once
	ch      chan struct{}
	err     error
}

func (p *Pending) bound() { p.once.Do(func() { close(p.ch) }) }

func (p *Pending) fail(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.ch)
	})
}

// Accept waits until the peer's first request binds the session. When ctx
// ends first the session is withdrawn: later requests for it get 481.
func (p *Pending) Accept(ctx context.Context) (*Session, error) {
	select {
	case <-p.ch:
	case <-ctx.Done():
		p.release()
		p.fail(ctx.Err())
		<-p.ch
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.sess, nil
}

// Expect registers a passive session on the connection: the peer's first
// request whose To-Path names opts.Local's session-id binds it. Call
// Pending.Accept to wait for that.
func (c *Conn) Expect(opts SessionOptions) (*Pending, error) {
	s, err := c.newSession(opts)
	if err != nil {
		return nil, err
	}
	p := &Pending{sess: s, ch: make(chan struct{})}
	id := s.local.SessionID
	p.release = func() {
		c.mu.Lock()
		if c.pending[id] == p {
			delete(c.pending, id)
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, ErrClosed
	}
	if _, dup := c.sessions[id]; dup {
		return nil, fmt.Errorf("%w: session-id %q already bound", ErrBindFailed, id)
	}
	c.pending[id] = p
	return p, nil
}

func (c *Conn) newSession(opts SessionOptions) (*Session, error) {
	if opts.Local.SessionID == "" {
		return nil, fmt.Errorf("%w: local URI has no session-id", ErrInvalidURI)
	}
	if len(opts.Remote) == 0 {
		return nil, fmt.Errorf("%w: empty remote path", ErrInvalidURI)
	}
	s := newSession(opts)
	s.conn = c
	return s, nil
}

// pathCache parses path header values, reusing the last result.
type pathCache struct {
	raw  string
	uris []URI
}

func (p *pathCache) parse(raw string) ([]URI, error) {
	if raw != "" && raw == p.raw {
		return p.uris, nil
	}
	uris, err := ParsePath(raw)
	if err != nil {
		return nil, err
	}
	p.raw, p.uris = raw, uris
	return uris, nil
}

// firstField returns the first space-separated token of s.
func firstField(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}
