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

	// block gathers the header lines of a message, ends their ends in
	// it, so that they become one string; bound backs boundary. All are
	// reused from message to message.
	block []byte
	ends  []int
	bound []byte
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
	// The header lines, up to the blank line before a body or the
	// end-line of a bodiless message, are gathered and made one string.
	r.block, r.ends = r.block[:0], r.ends[:0]
	body := false // a body follows the header block
	for {
		start := len(r.block)
		if err := r.appendLine(&budget); err != nil {
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
		line := r.block[start:]
		if len(line) == 0 {
			body = true
			break
		}
		if len(line) >= len(dashes) && string(line[:len(dashes)]) == dashes {
			tid := m.TransactionID
			if len(line) != len(dashes)+len(tid)+1 || string(line[len(dashes):len(line)-1]) != tid || !isFlag(line[len(line)-1]) {
				return nil, r.recoverable(m, "invalid end-line", string(line))
			}
			m.Flag = line[len(line)-1]
			r.block = r.block[:start]
			break
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !validChars(line[:i], tokenChars) {
			return nil, r.recoverable(m, "invalid header line", string(line))
		}
		if !validText(trimBlanks(line[i+1:])) {
			return nil, r.recoverable(m, "invalid header value", string(line))
		}
		r.ends = append(r.ends, len(r.block))
	}
	if len(r.ends) > 0 {
		block := string(r.block)
		m.Headers = make([]HeaderField, 0, len(r.ends))
		from := 0
		for _, to := range r.ends {
			name, value, _ := strings.Cut(block[from:to], ":")
			from = to
			m.Headers = append(m.Headers, HeaderField{Name: name, Value: trimBlanks(value)})
		}
	}
	if !body {
		return m, nil
	}
	r.cur = m
	r.bound = append(append(append(r.bound[:0], "\r\n"...), dashes...), m.TransactionID...)
	r.boundary = r.bound
	return m, nil
}

// dashes open an end-line.
const dashes = "-------"

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

// appendLine reads one CRLF-terminated line, charging it to budget, and
// appends it without its CRLF to r.block.
func (r *Reader) appendLine(budget *int) error {
	start := len(r.block)
	for {
		frag, err := r.br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return parseErr(ErrTooLarge, "header block too large", "")
		}
		r.block = append(r.block, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(r.block) > start {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		line := r.block[start:]
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return parseErr(ErrMalformed, "line not terminated by CRLF", string(line))
		}
		r.block = r.block[:len(r.block)-2]
		return nil
	}
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
func validText[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return len(s) == 0 || !isBlank(s[0]) && !isBlank(s[len(s)-1])
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// trimBlanks is strings.Trim(s, " \t"), without building a cutset.
func trimBlanks[T string | []byte](s T) T {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isFlag(c byte) bool { return c == FlagEnd || c == FlagContinued || c == FlagAborted }
