package msrp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
)

// Methods defined by RFC 4975, RFC 4976 and RFC 7701. Other methods are
// parsed and kept as written.
const (
	MethodSEND     = "SEND"
	MethodREPORT   = "REPORT"
	MethodAUTH     = "AUTH"
	MethodNICKNAME = "NICKNAME" // RFC 7701 §5: asks a chat room for a nickname
)

// Header names used by this package.
const (
	HeaderToPath        = "To-Path"
	HeaderFromPath      = "From-Path"
	HeaderMessageID     = "Message-ID"
	HeaderByteRange     = "Byte-Range"
	HeaderSuccessReport = "Success-Report"
	HeaderFailureReport = "Failure-Report"
	HeaderStatus        = "Status"
	HeaderContentType   = "Content-Type"
	HeaderUsePath       = "Use-Path"
	HeaderExpires       = "Expires"
	HeaderAuthorization = "Authorization"
	HeaderWWWAuth       = "WWW-Authenticate"
	HeaderKeepAlive     = "Keep-Alive"
	HeaderUseNickname   = "Use-Nickname" // RFC 7701 §10: a quoted-string
)

// End-line continuation flags (RFC 4975 §7.1).
const (
	FlagEnd       byte = '$' // last chunk of the message
	FlagContinued byte = '+' // more chunks follow
	FlagAborted   byte = '#' // the sender aborted the message
)

// HeaderField is one header line, kept as written so that a parsed message
// re-serializes byte for byte.
type HeaderField struct {
	Name  string
	Value string
}

// Message is one MSRP request chunk or response (RFC 4975 §7). A request has
// a Method; a response has none and a StatusCode instead.
//
// Headers keep their order. The typed accessors (ToPath, ByteRange, ...)
// parse on demand; the setters replace the first header of that name or
// append one.
//
// Body holds the chunk's bytes for messages built or read in memory; a
// [Reader] streams bodies instead and leaves Body nil. A message has a body
// section on the wire when it has a Content-Type header or a non-empty
// Body.
type Message struct {
	TransactionID string
	Method        string
	StatusCode    int
	Comment       string
	Headers       []HeaderField
	Body          []byte
	Flag          byte // FlagEnd, FlagContinued or FlagAborted; 0 is written as FlagEnd
}

// NewRequest returns a request with a fresh transaction id and the
// mandatory To-Path and From-Path.
func NewRequest(method string, to, from []URI) *Message {
	m := &Message{TransactionID: NewTransactionID(), Method: method, Flag: FlagEnd}
	m.SetPath(HeaderToPath, to)
	m.SetPath(HeaderFromPath, from)
	return m
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Method != "" }

// HasBody reports whether m has a body section on the wire.
func (m *Message) HasBody() bool {
	return len(m.Body) > 0 || m.Header(HeaderContentType) != ""
}

// Header returns the value of the first header named name (compared
// case-insensitively), or "".
func (m *Message) Header(name string) string {
	v, _ := m.Lookup(name)
	return v
}

// Lookup returns the value of the first header named name and whether it
// exists.
func (m *Message) Lookup(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// SetHeader replaces the value of the first header named name, or appends
// the header when there is none.
func (m *Message) SetHeader(name, value string) {
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			m.Headers[i].Value = value
			return
		}
	}
	m.Headers = append(m.Headers, HeaderField{Name: name, Value: value})
}

// AddHeader appends a header, keeping any of the same name.
func (m *Message) AddHeader(name, value string) {
	m.Headers = append(m.Headers, HeaderField{Name: name, Value: value})
}

// DelHeader removes every header named name.
func (m *Message) DelHeader(name string) {
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	m.Headers = out
}

// ToPath parses the To-Path header.
func (m *Message) ToPath() ([]URI, error) { return m.Path(HeaderToPath) }

// FromPath parses the From-Path header.
func (m *Message) FromPath() ([]URI, error) { return m.Path(HeaderFromPath) }

// Path parses a header holding a space-separated list of URIs (To-Path,
// From-Path, Use-Path).
func (m *Message) Path(name string) ([]URI, error) {
	v, ok := m.Lookup(name)
	if !ok {
		return nil, parseErr(ErrMalformed, "missing "+name, "")
	}
	return ParsePath(v)
}

