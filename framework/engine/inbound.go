package engine

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// Stats are the engine's counters of refused input, since New.
type Stats struct {
	// Rejected counts the requests the engine answered itself, before
	// any handler, because they break RFC 3261's rules (400, 505, 416,
	// 420, 415, 406, 413).
	Rejected uint64
	// Dropped counts the messages discarded unanswered: responses and
	// ACKs that do not parse or lack mandatory headers, requests without
	// Via or with an unreadable start line, streams that cannot be framed,
	// and the ACKs of the answers the engine sent statelessly (a 503 for
	// overload, a refusal built from the raw header fields), which no
	// transaction or dialog waits for.
	Dropped uint64
	// HandlerPanics counts the request handlers that panicked; each
	// request was answered 500.
	HandlerPanics uint64
	// ConnectionsRefused counts the TCP and TLS connections closed at once
	// because their address had Config.MaxConnectionsPerAddress already.
	ConnectionsRefused uint64
	// ConnectionsTimedOut counts the TCP and TLS connections closed for
	// idling (Config.IdleTimeout), for sending a message too slowly, or
	// for not finishing the TLS handshake (Config.TLSHandshakeTimeout).
	ConnectionsTimedOut uint64
	// Overloaded counts the new INVITEs answered 503 at once, statelessly,
	// because the admission function (SetAdmission) refused them.
	Overloaded uint64
	// Absorbed counts the retransmissions of INVITEs answered 2xx that
	// came after sipgo ended their transaction (ReleaseAcceptedInvites),
	// dropped unanswered as RFC 6026's Accepted state does: the engine
	// keeps that state for 64·T1 after the 2xx.
	Absorbed uint64
}

// counters are the atomic counters behind Stats.
type counters struct {
	rejected, dropped, panics, refused, timedOut, overloaded, absorbed atomic.Uint64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Rejected:            e.stats.rejected.Load(),
		Dropped:             e.stats.dropped.Load(),
		HandlerPanics:       e.stats.panics.Load(),
		ConnectionsRefused:  e.stats.refused.Load(),
		ConnectionsTimedOut: e.stats.timedOut.Load(),
		Overloaded:          e.stats.overloaded.Load(),
		Absorbed:            e.stats.absorbed.Load(),
	}
}

// SetAdmission installs f, asked about every new INVITE (one without a
// To tag), by its Call-ID, before anything else is done with it: when f
// returns false, the engine answers it 503 Service Unavailable with
// Retry-After itself, statelessly, from the goroutine that read it and
// from the header fields as written — the cheapest refusal there is: no
// parse, no transaction, no handler. A retransmission is refused again
// just as cheaply, and the caller's ACK of the 503 (its To tag the one the
// engine made for the refusal) is dropped as soon as it is read. The
// session manager installs its overload control here (issue 15). f must
// be fast and safe for concurrent use; nil removes it.
func (e *Engine) SetAdmission(f func(callID string) bool) {
	if f == nil {
		e.admission.Store(nil)
		return
	}
	e.admission.Store(&f)
}

// SetAdmitted installs g, told the Call-ID of every new INVITE the
// admission function (SetAdmission) took once the INVITE has passed the
// engine's checks too, as it goes on to sipgo's transaction layer: the
// session manager counts it against its limit from then until its handler
// sees it. An INVITE the checks refuse is not told. g must be fast and
// safe for concurrent use; nil removes it.
func (e *Engine) SetAdmitted(g func(callID string)) {
	if g == nil {
		e.admitted.Store(nil)
		return
	}
	e.admitted.Store(&g)
}

// refuseEarly handles, from the raw message alone, a new INVITE the
// admission function refuses (answered 503 with Retry-After) and an ACK
// of a response the engine sent statelessly (dropped: no transaction or
// dialog is there for it, RFC 3261 §17.2.3). It reports whether it did,
// and the Call-ID of a new INVITE the admission function took ("" for
// any other message).
func (e *Engine) refuseEarly(m *rawMessage, t Transport, src net.Addr, reply func(b []byte, dst net.Addr)) (bool, string) {
	if m.isResponse() || m.count("Via") == 0 {
		return false, ""
	}
	method, _, _ := strings.Cut(m.start, " ")
	to, _ := m.first("To")
	switch method {
	case string(sip.INVITE):
		f := e.admission.Load()
		if f == nil || headerTag(to) != "" {
			return false, ""
		}
		id, ok := m.first("Call-ID")
		if !ok {
			return false, ""
		}
		if id = strings.TrimSpace(id); (*f)(id) {
			return false, id
		}
		e.stats.overloaded.Add(1)
		in := inspection{raw: *m}
		b, dst := e.rejectionBytes(&in, reject(503, "overloaded: too many sessions being set up", sip.NewHeader("Retry-After", overloadRetryAfter)), t, src)
		reply(b, dst)
		return true, ""
	case string(sip.ACK):
		// Most ACKs carry a dialog's tag (LocalTag's, hex): only one with
		// a raw answer's prefix is worth the HMAC.
		if tag := headerTag(to); !strings.HasPrefix(tag, rawTagPrefix) || tag != e.rawTag(m) {
			return false, ""
		}
		e.stats.dropped.Add(1)
		return true, ""
	}
	return false, ""
}

