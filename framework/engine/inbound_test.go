package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// peer is a raw SIP client on loopback: it writes the bytes a test gives
// it and reads what comes back, over UDP (from a socket whose address the
// messages name in Via, with rport) or TCP.
type peer struct {
	t    *testing.T
	tr   Transport
	udp  *net.UDPConn
	dst  *net.UDPAddr
	conn net.Conn
	rd   *bufio.Reader
}

func newPeer(t *testing.T, e *Engine, tr Transport) *peer {
	t.Helper()
	r := routeTo(t, e, tr, false)
	p := &peer{t: t, tr: tr}
	switch tr {
	case TransportUDP:
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		p.udp, p.dst = c, &net.UDPAddr{IP: net.ParseIP(r.Address), Port: r.Port}
	default:
		c, err := net.Dial("tcp", r.hostPort())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		p.conn, p.rd = c, newReader(c)
	}
	return p
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// sentBy is the Via sent-by of the peer's messages.
func (p *peer) sentBy() string {
	if p.udp != nil {
		return p.udp.LocalAddr().String()
	}
	return p.conn.LocalAddr().String()
}

func (p *peer) send(msg []byte) {
	p.t.Helper()
	var err error
	if p.udp != nil {
		_, err = p.udp.WriteToUDP(msg, p.dst)
	} else {
		_, err = p.conn.Write(msg)
	}
	if err != nil {
		p.t.Fatal(err)
	}
}

// response reads the next response, within testTimeout.
func (p *peer) response() *sip.Response {
	p.t.Helper()
	res, err := p.tryResponse(testTimeout)
	if err != nil {
		p.t.Fatalf("no response: %v", err)
	}
	return res
}

func (p *peer) tryResponse(wait time.Duration) (*sip.Response, error) {
	deadline := time.Now().Add(wait)
	var data []byte
	if p.udp != nil {
		_ = p.udp.SetReadDeadline(deadline)
		buf := make([]byte, 65535)
		n, _, err := p.udp.ReadFromUDP(buf)
		if err != nil {
			return nil, err
		}
		data = buf[:n]
	} else {
		_ = p.conn.SetReadDeadline(deadline)
		var head []byte
		for {
			line, err := p.rd.ReadString('\n')
			if err != nil {
				return nil, err
			}
			head = append(head, line...)
			if line == "\r\n" {
				break
			}
		}
		n := contentLength(head)
		body := make([]byte, n)
		if _, err := io.ReadFull(p.rd, body); err != nil {
			return nil, err
		}
		data = append(head, body...)
	}
	msg, err := sip.ParseMessage(data)
	if err != nil {
		return nil, fmt.Errorf("%v: %q", err, data)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		return nil, fmt.Errorf("not a response: %q", data)
	}
	return res, nil
}

// contentLength reads the Content-Length of a response's headers.
func contentLength(head []byte) int {
	m := scanMessage(head)
	v, _ := m.first("Content-Length")
	n, _ := strconv.Atoi(v)
	return n
}

// closed waits until the engine closes the TCP connection.
func (p *peer) closed() {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		if _, err := p.rd.ReadByte(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				p.t.Fatal("the engine did not close the connection")
			}
			return
		}
	}
}

// invite is an INVITE from the peer with SDP; edit changes its header
// lines.
func (p *peer) invite(callID string, edit func([]string) []string) []byte {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	lines := []string{
		"INVITE sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/" + strings.ToUpper(string(p.tr)) + " " + p.sentBy() + ";branch=z9hG4bK-" + callID + ";rport",
		"Max-Forwards: 70",
		"From: <sip:alice@127.0.0.1>;tag=a-" + callID,
		"To: <sip:bob@127.0.0.1>",
		"Call-ID: " + callID,
		"CSeq: 1 INVITE",
		"Contact: <sip:alice@" + p.sentBy() + ">",
		"Content-Type: application/sdp",
		"Content-Length: " + strconv.Itoa(len(body)),
	}
	if edit != nil {
		lines = edit(lines)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + body)
}

