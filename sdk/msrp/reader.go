package msrp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// DefaultMaxHeaderSize bounds the start line plus header block of one
// message, matching the reference parser's 16 KiB line limit.
const DefaultMaxHeaderSize = 16 << 10

const readBufferSize = 32 << 10

// Reader parses MSRP messages from a byte stream (RFC 4975 §9). It streams
// bodies: [Reader.Next] returns a message's start line and headers, and
// [Reader.Read] then yields the body bytes up to the end-line, so memory
// stays bounded whatever the chunk size. The end-line boundary is found even
// when it is split across network reads.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br        *bufio.Reader
	maxHeader int
	bufSize   int

	cur      *Message // message whose body is being read
	boundary []byte   // "\r\n-------" + tid while in a body
	resync   string   // tid whose end-line must be skipped to after an error
	err      error    // sticky transport error
}

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// WithReadBufferSize sets the size of the read buffer (32 KiB by
// default); it is at least the largest header block plus 64 bytes.
func WithReadBufferSize(n int) ReaderOption {
	return func(r *Reader) { r.bufSize = n }
}

// WithMaxHeaderSize sets the largest accepted start line plus header block.
func WithMaxHeaderSize(n int) ReaderOption {
	return func(r *Reader) { r.maxHeader = n }
}

// NewReader returns a Reader reading from rd.
func NewReader(rd io.Reader, opts ...ReaderOption) *Reader {
	r := &Reader{maxHeader: DefaultMaxHeaderSize}
	for _, o := range opts {
		o(r)
	}
	size := readBufferSize
	if r.bufSize > 0 {
		size = r.bufSize
	}
	if r.maxHeader+64 > size {
		size = r.maxHeader + 64
	}
	r.br = bufio.NewReaderSize(rd, size)
	return r
}

// Next reads the start line and headers of the next message. Any unread
// body of the previous message is discarded first. When the message has a
// body, read it with Read until io.EOF; the message's Flag is set then.
//
// A *ParseError that carries a TransactionID leaves the Reader usable: the
// next call skips to that transaction's end-line. Other errors are sticky.
func (r *Reader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.boundary != nil {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
	}
	if r.resync != "" {
		if err := r.skipTo(r.resync); err != nil {
			return nil, r.fail(err)
		}
		r.resync = ""
	}
	budget := r.maxHeader
	line, err := r.readLine(&budget)
	if err != nil {
		return nil, r.fail(err)
	}
	m, err := parseStartLine(line)
	if err != nil {
		return nil, r.fail(err)
	}
	end := "-------" + m.TransactionID
	for {
		line, err := r.readLine(&budget)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && errors.Is(err, ErrTooLarge) {
				pe.TransactionID, pe.Method = m.TransactionID, m.Method
				r.resync = m.TransactionID
				return nil, pe
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, r.fail(err)
		}
		switch {
		case line == "":
			r.cur = m
			r.boundary = []byte("\r\n" + end)
			return m, nil
		case strings.HasPrefix(line, "-------"):
			if len(line) != len(end)+1 || line[:len(end)] != end || !isFlag(line[len(end)]) {
				return nil, r.recoverable(m, "invalid end-line", line)
			}
			m.Flag = line[len(end)]
			return m, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || !validChars(name, tokenChars) {
			return nil, r.recoverable(m, "invalid header line", line)
		}
		value = strings.Trim(value, " \t")
		if !validText(value) {
			return nil, r.recoverable(m, "invalid header value", line)
		}
		m.Headers = append(m.Headers, HeaderField{Name: name, Value: value})
	}
}

// Read reads body bytes of the message last returned by Next. It returns
// io.EOF at the end-line, after setting the message's Flag.
func (r *Reader) Read(p []byte) (int, error) {
	if r.boundary == nil {
		return 0, io.EOF
	}
	if r.err != nil {
		return 0, r.err
	}
	need := len(r.boundary) + 3 // boundary, flag, CRLF
	if r.br.Buffered() < need {
		if _, err := r.br.Peek(need); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			// The stream ended before the end-line.
			return 0, r.fail(err)
		}
	}
	data, _ := r.br.Peek(r.br.Buffered())
	idx := bytes.Index(data, r.boundary)
	switch {
	case idx == 0:
		flag := data[len(r.boundary)]
		if !isFlag(flag) || data[len(r.boundary)+1] != '\r' || data[len(r.boundary)+2] != '\n' {
			// A broken end-line still ends the chunk: skip its line.
			m := r.cur
			line := string(data[2:need])
			_, _ = r.br.Discard(len(r.boundary))
			r.cur, r.boundary = nil, nil
			for {
				_, err := r.br.ReadSlice('\n')
				if err == nil {
					break
				}
				if err != bufio.ErrBufferFull {
					return 0, r.fail(err)
				}
			}
			pe := parseErr(ErrMalformed, "invalid end-line after body", line)
			pe.TransactionID, pe.Method = m.TransactionID, m.Method
			return 0, pe
		}
		_, _ = r.br.Discard(need)
		r.cur.Flag = flag
		r.cur, r.boundary = nil, nil
		return 0, io.EOF
	case idx > 0:
		data = data[:idx]
	default:
		data = data[:len(data)-len(r.boundary)+1]
	}
	n := copy(p, data)
	_, _ = r.br.Discard(n)
	return n, nil
}