// headerTag is the tag parameter of a From or To value as written, ""
// when it has none. Parameters inside <> belong to the URI.
func headerTag(v string) string {
	params := ""
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		params = v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		params = v[i:]
	}
	for _, p := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "tag") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// overloadRetryAfter is the Retry-After of a 503 for overload, seconds.
const overloadRetryAfter = "5"

// screen looks at one message read from src over t. It returns the
// message to hand to sipgo (data, or the engine's rewrite of it, see
// normalizeParams) and true when it goes on; otherwise it has answered it
// through reply (a refused request) or dropped it.
func (e *Engine) screen(data []byte, t Transport, src net.Addr, reply func(b []byte, dst net.Addr)) ([]byte, bool) {
	raw := scanMessage(data)
	refused, admitted := e.refuseEarly(&raw, t, src, reply)
	if refused {
		return nil, false
	}
	in := inspectScanned(e.parser, raw, data, policy{datagram: t == TransportUDP, supported: e.cfg.Supported})
	switch in.verdict {
	case verdictPass:
		if g := e.admitted.Load(); g != nil && admitted != "" {
			(*g)(admitted)
		}
		if in.normalized {
			// sipgo reads what it writes, as a rule; where it does not,
			// the message goes as it came.
			if b := []byte(in.req.String()); e.parsesBack(b) {
				return b, true
			}
		}
		return data, true
	case verdictAnswer:
		e.stats.rejected.Add(1)
		e.log.Debug("request refused", "transport", t, "source", src.String(), "start", printable(in.raw.start, 120), "reason", in.why)
		b, dst := e.rejectionBytes(&in, in.rej, t, src)
		reply(b, dst)
	default:
		e.stats.dropped.Add(1)
		e.log.Debug("message dropped", "transport", t, "source", src.String(), "start", printable(in.raw.start, 120), "reason", in.why)
	}
	return nil, false
}

// parsesBack reports whether sipgo parses b.
func (e *Engine) parsesBack(b []byte) bool {
	_, err := e.parser.ParseSIP(b)
	return err == nil
}

// screenBroken answers (if it can) the request whose headers a broken
// stream left, and counts it.
func (e *Engine) screenBroken(f frame, t Transport, src net.Addr, reply func(b []byte, dst net.Addr)) {
	if f.data == nil || f.rej == nil {
		e.stats.dropped.Add(1)
		e.log.Debug("stream cannot be framed; closing", "transport", t, "source", src.String())
		return
	}
	in := inspection{raw: scanMessage(f.data)}
	method, _, _ := strings.Cut(in.raw.start, " ")
	if in.raw.isResponse() || in.raw.count("Via") == 0 || method == string(sip.ACK) {
		e.stats.dropped.Add(1)
		e.log.Debug("stream cannot be framed; closing", "transport", t, "source", src.String(), "start", printable(in.raw.start, 120))
		return
	}
	if msg, err := e.parser.ParseSIP(f.data); err == nil {
		in.req, _ = msg.(*sip.Request)
	}
	e.stats.rejected.Add(1)
	e.log.Debug("request refused; closing the stream", "transport", t, "source", src.String(), "start", printable(in.raw.start, 120), "reason", f.rej.warning)
	b, dst := e.rejectionBytes(&in, f.rej, t, src)
	reply(b, dst)
}

