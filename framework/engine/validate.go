package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The engine checks every message it reads before sipgo's transaction
// layer and the handlers see it (RFC 3261 §8.2, §16.3, §18.3, §20;
// RFC 4475 gives the torture cases). A request that breaks the rules is
// answered statelessly here — 400 for a missing, repeated or malformed
// mandatory header, 505 for another SIP version, 416 for a Request-URI
// scheme other than sip and sips, 420 for a Require the engine does not
// support, 415 and 406 for an INVITE whose body or Accept is not SDP —
// and goes no further; a message that cannot be answered (a response, an
// ACK, a request without Via or with an unreadable start line) is
// dropped.

// verdict is what the engine does with a message it read.
type verdict int

const (
	// verdictPass hands the message to sipgo.
	verdictPass verdict = iota
	// verdictAnswer refuses a request with the rejection, statelessly.
	verdictAnswer
	// verdictDrop discards the message unanswered.
	verdictDrop
)

func (v verdict) String() string {
	switch v {
	case verdictPass:
		return "pass"
	case verdictAnswer:
		return "answer"
	default:
		return "drop"
	}
}

// rejection is the answer to a request the engine refuses.
type rejection struct {
	code   int
	reason string
	// warning says why, in a "Warning: 399 - \"...\"" header; "" for none.
	warning string
	// hdrs are added to the response: Unsupported for 420, Accept for 415,
	// Retry-After for 503.
	hdrs []sip.Header
}

func reject(code int, warning string, hdrs ...sip.Header) *rejection {
	return &rejection{code: code, reason: reasonPhrase(code), warning: warning, hdrs: hdrs}
}

func rejectf(code int, format string, args ...any) *rejection {
	return reject(code, fmt.Sprintf(format, args...))
}

// reasonPhrase is RFC 3261 §21's reason phrase for the codes the engine
// sends on its own.
func reasonPhrase(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 406:
		return "Not Acceptable"
	case 413:
		return "Request Entity Too Large"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "Version Not Supported"
	}
	return "Error"
}

// inspection is the result of looking at one message.
type inspection struct {
	verdict verdict
	// rej is the answer, for verdictAnswer.
	rej *rejection
	// why says what is wrong, for the logs ("" when the message passes).
	why string
	// raw is the message cut into header fields.
	raw rawMessage
	// req is sipgo's parse of a request, nil when sipgo could not parse it
	// or for a response.
	req *sip.Request
	// normalized is set when sipgo must be given req as the engine
	// rewrote it (see normalizeParams) instead of the message as read.
	normalized bool
}

// policy is what the checks depend on besides the message.
type policy struct {
	// datagram is set when the message is a whole UDP datagram: the body
	// is then the rest of the datagram, which must hold Content-Length
	// bytes (RFC 3261 §18.3). On a stream the framer cut it already.
	datagram bool
	// supported lists the option tags a Require may name (RFC 3261
	// §8.2.2.3).
	supported []string
}

// inspect decides what to do with one message (whole: a datagram, or a
// message the stream framer cut). It never panics, whatever data holds.
func inspect(p *sip.Parser, data []byte, pol policy) inspection {
	return inspectScanned(p, scanMessage(data), data, pol)
}

// inspectScanned is inspect of data that scanMessage made raw of.
func inspectScanned(p *sip.Parser, raw rawMessage, data []byte, pol policy) inspection {
	in := inspection{raw: raw}
	m := &in.raw
	if m.isResponse() {
		if why := checkResponse(p, m, data, pol); why != "" {
			in.verdict, in.why = verdictDrop, why
		}
		return in
	}
	method, _, _ := strings.Cut(m.start, " ")
	if m.count("Via") == 0 {
		// There is nowhere to send an answer to (RFC 3261 §18.2.2).
		in.verdict, in.why = verdictDrop, "request without Via"
		return in
	}
	in.req, in.normalized, in.rej = checkRequest(p, m, data, pol)
	if in.rej == nil {
		return in
	}
	in.why = fmt.Sprintf("%d %s", in.rej.code, in.rej.reason)
	if in.rej.warning != "" {
		in.why += ": " + in.rej.warning
	}
	if method == string(sip.ACK) {
		// An ACK is never answered (RFC 3261 §17.2.3).
		in.verdict = verdictDrop
		return in
	}
	in.verdict = verdictAnswer
	return in
}

// singleHeaders must appear exactly once in a request (RFC 3261 §8.1.1,
// §20; RFC 4475 §3.3.1 and §3.3.8).
var singleHeaders = []string{"Call-ID", "CSeq", "From", "To", "Max-Forwards"}