// ReadMessage reads the next message with its whole body, which may be at
// most maxBody bytes; a larger body fails with ErrTooLarge.
func (r *Reader) ReadMessage(maxBody int64) (*Message, error) {
	m, err := r.Next()
	if err != nil {
		return nil, err
	}
	if r.boundary == nil {
		return m, nil
	}
	body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBody {
		return nil, &ParseError{Reason: "body exceeds " + strconv.FormatInt(maxBody, 10) + " bytes",
			Err: ErrTooLarge, TransactionID: m.TransactionID, Method: m.Method}
	}
	// Consume the end-line (sets m.Flag).
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	m.Body = body
	return m, nil
}

func (r *Reader) fail(err error) error {
	var pe *ParseError
	if !errors.As(err, &pe) && err != io.EOF && err != io.ErrUnexpectedEOF {
		err = &TransportError{Err: err}
	}
	r.err = err
	return err
}

// recoverable returns a ParseError for message m after which the stream can
// resynchronise on m's end-line.
func (r *Reader) recoverable(m *Message, reason, line string) error {
	pe := parseErr(ErrMalformed, reason, line)
	pe.TransactionID, pe.Method = m.TransactionID, m.Method
	if !strings.HasPrefix(line, "-------"+m.TransactionID) {
		r.resync = m.TransactionID
	}
	return pe
}

// readLine reads one CRLF-terminated line, charging it to budget.
func (r *Reader) readLine(budget *int) (string, error) {
	var acc []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", parseErr(ErrTooLarge, "header block too large", "")
		}
		if err == bufio.ErrBufferFull {
			acc = append(acc, frag...)
			continue
		}
		if err != nil {
			if err == io.EOF && (len(acc) > 0 || len(frag) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if acc != nil {
			frag = append(acc, frag...)
		}
		if len(frag) < 2 || frag[len(frag)-2] != '\r' {
			return "", parseErr(ErrMalformed, "line not terminated by CRLF", string(frag))
		}
		return string(frag[:len(frag)-2]), nil
	}
}

// skipTo discards input up to and including the end-line of tid.
func (r *Reader) skipTo(tid string) error {
	end := "-------" + tid
	atLineStart := true
	for {
		frag, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			atLineStart = false
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if atLineStart && len(frag) == len(end)+3 && string(frag[:len(end)]) == end &&
			isFlag(frag[len(end)]) && frag[len(end)+1] == '\r' {
			return nil
		}
		atLineStart = true
	}
}

func parseStartLine(line string) (*Message, error) {
	rest, ok := strings.CutPrefix(line, "MSRP ")
	if !ok {
		return nil, parseErr(ErrMalformed, "invalid start line", line)
	}
	tid, rest, ok := strings.Cut(rest, " ")
	if !ok || !validTransactionID(tid) {
		return nil, parseErr(ErrMalformed, "invalid transaction id", line)
	}
	m := &Message{TransactionID: tid}
	if len(rest) >= 3 && validChars(rest[:3], digits) && (len(rest) == 3 || rest[3] == ' ') {
		m.StatusCode, _ = strconv.Atoi(rest[:3])
		if len(rest) > 3 {
			m.Comment = rest[4:]
			if m.Comment == "" || !validText(m.Comment) {
				return nil, parseErr(ErrMalformed, "invalid response comment", line)
			}
		}
		return m, nil
	}
	if rest == "" || !validChars(rest, methodChars) {
		return nil, parseErr(ErrMalformed, "invalid method", line)
	}
	m.Method = rest
	return m, nil
}

const (
	upper       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	methodChars = upper + "_"
	identChars  = alnum + ".-+%="
)

// validTransactionID checks ident = ALPHANUM 3*31ident-char.
func validTransactionID(s string) bool {
	return len(s) >= 4 && len(s) <= 32 && strings.IndexByte(alnum, s[0]) >= 0 && validChars(s, identChars)
}

// validText accepts header values and comments: no control characters
// except HTAB, and no leading or trailing blanks (they would not survive a
// round trip).
func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return s == strings.Trim(s, " \t")
}

func isFlag(c byte) bool { return c == FlagEnd || c == FlagContinued || c == FlagAborted }