// ParsePath parses a space-separated list of one or more URIs.
func ParsePath(s string) ([]URI, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, uriError(s, "empty path")
	}
	out := make([]URI, 0, len(fields))
	for _, f := range fields {
		u, err := ParseURI(f)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// FormatPath formats a path as a header value.
func FormatPath(p []URI) string {
	var b strings.Builder
	for i, u := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(u.String())
	}
	return b.String()
}

// SetPath sets a path header.
func (m *Message) SetPath(name string, p []URI) { m.SetHeader(name, FormatPath(p)) }

// MessageID returns the Message-ID header.
func (m *Message) MessageID() string { return m.Header(HeaderMessageID) }

// ByteRange parses the Byte-Range header. A request without one covers the
// whole message: 1-*/*.
func (m *Message) ByteRange() (ByteRange, error) {
	v, ok := m.Lookup(HeaderByteRange)
	if !ok {
		return ByteRange{Start: 1, End: -1, Total: -1}, nil
	}
	return ParseByteRange(v)
}

// SuccessReport returns the Success-Report mode; the default is ReportNo.
func (m *Message) SuccessReport() ReportMode {
	return parseReportMode(m.Header(HeaderSuccessReport), ReportNo)
}

// FailureReport returns the Failure-Report mode; the default is ReportYes.
func (m *Message) FailureReport() ReportMode {
	return parseReportMode(m.Header(HeaderFailureReport), ReportYes)
}

// Status parses the Status header of a REPORT.
func (m *Message) Status() (Status, error) {
	v, ok := m.Lookup(HeaderStatus)
	if !ok {
		return Status{}, parseErr(ErrMalformed, "missing Status", "")
	}
	return ParseStatus(v)
}

// ContentType returns the Content-Type header.
func (m *Message) ContentType() string { return m.Header(HeaderContentType) }

// ByteRange is the Byte-Range header value start-end/total (RFC 4975 §7.1.1).
// End or Total -1 stands for "*" (unknown).
type ByteRange struct {
	Start, End, Total int64
}

// ParseByteRange parses "start-end/total" where end and total may be "*".
func ParseByteRange(s string) (ByteRange, error) {
	rng, total, ok := strings.Cut(s, "/")
	start, end, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return ByteRange{}, parseErr(ErrMalformed, "invalid Byte-Range", s)
	}
	var br ByteRange
	var err error
	if br.Start, err = parseCount(start, false); err != nil || br.Start < 1 {
		return ByteRange{}, parseErr(ErrMalformed, "invalid Byte-Range start", s)
	}
	if br.End, err = parseCount(end, true); err != nil {
		return ByteRange{}, parseErr(ErrMalformed, "invalid Byte-Range end", s)
	}
	if br.Total, err = parseCount(total, true); err != nil {
		return ByteRange{}, parseErr(ErrMalformed, "invalid Byte-Range total", s)
	}
	return br, nil
}

func parseCount(s string, star bool) (int64, error) {
	if star && s == "*" {
		return -1, nil
	}
	if s == "" || len(s) > 18 || !validChars(s, digits) {
		return 0, ErrMalformed
	}
	return strconv.ParseInt(s, 10, 64)
}

// String formats the range as a Byte-Range header value.
func (br ByteRange) String() string {
	b := strconv.AppendInt(nil, br.Start, 10)
	b = append(b, '-')
	if br.End < 0 {
		b = append(b, '*')
	} else {
		b = strconv.AppendInt(b, br.End, 10)
	}
	b = append(b, '/')
	if br.Total < 0 {
		b = append(b, '*')
	} else {
		b = strconv.AppendInt(b, br.Total, 10)
	}
	return string(b)
}

// ReportMode is the value of Success-Report or Failure-Report.
type ReportMode int

// Report modes (RFC 4975 §7.1.2). ReportPartial is valid for
// Failure-Report only. The zero value is ReportYes, the Failure-Report
// default.
const (
	ReportYes ReportMode = iota
	ReportNo
	ReportPartial
)

// String returns the header value: "yes", "no" or "partial".
func (r ReportMode) String() string {
	switch r {
	case ReportNo:
		return "no"
	case ReportYes:
		return "yes"
	case ReportPartial:
		return "partial"
	}
	return "ReportMode(" + strconv.Itoa(int(r)) + ")"
}

