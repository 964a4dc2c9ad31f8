package refer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentTypeSipfrag is the Content-Type of the NOTIFY bodies of a refer
// subscription (RFC 3515 §2.4.5, RFC 3420).
const ContentTypeSipfrag = "message/sipfrag;version=2.0"

// Header is one header line of a sipfrag.
type Header struct {
	Name  string
	Value string
}

// Sipfrag is a message/sipfrag body (RFC 3420) as the NOTIFYs of a refer
// subscription carry it: the status line of the response the transferee
// got to its request, and maybe some of that response's headers.
//
//	SIP/2.0 180 Ringing
type Sipfrag struct {
	// StatusCode is the response code, 100 to 699.
	StatusCode int
	// Reason is the reason phrase; it may be empty.
	Reason string
	// Headers are the header lines after the status line, unfolded, in
	// order. A body after them is not kept.
	Headers []Header
}

// NewSipfrag returns the sipfrag of a status; an empty reason takes the
// phrase of RFC 3261 §21 for that code, as ReasonPhrase gives it.
func NewSipfrag(code int, reason string) Sipfrag {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	return Sipfrag{StatusCode: code, Reason: reason}
}

// Final reports whether the status is final (200 and above): the last
// NOTIFY of the subscription carries it.
func (f Sipfrag) Final() bool { return f.StatusCode >= 200 }

// Marshal writes the body: "SIP/2.0 <code> <reason>" and CRLF, then each
// header as "Name: value" and CRLF.
func (f Sipfrag) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("SIP/2.0 ")
	b.WriteString(strconv.Itoa(f.StatusCode))
	b.WriteByte(' ')
	b.WriteString(f.Reason)
	b.WriteString("\r\n")
	for _, h := range f.Headers {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// String returns the status line without its CRLF.
func (f Sipfrag) String() string {
	return "SIP/2.0 " + strconv.Itoa(f.StatusCode) + " " + f.Reason
}

// Validate reports whether f is written as a body that parses back to f.
func (f Sipfrag) Validate() error {
	back, err := ParseSipfrag(f.Marshal())
	if err != nil {
		return err
	}
	same := back.StatusCode == f.StatusCode && back.Reason == f.Reason && len(back.Headers) == len(f.Headers)
	for i := 0; same && i < len(f.Headers); i++ {
		same = back.Headers[i] == f.Headers[i]
	}
	if !same {
		return fmt.Errorf("refer: %w: %q does not read back as written", ErrInvalidSipfrag, f.Marshal())
	}
	return nil
}

// ParseSipfrag reads a message/sipfrag body whose first line is a SIP
// status line (RFC 3515 §2.4.5): "SIP/2.0" (any case), a three-digit code
// from 100 to 699, and a reason phrase, which may be empty or missing with
// its space. Lines end in CRLF or LF; the last one may lack it. Header
// lines may follow, each "name: value" with folded continuations; an empty
// line ends them and whatever follows is ignored. Errors are *SyntaxError
// wrapping ErrInvalidSipfrag or ErrEmpty.
func ParseSipfrag(body []byte) (Sipfrag, error) {
	s := string(body)
	fail := func(off int, detail string) (Sipfrag, error) {
		return Sipfrag{}, syntaxError("sipfrag", s, off, ErrInvalidSipfrag, detail)
	}
	if strings.TrimSpace(s) == "" {
		return Sipfrag{}, syntaxError("sipfrag", s, 0, ErrEmpty, "")
	}
	line, next := cutLine(s, 0)
	const version = "SIP/2.0"
	if len(line) < len(version) || !strings.EqualFold(line[:len(version)], version) {
		return fail(0, "no SIP/2.0 status line")
	}
	i := len(version)
	if i >= len(line) || !isWSP(line[i]) {
		return fail(i, "no space after the version")
	}
	i = skipWSP(line, i)
	if i+3 > len(line) || !isDigit(line[i]) || !isDigit(line[i+1]) || !isDigit(line[i+2]) {
		return fail(i, "no three-digit status code")
	}
	code, _ := strconv.Atoi(line[i : i+3])
	if code < 100 || code > 699 {
		return fail(i, "status code out of 100-699")
	}
	i += 3
	if i < len(line) && !isWSP(line[i]) {
		return fail(i, "status code longer than three digits")
	}
	i = skipWSP(line, i)
	reason := trimWSP(line[i:])
	if off := badText(reason); off >= 0 {
		return fail(i+off, "bad character in the reason phrase")
	}
	f := Sipfrag{StatusCode: code, Reason: reason}
	for pos := next; pos < len(s); {
		line, after := cutLine(s, pos)
		if line == "" {
			break // end of headers; the body is not kept
		}
		if isWSP(line[0]) {
			if len(f.Headers) == 0 {
				return fail(pos, "continuation line without a header")
			}
			h := &f.Headers[len(f.Headers)-1]
			h.Value = trimWSP(h.Value + " " + trimWSP(line))
			if off := badText(h.Value); off >= 0 {
				return fail(pos, "bad character in a header value")
			}
			pos = after
			continue
		}
		colon := strings.IndexByte(line, ':')
		name := trimWSP(line[:max(colon, 0)])
		if colon < 0 || !isTokenString(name) {
			return fail(pos, "header line is not name: value")
		}
		value := trimWSP(line[colon+1:])
		if off := badText(value); off >= 0 {
			return fail(pos+colon+1, "bad character in a header value")
		}
		f.Headers = append(f.Headers, Header{Name: name, Value: value})
		pos = after
	}
	return f, nil
}

// cutLine returns the line starting at s[i] without its CRLF or LF, and
// the index after the line end.
func cutLine(s string, i int) (line string, next int) {
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		return strings.TrimSuffix(s[i:], "\r"), len(s)
	}
	return strings.TrimSuffix(s[i:i+j], "\r"), i + j + 1
}

// badText returns the offset of the first byte that may not appear in a
// reason phrase or header value (a control character other than tab, or
// invalid UTF-8), or -1.
func badText(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// ReasonPhrase returns the reason phrase RFC 3261 §21 gives a status code,
// or a generic one for its class.
func ReasonPhrase(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 181:
		return "Call Is Being Forwarded"
	case 182:
		return "Queued"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 305:
		return "Use Proxy"
	case 380:
		return "Alternative Service"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 413:
		return "Request Entity Too Large"
	case 414:
		return "Request-URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 421:
		return "Extension Required"
	case 423:
		return "Interval Too Brief"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 482:
		return "Loop Detected"
	case 483:
		return "Too Many Hops"
	case 484:
		return "Address Incomplete"
	case 485:
		return "Ambiguous"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 489:
		return "Bad Event"
	case 491:
		return "Request Pending"
	case 493:
		return "Undecipherable"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 505:
		return "Version Not Supported"
	case 513:
		return "Message Too Large"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	case 606:
		return "Not Acceptable"
	}
	switch code / 100 {
	case 1:
		return "Trying"
	case 2:
		return "OK"
	case 3:
		return "Redirection"
	case 4:
		return "Request Failure"
	case 5:
		return "Server Error"
	default:
		return "Global Failure"
	}
}