// answering registers an INVITE handler on e that answers 486 and counts
// the INVITEs it sees.
func answering(e *Engine) *atomic.Int32 {
	var n atomic.Int32
	e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		n.Add(1)
		_ = e.Respond(tx, req, 486, "Busy Here", nil)
	})
	return &n
}

// TestRefusesBadRequests: requests that break RFC 3261's rules are
// answered by the engine, over UDP and TCP, before any handler sees them
// (the handler would see a request without Call-ID, which panicked the
// session layer: issue 16 item 1); a good request right after reaches the
// handler.
func TestRefusesBadRequests(t *testing.T) {
	tests := []struct {
		name string
		edit func([]string) []string
		udp  bool // only over UDP (a stream frames by Content-Length)
		code int
	}{
		{"no Call-ID", without("Call-ID"), false, 400},
		{"no From", without("From"), false, 400},
		{"no To", without("To"), false, 400},
		{"no Max-Forwards", without("Max-Forwards"), false, 400},
		{"two CSeqs", adding("CSeq: 2 INVITE"), false, 400},
		{"CSeq method BYE", replace("CSeq", "CSeq: 1 BYE"), false, 400},
		{"SIP/9.9", replace("INVITE", "INVITE sip:bob@127.0.0.1 SIP/9.9"), false, 505},
		{"Content-Length larger than the datagram", replace("Content-Length", "Content-Length: 4000"), true, 400},
		{"unknown URI scheme", replace("INVITE", "INVITE xmpp:bob@127.0.0.1 SIP/2.0"), false, 416},
		{"Require", adding("Require: nothingSupportsThis"), false, 420},
		{"body not SDP", replace("Content-Type", "Content-Type: text/plain"), false, 415},
	}
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) {
			e := start(t, Config{UserAgent: "bob-ua/2.0", Listen: []Listen{{Transport: tr, Address: "127.0.0.1:0"}}})
			seen := answering(e)
			p := newPeer(t, e, tr)
			refused := 0
			for i, tc := range tests {
				if tc.udp && tr != TransportUDP {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					callID := "bad-" + strconv.Itoa(i)
					p.send(p.invite(callID, tc.edit))
					res := p.response()
					if res.StatusCode != tc.code {
						t.Errorf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
					}
					if res.SipVersion != "SIP/2.0" {
						t.Errorf("answered in %s", res.SipVersion)
					}
					if ua := header(res, "User-Agent"); ua != "bob-ua/2.0" {
						t.Errorf("User-Agent = %q", ua)
					}
					if id := res.CallID(); id != nil && id.Value() != callID {
						t.Errorf("Call-ID = %q, want %q", id.Value(), callID)
					}
					if tc.code == 420 && header(res, "Unsupported") != "nothingSupportsThis" {
						t.Errorf("Unsupported = %q", header(res, "Unsupported"))
					}
					refused++
				})
			}
			p.send(p.invite("good", nil))
			if res := p.response(); res.StatusCode != 486 {
				t.Errorf("good INVITE: got %d %s, want the handler's 486", res.StatusCode, res.Reason)
			}
			if n := seen.Load(); n != 1 {
				t.Errorf("the handler saw %d INVITEs, want 1 (the good one)", n)
			}
			if got := e.Stats().Rejected; got != uint64(refused) {
				t.Errorf("Stats().Rejected = %d, want %d", got, refused)
			}
		})
	}
}

// TestUnknownMethod: a method the engine does not know is answered 501
// Not Implemented with Allow (RFC 3261 §21.5.2, RFC 4475 §3.1.1.2), one
// it knows but nobody handles 405.
func TestUnknownMethod(t *testing.T) {
	alice, bob := pair(t, TransportUDP, false)
	r := routeTo(t, bob, TransportUDP, false)
	for _, tc := range []struct {
		method sip.RequestMethod
		code   int
	}{{"FROBNICATE", 501}, {sip.PUBLISH, 405}} {
		res := final(t, alice, sip.NewRequest(tc.method, uriFor("bob", r)), r, nil)
		if res.StatusCode != tc.code || header(res, "Allow") != "OPTIONS" {
			t.Errorf("%s: got %d %s with Allow %q, want %d with Allow OPTIONS", tc.method, res.StatusCode, res.Reason, header(res, "Allow"), tc.code)
		}
	}
}