func parseReportMode(s string, def ReportMode) ReportMode {
	switch strings.ToLower(s) {
	case "yes":
		return ReportYes
	case "no":
		return ReportNo
	case "partial":
		return ReportPartial
	}
	return def
}

// Status is the Status header of a REPORT: "000 <code>[ <comment>]".
type Status struct {
	Code    int
	Comment string
}

// ParseStatus parses a Status header value.
func ParseStatus(s string) (Status, error) {
	ns, rest, ok := strings.Cut(s, " ")
	if !ok || len(ns) != 3 || !validChars(ns, digits) {
		return Status{}, parseErr(ErrMalformed, "invalid Status", s)
	}
	code, comment, _ := strings.Cut(rest, " ")
	if len(code) != 3 || !validChars(code, digits) {
		return Status{}, parseErr(ErrMalformed, "invalid Status code", s)
	}
	n, _ := strconv.Atoi(code)
	return Status{Code: n, Comment: comment}, nil
}

// String formats the Status header value, "000 <code>[ <comment>]".
func (s Status) String() string {
	if s.Comment == "" {
		return "000 " + strconv.Itoa(s.Code)
	}
	return "000 " + strconv.Itoa(s.Code) + " " + s.Comment
}

// NewTransactionID returns a fresh transaction id: 64 random bits in hex,
// always 16 characters (the RFC requires 4 to 32).
func NewTransactionID() string { return randomHex(8) }

// NewMessageID returns a fresh Message-ID value.
func NewMessageID() string { return randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("msrp: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// AppendHead appends the start line and header block of m, including the
// blank line that opens a body section, to b.
func (m *Message) AppendHead(b []byte) []byte {
	b = append(b, "MSRP "...)
	b = append(b, m.TransactionID...)
	b = append(b, ' ')
	if m.Method != "" {
		b = append(b, m.Method...)
	} else {
		b = appendCode(b, m.StatusCode)
		if m.Comment != "" {
			b = append(b, ' ')
			b = append(b, m.Comment...)
		}
	}
	b = append(b, "\r\n"...)
	for _, h := range m.Headers {
		b = append(b, h.Name...)
		b = append(b, ": "...)
		b = append(b, h.Value...)
		b = append(b, "\r\n"...)
	}
	if m.HasBody() {
		b = append(b, "\r\n"...)
	}
	return b
}

func appendCode(b []byte, code int) []byte {
	return append(b, byte('0'+code/100%10), byte('0'+code/10%10), byte('0'+code%10))
}

// AppendEndLine appends the end-line of a chunk with transaction id tid and
// the given flag. hasBody adds the CRLF that ends a body.
func AppendEndLine(b []byte, tid string, flag byte, hasBody bool) []byte {
	if hasBody {
		b = append(b, "\r\n"...)
	}
	if flag == 0 {
		flag = FlagEnd
	}
	b = append(b, "-------"...)
	b = append(b, tid...)
	return append(b, flag, '\r', '\n')
}

// Marshal returns the wire form of m with its in-memory Body.
func (m *Message) Marshal() []byte {
	b := m.AppendHead(make([]byte, 0, 256+len(m.Body)))
	b = append(b, m.Body...)
	return AppendEndLine(b, m.TransactionID, m.Flag, m.HasBody())
}

// WriteTo writes the wire form of m to w.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(m.Marshal())
	return int64(n), err
}

// Equal reports whether m and o are the same message: same start line,
// headers in the same order, body bytes and flag (0 counts as FlagEnd).
func (m *Message) Equal(o *Message) bool {
	if m.TransactionID != o.TransactionID || m.Method != o.Method ||
		m.StatusCode != o.StatusCode || m.Comment != o.Comment ||
		len(m.Headers) != len(o.Headers) || !bytes.Equal(m.Body, o.Body) ||
		flagOrEnd(m.Flag) != flagOrEnd(o.Flag) {
		return false
	}
	for i := range m.Headers {
		if m.Headers[i] != o.Headers[i] {
			return false
		}
	}
	return true
}

func flagOrEnd(f byte) byte {
	if f == 0 {
		return FlagEnd
	}
	return f
}

// QuoteString writes s as an RFC 4975 quoted-string (the form of the
// RFC 7701 Use-Nickname value): in double quotes, with backslash and double
// quote escaped by a backslash.
func QuoteString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}