// checkRequest checks a request. It returns sipgo's parse when it got
// that far (and whether normalizeParams changed it), and the rejection
// when the request must be refused.
func checkRequest(p *sip.Parser, m *rawMessage, data []byte, pol policy) (req *sip.Request, normalized bool, rej *rejection) {
	// sipgo's parse, when it succeeds, is what the answer is built from
	// whatever is wrong.
	msg, perr := p.ParseSIP(data)
	if r, ok := msg.(*sip.Request); ok && perr == nil {
		req = r
		normalized = normalizeParams(req)
	}
	if m.bareEOL {
		// sipgo would copy the line break into the answer: answer from
		// the raw header fields, which replace it.
		return nil, false, reject(400, "CR or LF outside a CRLF line end")
	}
	method, uri, version, ok := m.requestLine()
	if !ok {
		return req, normalized, reject(400, "malformed Request-Line")
	}
	if _, _, ok := parseVersion(version); !ok {
		return req, normalized, reject(400, "malformed SIP version")
	}
	if !strings.EqualFold(version, "SIP/2.0") {
		return req, normalized, reject(505, "only SIP/2.0 is supported")
	}
	if !m.ended {
		return req, normalized, reject(400, "no blank line after the headers")
	}
	if m.badLine != "" {
		return req, normalized, reject(400, "malformed header line")
	}
	for _, name := range singleHeaders {
		switch n := m.count(name); {
		case n == 0:
			return req, normalized, rejectf(400, "no %s header", name)
		case n > 1:
			return req, normalized, rejectf(400, "more than one %s header", name)
		}
	}
	cseq, _ := m.first("CSeq")
	seq, cseqMethod, ok := strings.Cut(strings.Join(strings.Fields(cseq), " "), " ")
	if !ok || !isSeq(seq) || strings.Contains(cseqMethod, " ") || !isToken([]byte(cseqMethod)) {
		return req, normalized, reject(400, "malformed CSeq")
	}
	// Method names are case-sensitive (RFC 3261 §7.1); sipgo upper-cases
	// the request's, so compare what was written.
	if cseqMethod != method {
		return req, normalized, rejectf(400, "CSeq method %s does not match the request method %s", cseqMethod, method)
	}
	if mf, _ := m.first("Max-Forwards"); !isDigits(mf) || len(mf) > 10 || atoi(mf) > 255 {
		return req, normalized, reject(400, "malformed Max-Forwards")
	}
	bodyLen := len(m.body)
	switch n := m.count("Content-Length"); {
	case n > 1:
		return req, normalized, reject(400, "more than one Content-Length header")
	case n == 1:
		cl, _ := m.first("Content-Length")
		if !isDigits(cl) || len(cl) > 10 {
			return req, normalized, reject(400, "malformed Content-Length")
		}
		if l := atoi(cl); pol.datagram && l > len(m.body) {
			return req, normalized, reject(400, "Content-Length larger than the body")
		} else if l < bodyLen {
			bodyLen = l
		}
	}
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || !isScheme(scheme) {
		return req, normalized, reject(400, "malformed Request-URI")
	}
	if s := strings.ToLower(scheme); s != "sip" && s != "sips" {
		return req, normalized, reject(416, "only sip and sips URIs are supported")
	}
	if perr != nil {
		return nil, false, rejectf(400, "malformed message: %v", perr)
	}
	if req == nil {
		return nil, false, reject(400, "malformed Request-Line")
	}
	if req.Recipient.Headers.Length() > 0 {
		return req, normalized, reject(400, "headers in the Request-URI") // RFC 3261 §19.1.5; RFC 4475 §3.1.2.11
	}
	if from := req.From(); from == nil {
		return req, normalized, reject(400, "malformed From")
	} else if tag, _ := from.Params.Get("tag"); tag == "" {
		return req, normalized, reject(400, "From without tag") // RFC 3261 §8.1.1.3
	}
	if req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return req, normalized, reject(400, "malformed mandatory header")
	}
	// The top Via is where the answer goes (RFC 3261 §18.2.2); the others
	// are only copied back.
	if via := req.Via(); !strings.EqualFold(via.ProtocolName, "SIP") || !isToken([]byte(via.Transport)) ||
		via.Host == "" || strings.ContainsAny(via.Host, " \t") {
		return req, normalized, reject(400, "malformed Via")
	}
	for _, name := range []string{"From", "To", "Contact"} {
		for _, v := range m.values(name) {
			// An addr-spec outside <> cannot carry URI headers (RFC 3261
			// §20; RFC 4475 §3.1.2.13).
			if !strings.Contains(v, "<") && strings.Contains(v, "?") {
				return req, normalized, rejectf(400, "%s URI with headers must be enclosed in <>", name)
			}
		}
	}
	if date, ok := m.first("Date"); ok {
		if _, err := time.Parse(time.RFC1123, date); err != nil || !strings.HasSuffix(date, " GMT") {
			return req, normalized, reject(400, "malformed Date") // RFC 3261 §20.17; RFC 4475 §3.1.2.12
		}
	}
	if method != string(sip.ACK) && method != string(sip.CANCEL) {
		var unsupported []string
		for _, v := range m.values("Require") {
			for _, tag := range strings.Split(v, ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(pol.supported, tag) && !slices.Contains(unsupported, tag) {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			return req, normalized, reject(420, "", sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
		}
	}
	if method == string(sip.INVITE) {
		if rej := checkInviteBody(m, bodyLen); rej != nil {
			return req, normalized, rej
		}
	}
	return req, normalized, nil
}

// checkInviteBody checks what an INVITE carries and accepts against what
// the session layer speaks: SDP, without content coding (RFC 3261 §8.2.3,
// §21.4.7, §21.4.16; RFC 4475 §3.3.6 and §3.3.15).
func checkInviteBody(m *rawMessage, bodyLen int) *rejection {
	if bodyLen > 0 {
		ct, ok := m.first("Content-Type")
		if !ok {
			return reject(400, "a body without Content-Type")
		}
		if mediaType(ct) != "application/sdp" {
			return reject(415, "only application/sdp is supported", sip.NewHeader("Accept", "application/sdp"))
		}
		for _, enc := range m.values("Content-Encoding") {
			for _, e := range strings.Split(enc, ",") {
				if e = strings.ToLower(strings.TrimSpace(e)); e != "" && e != "identity" {
					return reject(415, "content coding is not supported", sip.NewHeader("Accept-Encoding", "identity"))
				}
			}
		}
	}
	accepts := m.values("Accept")
	if len(accepts) == 0 {
		return nil
	}
	for _, a := range accepts {
		for _, r := range strings.Split(a, ",") {
			switch mediaType(r) {
			case "application/sdp", "application/*", "*/*":
				return nil
			}
		}
	}
	return reject(406, "the answer is application/sdp")
}

// mediaType is the type/subtype of a Content-Type or Accept value, lower
// case, without parameters.
func mediaType(v string) string {
	t, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.Join(strings.Fields(t), ""))
}

// checkResponse returns why a response must be dropped, or "".
func checkResponse(p *sip.Parser, m *rawMessage, data []byte, pol policy) string {
	version, rest, _ := strings.Cut(m.start, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.EqualFold(version, "SIP/2.0") {
		return "response of another SIP version"
	}
	if len(code) != 3 || !isDigits(code) || code[0] < '1' || code[0] > '6' {
		return "malformed status code"
	}
	if !m.ended || m.badLine != "" {
		return "malformed header section"
	}
	if m.count("Via") == 0 {
		return "response without Via"
	}
	for _, name := range []string{"Call-ID", "CSeq", "From", "To"} {
		if m.count(name) != 1 {
			return "response without exactly one " + name
		}
	}
	cseq, _ := m.first("CSeq")
	if seq, _, _ := strings.Cut(strings.TrimSpace(cseq), " "); !isSeq(strings.TrimSpace(seq)) {
		return "malformed CSeq"
	}
	if m.count("Content-Length") > 1 {
		return "more than one Content-Length"
	}
	if cl, ok := m.first("Content-Length"); ok {
		if !isDigits(cl) || len(cl) > 10 || (pol.datagram && atoi(cl) > len(m.body)) {
			return "bad Content-Length"
		}
	}
	if _, err := p.ParseSIP(data); err != nil {
		return "malformed response: " + err.Error()
	}
	return ""
}

// isSeq reports whether s is a CSeq number: decimal, below 2**31 (RFC
// 3261 §8.1.1.5; sipgo refuses more).
func isSeq(s string) bool {
	if !isDigits(s) || len(s) > 10 {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n < 1<<31
}

// atoi reads a string of at most 10 digits (isDigits checked).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// isScheme reports whether s is a URI scheme (RFC 3986 §3.1).
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// normalizeParams trims the white space around the names and values of
// the header parameters of From, To, Via and Contact, and drops empty
// names, which sipgo's parser keeps although RFC 3261 §25.1 allows it
// (SEMI and EQUAL include SWS), and mends the Via transports sipgo
// misreads around LWS: without this the From tag of
// "From: <sip:a@b> ; tag = x" is not found and the transaction and the
// dialog cannot be matched (RFC 4475 §3.1.1.1). It reports whether it
// changed anything.
func normalizeParams(req *sip.Request) bool {
	changed := false
	fix := func(ps *sip.HeaderParams) {
		out := (*ps)[:0]
		for _, kv := range *ps {
			k, v := strings.TrimSpace(kv.K), strings.TrimSpace(kv.V)
			if k != kv.K || v != kv.V || k == "" {
				changed = true
			}
			if k != "" {
				out = append(out, sip.HeaderKV{K: k, V: v})
			}
		}
		*ps = out
	}
	for _, h := range req.Headers() {
		switch h := h.(type) {
		case *sip.FromHeader:
			fix(&h.Params)
		case *sip.ToHeader:
			fix(&h.Params)
		case *sip.ViaHeader:
			fix(&h.Params)
			// sipgo reads "SIP / 2.0 / UDP host" (LWS around the slashes,
			// RFC 3261 §25.1 SLASH) as transport "" and host "UDP host".
			if f := strings.Fields(h.Host); h.Transport == "" && len(f) == 2 {
				h.Transport, h.Host = f[0], f[1]
				changed = true
			}
		case *sip.ContactHeader:
			fix(&h.Params)
		}
	}
	return changed
}
