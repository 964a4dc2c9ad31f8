package engine

import (
	"bytes"
	"net"
	"strconv"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// NameSIPTrace is the name of the notification posted, with [TraceData],
// for every SIP message the engine sends or receives when tracing is on
// (the reference's SIPEngineSIPTrace, enabled by logs.trace_sip).
const NameSIPTrace = "SIPEngineSIPTrace"

// TraceData is the Data of a "SIPEngineSIPTrace" notification. Its sender
// is the *Engine.
type TraceData struct {
	// Received is true for a message that arrived, false for one sent.
	Received bool
	// Transport is the transport the message travelled on.
	Transport Transport
	// SourceIP and SourcePort are the sender's address (ours when
	// Received is false). For a UDP listener bound to an unspecified
	// address the local side reads 0.0.0.0 or ::.
	SourceIP   string
	SourcePort int
	// DestinationIP and DestinationPort are the receiver's address.
	DestinationIP   string
	DestinationPort int
	// Data is the whole message as it went on the wire (plain text for
	// TLS), start line, headers and body.
	Data string
}

// maxFrame bounds the bytes a stream framer holds while it waits for the
// end of a message; it matches sipgo's ParseMaxMessageLength.
const maxFrame = 65535

// framer splits a SIP byte stream (TCP or TLS) into messages for the
// trace, using the blank line after the headers and Content-Length (RFC
// 3261 §18.3). CRLF keep-alives between messages (RFC 5626 §3.5.1) are
// dropped. It only observes: sipgo parses the stream itself.
type framer struct {
	buf []byte
}

// feed appends p and calls emit for every complete message. A stream that
// does not frame is traced as best it can: more than maxFrame bytes
// without an end of headers are emitted as they are, and a message with an
// unreadable or absurd Content-Length is taken to have no body.
func (f *framer) feed(p []byte, emit func([]byte)) {
	f.buf = append(f.buf, p...)
	for {
		i := 0
		for i < len(f.buf) && (f.buf[i] == '\r' || f.buf[i] == '\n') {
			i++
		}
		f.buf = f.buf[i:]
		if len(f.buf) == 0 {
			f.buf = nil
			return
		}
		end := bytes.Index(f.buf, []byte("\r\n\r\n"))
		if end < 0 {
			if len(f.buf) > maxFrame {
				emit(f.buf)
				f.buf = nil
			}
			return
		}
		n := contentLength(f.buf[:end+2])
		if n < 0 || n > maxFrame {
			n = 0 // sipgo drops such a connection; trace the headers
		}
		total := end + 4 + n
		if len(f.buf) < total {
			return
		}
		emit(f.buf[:total])
		f.buf = f.buf[total:]
	}
}

// contentLength returns the value of the Content-Length (or compact "l")
// header in head (the start line and headers, each ending in CRLF), 0 if
// there is none, and -1 if it does not parse.
func contentLength(head []byte) int {
	for line := range bytes.Lines(head) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	return 0
}

// isKeepAlive reports whether b is only CR and LF (a RFC 5626 ping or
// pong) or empty.
func isKeepAlive(b []byte) bool {
	return len(bytes.Trim(b, "\r\n")) == 0
}

// stampUserAgent returns msg with a "User-Agent: ua" header added before
// the end of its headers, and true, when msg is one whole SIP message
// without a User-Agent header. Otherwise it returns msg and false. Adding
// a header line changes neither the body nor its Content-Length.
func stampUserAgent(msg []byte, ua string) ([]byte, bool) {
	if ua == "" {
		return msg, false
	}
	first := bytes.Index(msg, []byte("\r\n"))
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if first < 0 || end < 0 {
		return msg, false
	}
	start := msg[:first]
	if !bytes.HasPrefix(start, []byte("SIP/2.0 ")) && !bytes.HasSuffix(start, []byte(" SIP/2.0")) {
		return msg, false
	}
	for line := range bytes.Lines(msg[first+2 : end+2]) {
		if line[0] == ' ' || line[0] == '\t' {
			continue // folded continuation of the previous header
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("User-Agent")) {
			return msg, false
		}
	}
	out := make([]byte, 0, len(msg)+len("User-Agent: \r\n")+len(ua))
	out = append(out, msg[:end+2]...)
	out = append(out, "User-Agent: "...)
	out = append(out, ua...)
	out = append(out, "\r\n"...)
	out = append(out, msg[end+2:]...)
	return out, true
}

// trace posts one SIPEngineSIPTrace notification.
func (e *Engine) trace(received bool, t Transport, src, dst net.Addr, data []byte) {
	sIP, sPort := splitNetAddr(src)
	dIP, dPort := splitNetAddr(dst)
	e.center.Post(notify.Notification{
		Name:   NameSIPTrace,
		Sender: e,
		Data: TraceData{
			Received:        received,
			Transport:       t,
			SourceIP:        sIP,
			SourcePort:      sPort,
			DestinationIP:   dIP,
			DestinationPort: dPort,
			Data:            string(data),
		},
	})
}

// splitNetAddr returns the IP and port of a UDP or TCP address.
func splitNetAddr(a net.Addr) (string, int) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.IP.String(), a.Port
	case *net.TCPAddr:
		return a.IP.String(), a.Port
	case nil:
		return "", 0
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}