// TestHandlerPanic: a handler's panic is recovered, the request answered
// 500 and the panic counted; the engine goes on serving.
func TestHandlerPanic(t *testing.T) {
	alice, bob := pair(t, TransportUDP, false)
	var calls atomic.Int32
	bob.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // a nil map: panics
		}
		_ = bob.Respond(tx, req, 200, "OK", nil)
	})
	r := routeTo(t, bob, TransportUDP, false)
	if res := final(t, alice, sip.NewRequest(sip.MESSAGE, uriFor("bob", r)), r, nil); res.StatusCode != 500 {
		t.Fatalf("got %d %s, want 500", res.StatusCode, res.Reason)
	}
	if got := bob.Stats().HandlerPanics; got != 1 {
		t.Errorf("Stats().HandlerPanics = %d, want 1", got)
	}
	if res := final(t, alice, sip.NewRequest(sip.MESSAGE, uriFor("bob", r)), r, nil); res.StatusCode != 200 {
		t.Errorf("after the panic: got %d %s, want 200", res.StatusCode, res.Reason)
	}
}

// TestStreamFramingErrors: a message on TCP that cannot be framed (no
// Content-Length, a negative one, two) is answered 400, the stream read no
// further, and the connection closed once idle (RFC 4475 §3.1.2.3,
// §3.3.9); a request before it in the stream is answered.
func TestStreamFramingErrors(t *testing.T) {
	e := start(t, Config{IdleTimeout: shortIdle, Listen: []Listen{{Transport: TransportTCP, Address: "127.0.0.1:0"}}})
	seen := answering(e)
	for _, tc := range []struct {
		name string
		edit func([]string) []string
	}{
		{"no Content-Length", without("Content-Length")},
		{"negative Content-Length", replace("Content-Length", "Content-Length: -999")},
		{"two Content-Lengths", adding("l: 3")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, e, TransportTCP)
			good := p.invite("before", replace("CSeq", "CSeq: 1 OPTIONS"))
			good = []byte(strings.Replace(string(good), "INVITE sip:", "OPTIONS sip:", 1))
			p.send(append(append(good, p.invite("framing", tc.edit)...), p.invite("after", nil)...))
			codes := map[string]int{}
			for range 2 {
				res := p.response()
				codes[res.CallID().Value()] = res.StatusCode
			}
			if codes["before"] != 200 || codes["framing"] != 400 {
				t.Errorf("answers %v, want 200 to the OPTIONS before and 400 to the bad one", codes)
			}
			p.closed()
		})
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the handler saw %d INVITEs", n)
	}
}

// TestNormalizesParameters: LWS around ';' and '=' in header parameters
// (RFC 3261 §25.1) does not hide the From tag from the transaction layer
// or the handler (RFC 4475 §3.1.1.1).
func TestNormalizesParameters(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCP} {
		t.Run(string(tr), func(t *testing.T) {
			e := start(t, Config{Listen: []Listen{{Transport: tr, Address: "127.0.0.1:0"}}})
			tags := make(chan string, 1)
			e.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
				tag, _ := req.From().Params.Get("tag")
				tags <- tag
				_ = e.Respond(tx, req, 486, "Busy Here", nil)
			})
			p := newPeer(t, e, tr)
			p.send(p.invite("lws", replace("From", "From: <sip:alice@127.0.0.1>\r\n ; tag =\r\n  a-lws")))
			if res := p.response(); res.StatusCode != 486 {
				t.Errorf("got %d %s, want 486", res.StatusCode, res.Reason)
			}
			if tag := recv(t, tags, "the INVITE"); tag != "a-lws" {
				t.Errorf("From tag %q, want a-lws", tag)
			}
		})
	}
}
