package engine

import (
	"bytes"
	"net"
	"regexp"
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
			Data:            e.traceText(data),
		},
	})
}

// traceText is the Data of a trace: the message, its SRTP keys masked
// unless Config.TraceKeys.
func (e *Engine) traceText(data []byte) string {
	if e.cfg.TraceKeys {
		return string(data)
	}
	return maskKeys(string(data))
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

// SRTP keys in SDP: the key and salt of an a=crypto inline key parameter
// (RFC 4568 §9.2; lifetime and MKI after "|" are kept) and the data of an
// a=key-mgmt attribute (RFC 4567).
var (
	inlineKey = regexp.MustCompile(`(?i)(inline:)[A-Za-z0-9+/=]+`)
	keyMgmt   = regexp.MustCompile(`(?im)^(a=key-mgmt:[^ \r\n]+ )[^\r\n]+`)
)

// maskedKey replaces a key in a masked trace.
const maskedKey = "<masked>"

// maskKeys returns msg with its SRTP keys replaced by maskedKey.
func maskKeys(msg string) string {
	msg = inlineKey.ReplaceAllString(msg, "${1}"+maskedKey)
	return keyMgmt.ReplaceAllString(msg, "${1}"+maskedKey)
}
