package msrp

import (
	"fmt"
	"io"
	"strconv"
	"sync"
)

// RawSender writes SEND requests of one session straight to its
// connection, each a whole message in one chunk, with no transaction
// kept: the primitive of streams that drive MSRP themselves rather than
// through Session.Send (the reference's streams without an MSRPSession,
// such as its desktop sharing: use_msrp_session=False).
//
// Every Send or SendFrom writes one complete SEND:
//
//	MSRP <fresh tid> SEND
//	To-Path: <the session's>
//	From-Path: <the session's>
//	Byte-Range: 1-<n>/<n>
//	Message-ID: <fresh>
//	Success-Report: no
//	Failure-Report: partial
//	Content-Type: <the sender's>
//
//	<n bytes>
//	-------<tid>$
//
// With Success-Report no and Failure-Report partial (RFC 4975 §7.2) the
// peer answers only failures, and nothing waits for them: a response that
// comes back is dropped by the connection as one to an unknown
// transaction. The frame is written by the calling goroutine in one Write
// of the connection, between the frames of the connection's own writer
// (responses, REPORTs, keep-alives), so a call returns once the frame is in
// the connection's socket: a peer that does not read blocks it, which is
// the back-pressure of a stream that must not buffer. Nothing is queued and
// memory is one frame buffer per sender.
//
// A RawSender is safe for concurrent use; calls are serialised. A write
// error fails the connection, as one of its writer's would.
type RawSender struct {
	s           *Session
	contentType string

	mu    sync.Mutex
	frame []byte // reused: header room, body, end-line
}

// rawHeadRoom bounds the head of a raw SEND beyond its paths and content
// type: start line, header names, two 16-character ids, a Byte-Range of
// two 19-digit numbers, report headers, blank line.
const rawHeadRoom = 256

// NewRawSender returns a sender of SENDs with the given Content-Type on s.
// The content type must be a valid header value.
func (s *Session) NewRawSender(contentType string) (*RawSender, error) {
	if contentType == "" || !validText(contentType) {
		return nil, fmt.Errorf("%w: raw sender content type %q", ErrInvalidArgument, contentType)
	}
	return &RawSender{s: s, contentType: contentType}, nil
}

// headRoom is the most the head of one of w's SENDs can take.
func (w *RawSender) headRoom() int {
	return rawHeadRoom + len(w.s.toPath) + len(w.s.fromPath) + len(w.contentType)
}

// Send writes data as one SEND. An empty data writes nothing (an empty
// SEND is a keep-alive, not data). It fails with an error wrapping
// ErrClosed once the session or its connection has closed.
func (w *RawSender) Send(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.headRoom()
	need := room + len(data) + 2 + 7 + 16 + 3
	if cap(w.frame) < need {
		w.frame = make([]byte, need)
	}
	w.frame = w.frame[:cap(w.frame)]
	copy(w.frame[room:], data)
	return w.writeLocked(room, len(data))
}

// SendFrom reads once from r into a buffer of up to size bytes and writes
// what it read as one SEND, without copying it again: the pump of a
// socket into the session. It returns the number of bytes sent and r's
// error; io.EOF when r ended without data. Data read before an error is
// sent first.
func (w *RawSender) SendFrom(r io.Reader, size int) (int, error) {
	if size <= 0 {
		return 0, fmt.Errorf("%w: raw sender buffer size %d", ErrInvalidArgument, size)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.headRoom()
	need := room + size + 2 + 7 + 16 + 3
	if cap(w.frame) < need {
		w.frame = make([]byte, need)
	}
	w.frame = w.frame[:cap(w.frame)]
	n, rerr := r.Read(w.frame[room : room+size])
	if n > 0 {
		if err := w.writeLocked(room, n); err != nil {
			return 0, err
		}
	}
	if rerr == nil && n == 0 {
		return 0, nil
	}
	return n, rerr
}

// writeLocked frames the n body bytes at w.frame[room:] and writes the
// SEND.
func (w *RawSender) writeLocked(room, n int) error {
	s := w.s
	c := s.conn
	select {
	case <-s.done:
		return ErrClosed
	case <-c.closing:
		return c.closedErr()
	default:
	}
	tid := NewTransactionID()
	var hb [512]byte
	head := hb[:0]
	head = append(head, "MSRP "...)
	head = append(head, tid...)
	head = append(head, " SEND\r\n"...)
	head = appendHeader(head, HeaderToPath, s.toPath)
	head = appendHeader(head, HeaderFromPath, s.fromPath)
	head = append(head, HeaderByteRange...)
	head = append(head, ": 1-"...)
	head = strconv.AppendInt(head, int64(n), 10)
	head = append(head, '/')
	head = strconv.AppendInt(head, int64(n), 10)
	head = append(head, "\r\n"...)
	head = appendHeader(head, HeaderMessageID, NewMessageID())
	head = appendHeader(head, HeaderSuccessReport, "no")
	head = appendHeader(head, HeaderFailureReport, "partial")
	head = appendHeader(head, HeaderContentType, w.contentType)
	head = append(head, "\r\n"...)
	start := room - len(head)
	if start < 0 {
		return fmt.Errorf("%w: raw SEND head of %d bytes", ErrInvalidArgument, len(head))
	}
	copy(w.frame[start:], head)
	end := AppendEndLine(w.frame[:room+n], tid, FlagEnd, true)
	if _, err := c.nc.Write(end[start:]); err != nil {
		c.fail(&TransportError{Err: err})
		return c.closedErr()
	}
	return nil
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}
