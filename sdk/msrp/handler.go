package msrp

import (
	"context"
	"fmt"
	"io"
)

// Handler receives a session's incoming requests. Its methods run on the
// connection's reader goroutine, one call at a time: while a call runs no
// further data is read from the connection, which is how a slow receiver
// pushes back on the sender. Calls must not block on the same connection's
// Send.
type Handler interface {
	// HandleChunk receives one SEND chunk. Read streams its body, valid only
	// during the call. The returned status answers the transaction: 200
	// accepts the chunk; 413 asks the sender to stop the message; 415
	// refuses the content type. Unread body bytes are discarded. Setting
	// c.ResponseComment chooses the response's comment.
	HandleChunk(ctx context.Context, c *Chunk) int
	// HandleComplete is called when every byte of a message has arrived
	// (1 to its total, or, for a message resumed from an offset that
	// HandleChunk marked with Chunk.StartsMessage — RFC 5547 file-range,
	// the reference's FILE_OFFSET —, from that chunk's start to the
	// total; see Completion.Start), or when it was aborted or failed. The returned status (for complete
	// messages) drives the REPORT the sender asked for: 200 gives a success
	// REPORT when Success-Report is yes; another code a failure REPORT when
	// Failure-Report is yes or partial. Setting c.ReportComment chooses the
	// REPORT's comment.
	HandleComplete(ctx context.Context, c *Completion) int
	// HandleReport receives a REPORT (RFC 4975 §7.1.2) about a message this
	// side sent. REPORTs are not answered.
	HandleReport(ctx context.Context, r *Report)
	// HandleRequest receives any other method (AUTH, NICKNAME, FILE_OFFSET,
	// ...). The status answers the transaction; 501 means unknown.
	// Setting c.ResponseComment chooses the response's comment.
	HandleRequest(ctx context.Context, c *Chunk) int
}

// Chunk is one incoming request whose body is streamed: call Read until
// io.EOF, then Flag tells whether the message continues.
type Chunk struct {
	Request     *Message // start line and headers; Body is nil
	MessageID   string   // Message-ID
	ContentType string
	Range       ByteRange

	// ResponseComment is the comment of the transaction response that the
	// status returned by HandleChunk or HandleRequest causes; a handler
	// may set it (e.g. "Unwanted Message"). Empty means StatusText.
	ResponseComment string
	// StartsMessage, set by HandleChunk on the first chunk of a message
	// it accepts, says the message begins at this chunk's first byte: it
	// was resumed from an offset the receiver announced (the reference's
	// FILE_OFFSET). The session then completes it once the bytes from
	// there to the total have arrived; otherwise a message starts at byte
	// 1 and a chunk starting later is one that arrived out of order.
	StartsMessage bool
	// ResponseHeaders are added to the transaction response of a request
	// of another method (HandleRequest), after To-Path and From-Path: the
	// reference's FILE_OFFSET is answered with an Offset header. Invalid
	// ones are dropped.
	ResponseHeaders []HeaderField

	body io.Reader
	n    int64
	flag func() byte
	sess *Session
}

// Received returns the body bytes read so far.
func (c *Chunk) Received() int64 { return c.n }

// SendReport sends a REPORT on the bytes of the chunk read so far
// (Byte-Range start-(start+read-1)/total), for a handler that reports each
// chunk as it stores it, as the reference's file transfer does; see
// Session.SendReport. It fails with ErrInvalidArgument for a chunk without
// a Message-ID.
func (c *Chunk) SendReport(code int, comment string) error {
	if c.sess == nil {
		return fmt.Errorf("%w: chunk without a session", ErrInvalidArgument)
	}
	return c.sess.SendReport(c.Request, ByteRange{Start: c.Range.Start, End: c.Range.Start + c.n - 1, Total: c.Range.Total}, code, comment)
}

// Read reads the chunk body.
func (c *Chunk) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	c.n += int64(n)
	return n, err
}

// Flag returns the end-line flag once Read has returned io.EOF, else 0.
func (c *Chunk) Flag() byte { return c.flag() }

// Completion describes a message whose chunks have all arrived, or that
// ended early.
type Completion struct {
	MessageID   string
	ContentType string
	// Start is the 1-based position of the first byte received: 1, or
	// later for a message resumed from an offset.
	Start   int64
	Size    int64 // bytes received
	Aborted bool  // the sender ended it with '#' or a chunk was refused
	Status  int   // the failing chunk status when a chunk was refused, else 200
	// ReportComment is the comment of the REPORT that the status returned
	// by HandleComplete causes; a handler may set it (the reference's
	// chat says 413 "Unwanted Message", 400 "CPIM Parser Error"). Empty
	// means StatusText.
	ReportComment string
}

// Report is an incoming REPORT.
type Report struct {
	Request   *Message
	MessageID string
	Range     ByteRange
	Status    Status
}