// rejectionBytes builds the answer to a refused request and, over UDP,
// where to send it (RFC 3261 §18.2.2, RFC 3581 §4: the source address,
// and the source port when the top Via asks for rport, else the Via's
// port). The answer is built by sipgo from its parse when there is one,
// else from the raw header fields, copied (RFC 3261 §8.2.6.2).
func (e *Engine) rejectionBytes(in *inspection, rej *rejection, t Transport, src net.Addr) ([]byte, net.Addr) {
	var hdrs []sip.Header
	if rej.warning != "" {
		hdrs = append(hdrs, sip.NewHeader("Warning", `399 - "`+quotable(rej.warning)+`"`))
	}
	hdrs = append(hdrs, rej.hdrs...)
	var out []byte
	port := 0
	if req := in.req; req != nil {
		req.SetSource(src.String())
		req.SetTransport(t.network())
		res := e.newResponse(req, rej.code, rej.reason, nil, hdrs...)
		res.SipVersion = "SIP/2.0"
		out = []byte(res.String())
		if via := req.Via(); via != nil {
			if _, ok := via.Params.Get("rport"); !ok {
				port = via.Port
				if port == 0 {
					port = 5060
				}
			}
		}
	} else {
		out = e.rawResponse(&in.raw, rej, hdrs)
		port = rawViaPort(&in.raw)
	}
	if t != TransportUDP {
		return out, nil
	}
	dst, _ := src.(*net.UDPAddr)
	if dst == nil {
		return out, src
	}
	if port > 0 {
		dst = &net.UDPAddr{IP: dst.IP, Port: port, Zone: dst.Zone}
	}
	return out, dst
}

// rawResponse builds a response from a request sipgo could not parse:
// the status line, then the request's Via, From, To (with a tag), Call-ID
// and CSeq as written, then hdrs.
func (e *Engine) rawResponse(m *rawMessage, rej *rejection, hdrs []sip.Header) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(rej.code) + " " + rej.reason + "\r\n")
	line := func(name, value string) {
		b.WriteString(name + ": " + strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, value) + "\r\n")
	}
	for _, v := range m.values("Via") {
		line("Via", v)
	}
	for _, name := range []string{"From", "To", "Call-ID", "CSeq"} {
		v, ok := m.first(name)
		if !ok {
			continue
		}
		if name == "To" && headerTag(v) == "" {
			v += ";tag=" + e.rawTag(m)
		}
		line(name, v)
	}
	for _, h := range hdrs {
		line(h.Name(), h.Value())
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// rawTag is the To tag of a raw response: stable for the request's
// retransmissions, unguessable (RFC 3261 §19.3), as LocalTag. It is made
// of what the ACK of a non-2xx response repeats (RFC 3261 §17.1.1.3: the
// Call-ID, the From, the CSeq number and the top Via), so that rawTag of
// that ACK is the tag it carries (refuseEarly).
func (e *Engine) rawTag(m *rawMessage) string {
	callID, _ := m.first("Call-ID")
	from, _ := m.first("From")
	cseq, _ := m.first("CSeq")
	seq, _, _ := strings.Cut(strings.TrimSpace(cseq), " ")
	via, _ := m.first("Via")
	via, _, _ = strings.Cut(via, ",")
	return e.tag(rawTagPrefix, callID, from, seq, strings.TrimSpace(via))
}

// rawTagPrefix starts every rawTag; LocalTag's tags are hex, so an ACK's To
// tag tells at a glance whether it may answer a raw response.
const rawTagPrefix = "r"

// rawViaPort is the port a UDP answer goes to by the top Via as written:
// 0 (the source port) when it has rport, else its sent-by port, else
// 5060.
func rawViaPort(m *rawMessage) int {
	via, _ := m.first("Via")
	via, _, _ = strings.Cut(via, ",")
	sentBy, params, _ := strings.Cut(via, ";")
	for _, p := range strings.Split(params, ";") {
		name, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "rport") {
			return 0
		}
	}
	if i := strings.LastIndexByte(sentBy, '/'); i >= 0 {
		sentBy = sentBy[i+1:]
	}
	fields := strings.Fields(sentBy)
	if len(fields) != 2 {
		return 5060
	}
	hostport := fields[1]
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && i > strings.LastIndexByte(hostport, ']') {
		if p := hostport[i+1:]; isDigits(p) && len(p) <= 5 {
			if n := atoi(p); n > 0 && n <= 65535 {
				return n
			}
		}
	}
	return 5060
}

// printable returns s with bytes outside printable ASCII replaced by
// '?', cut to at most n bytes: peer-supplied text for logs and Warning
// headers.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// quotable makes s safe inside a quoted-string.
func quotable(s string) string {
	s = printable(s, 160)
	if !strings.ContainsAny(s, `\"`) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '"' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}