// HandlerFuncs adapts plain functions to Handler. A nil function gets the
// default behaviour: chunks and messages are accepted (200), REPORTs are
// dropped and other methods get 501.
type HandlerFuncs struct {
	Chunk    func(ctx context.Context, c *Chunk) int
	Complete func(ctx context.Context, c *Completion) int
	Report   func(ctx context.Context, r *Report)
	Request  func(ctx context.Context, c *Chunk) int
}

var _ Handler = HandlerFuncs{}

// HandleChunk implements Handler.
func (h HandlerFuncs) HandleChunk(ctx context.Context, c *Chunk) int {
	if h.Chunk == nil {
		return StatusOK
	}
	return h.Chunk(ctx, c)
}

// HandleComplete implements Handler.
func (h HandlerFuncs) HandleComplete(ctx context.Context, c *Completion) int {
	if h.Complete == nil {
		return StatusOK
	}
	return h.Complete(ctx, c)
}

// HandleReport implements Handler.
func (h HandlerFuncs) HandleReport(ctx context.Context, r *Report) {
	if h.Report != nil {
		h.Report(ctx, r)
	}
}

// HandleRequest implements Handler.
func (h HandlerFuncs) HandleRequest(ctx context.Context, c *Chunk) int {
	if h.Request == nil {
		return StatusNotImplemented
	}
	return h.Request(ctx, c)
}

// Outgoing is a message to send. Body is read by a goroutine of the
// connection, at most two chunks ahead of the network; a Body that blocks
// delays only its own message, but Close waits for a Read in progress.
// The Body of a SingleChunk message is read by Send itself.
type Outgoing struct {
	ContentType string
	Body        io.Reader
	// Size is the body length, or -1 when unknown (the Byte-Range total is
	// then "*" until the last chunk).
	Size      int64
	MessageID string // generated when empty
	// Start is the 1-based position of the Body's first byte in the whole
	// message, for sending a byte range (RFC 5547 file-range); 0 means 1.
	Start int64
	// Total is the size of the whole message when sending a byte range;
	// 0 means Start-1+Size (or unknown when Size is -1).
	Total int64
	// RangeEndStar writes each chunk's Byte-Range end as "*"
	// (start-*/total), as the reference's msrplib does for every message
	// over 2048 bytes: the receiver learns where a chunk ends from its
	// end-line.
	RangeEndStar bool
	// SuccessReport asks the receiver for a success REPORT.
	SuccessReport bool
	// FailureReport is the Failure-Report mode; the zero value is yes.
	// With ReportNo the delivery completes when the last chunk is written;
	// with ReportPartial, when Config.ResponseTimeout has passed without a
	// failure response.
	FailureReport ReportMode
	// Headers are extra headers added to every chunk.
	Headers []HeaderField
	// SingleChunk sends the whole body as one SEND, whatever
	// Config.ChunkSize, as the reference's chat does for every message
	// (its receiver cannot reassemble a chunked chat message). It needs a
	// known Size; Send reads the body into memory, and SingleChunk
	// messages go on the wire in the order of their Sends (see
	// Session.Send), so a sender may pipeline them without waiting for
	// each response.
	SingleChunk bool
}

// Result is the outcome of a transaction or of a whole outgoing message.
type Result struct {
	Code    int
	Comment string
	Err     error // nil for a 2xx Code
}

func resultOf(code int, comment string) Result {
	r := Result{Code: code, Comment: comment}
	if code < 200 || code > 299 {
		r.Err = &StatusError{Code: code, Comment: comment}
	}
	return r
}

// Delivery tracks an outgoing message until every chunk transaction has
// ended: Done is closed then and Result is valid. The Result is 200 when
// all chunks were accepted, the first failure otherwise (a local 408 on
// timeout). REPORTs about the message arrive later through
// Handler.HandleReport, matched by MessageID.
type Delivery struct {
	MessageID string
	done      chan struct{}
	result    Result
	om        *outgoing
}

// Cancel aborts the message: no further chunks are sent, the receiver is
// told with an end-line flagged '#' when part of the message went out, and
// the Result fails with ErrCancelled (unless it was already final).
func (d *Delivery) Cancel() { d.om.abort() }

// Done is closed when the delivery has a result.
func (d *Delivery) Done() <-chan struct{} { return d.done }

// Result returns the outcome; it is valid once Done is closed.
func (d *Delivery) Result() Result {
	select {
	case <-d.done:
		return d.result
	default:
		return Result{}
	}
}

// Wait blocks until the delivery has a result or ctx ends. The error is
// ctx's or the Result's Err.
func (d *Delivery) Wait(ctx context.Context) (Result, error) {
	select {
	case <-d.done:
		return d.result, d.result.Err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}
