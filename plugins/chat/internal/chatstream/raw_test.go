package chatstream

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.msrp files")

// rawPeer is a hand-driven MSRP endpoint on a plain TCP connection: the
// remote end of a chat stream that answered its offer.
type rawPeer struct {
	t      testing.TB
	b      *peer // the chat stream under test
	conn   net.Conn
	r      *msrp.Reader
	self   string // our MSRP URI
	stream string // the stream's MSRP URI
	seq    int
}

// rawOffer is the raw peer's offer: it connects (a=setup:active) and
// accepts text/plain only, so the stream sends it bare bodies.
const rawOffer = "m=message 9 TCP/MSRP *\r\n" +
	"c=IN IP4 127.0.0.1\r\n" +
	"a=path:msrp://127.0.0.1:9/rawpeer0001;tcp\r\n" +
	"a=accept-types:text/plain\r\n" +
	"a=setup:active\r\n"

// dialRaw makes the chat stream answer the raw peer's offer, connects to
// it and binds the session with an empty SEND.
func dialRaw(t *testing.T, settings map[string]string) *rawPeer {
	t.Helper()
	return dialRawOffer(t, settings, rawOffer, false)
}

// dialRawOffer is dialRaw with the raw peer's m-line given; focus makes
// the raw peer a conference focus (SessionInfo.RemoteFocus).
func dialRawOffer(t *testing.T, settings map[string]string, media string, focus bool) *rawPeer {
	t.Helper()
	bob := party{name: "bob", identity: bobID, settings: settings}
	b := newPeer(t, bob, aliceID)
	b.focus = focus
	offer := sessionSDP("127.0.0.1", media)
	b.accept(offer)
	answer := b.answer(offer)
	s, md, err := sdk.MediaAt(answer, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := msrpstream.FromSDP(s, md)
	if err != nil {
		t.Fatal(err)
	}
	if m.Setup != msrpstream.SetupPassive || len(m.Path) != 1 {
		t.Fatalf("answer to an active offer: setup %q path %v", m.Setup, m.Path)
	}
	b.start(answer, offer)
	conn, err := net.DialTimeout("tcp", m.Path[0].Addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	rp := &rawPeer{t: t, b: b, conn: conn, r: msrp.NewReader(conn), self: "msrp://127.0.0.1:9/rawpeer0001;tcp", stream: m.Path[0].String()}
	tid := rp.write("SEND", rp.stream, "Message-ID: bind1\r\nByte-Range: 1-0/0\r\n", "", nil)
	if resp := rp.read(); resp.TransactionID != tid || resp.StatusCode != 200 {
		t.Fatalf("binding answered %+v", resp)
	}
	b.waitFor(sdk.MediaStreamDidStart)
	return rp
}

// write sends a request to toPath with extra headers and, when
// contentType is set, a body; it returns the transaction id.
func (rp *rawPeer) write(method, toPath, headers, contentType string, body []byte) string {
	rp.t.Helper()
	rp.seq++
	tid := fmt.Sprintf("rawtid%04d", rp.seq)
	var b bytes.Buffer
	fmt.Fprintf(&b, "MSRP %s %s\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%s", tid, method, toPath, rp.self, headers)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n\r\n", contentType)
		b.Write(body)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "-------%s$\r\n", tid)
	if _, err := rp.conn.Write(b.Bytes()); err != nil {
		rp.t.Fatal(err)
	}
	return tid
}

// sendMessage sends a one-chunk message asking for both reports.
func (rp *rawPeer) sendMessage(id, contentType string, body []byte) string {
	rp.t.Helper()
	h := fmt.Sprintf("Message-ID: %s\r\nByte-Range: 1-%d/%d\r\nSuccess-Report: yes\r\nFailure-Report: yes\r\n", id, len(body), len(body))
	return rp.write("SEND", rp.stream, h, contentType, body)
}

// read returns the next message from the stream, with its body.
func (rp *rawPeer) read() *msrp.Message {
	rp.t.Helper()
	m, err := rp.r.ReadMessage(1 << 20)
	if err != nil {
		rp.t.Fatalf("reading from the stream: %v", err)
	}
	return m
}

// expect reads the transaction response to tid and, when report is not
// zero, a REPORT for message id with that status, in whichever order.
func (rp *rawPeer) expect(tid string, code int, id string, report int) {
	rp.t.Helper()
	rp.expectComment(tid, code, id, report, "")
}

// expectComment is expect that also checks the REPORT's comment, unless
// comment is "".
func (rp *rawPeer) expectComment(tid string, code int, id string, report int, comment string) {
	rp.t.Helper()
	gotResp, gotReport := false, report == 0
	for !gotResp || !gotReport {
		m := rp.read()
		switch {
		case m.Method == "" && m.TransactionID == tid:
			if m.StatusCode != code {
				rp.t.Fatalf("response %d %s, want %d", m.StatusCode, m.Comment, code)
			}
			gotResp = true
		case m.Method == msrp.MethodREPORT && m.MessageID() == id:
			st, err := m.Status()
			if err != nil || st.Code != report || (comment != "" && st.Comment != comment) {
				rp.t.Fatalf("REPORT %q (%v), want status %d %s", m.Header("Status"), err, report, comment)
			}
			gotReport = true
		default:
			rp.t.Fatalf("unexpected %s %d from the stream", m.Method, m.StatusCode)
		}
	}
}

// TestRawPeer drives a chat stream from a hand-written MSRP peer: good
// messages are delivered and reported, unwanted or broken ones get the
// reference's MSRP errors while the stream keeps going, and garbage on
// the connection makes the stream fail cleanly.
func TestRawPeer(t *testing.T) {
	rp := dialRaw(t, map[string]string{"msrp.transport": "tcp", "chat.max_message_size": "1000"})
	b := rp.b

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"plain text is delivered", func(t *testing.T) {
			tid := rp.sendMessage("good1", "text/plain; charset=utf-8", []byte("hello from raw"))
			rp.expectComment(tid, 200, "good1", 200, "OK")
			m := gotMessage(b).Message
			if string(m.Content) != "hello from raw" || m.Sender != aliceID || m.MessageID != "good1" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"unaccepted type: 415", func(t *testing.T) {
			tid := rp.sendMessage("pdf1", "application/pdf", []byte("%PDF-1.4"))
			rp.expect(tid, 415, "", 0)
		}},
		{"body without Content-Type: 415", func(t *testing.T) {
			tid := rp.write("SEND", rp.stream, "Message-ID: noct1\r\nByte-Range: 1-4/4\r\n", "", nil)
			rp.expect(tid, 200, "", 0) // no body on the wire at all: a keep-alive
		}},
		{"broken CPIM: REPORT 400", func(t *testing.T) {
			tid := rp.sendMessage("cpim1", "message/cpim", []byte("From <sip:broken\r\n"))
			rp.expectComment(tid, 200, "cpim1", 400, "CPIM Parser Error")
		}},
		{"unwanted wrapped type: REPORT 413", func(t *testing.T) {
			body := []byte("From: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n\r\nContent-Type: application/pdf\r\n\r\n%PDF")
			tid := rp.sendMessage("cpim2", "message/cpim", body)
			rp.expectComment(tid, 200, "cpim2", 413, "Unwanted Message")
		}},
		{"bad is-composing document: REPORT 400", func(t *testing.T) {
			tid := rp.sendMessage("comp1", "application/im-iscomposing+xml", []byte("<isComposing"))
			rp.expect(tid, 200, "comp1", 400)
		}},
		{"is-composing arrives", func(t *testing.T) {
			doc := `<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><refresh>90</refresh></isComposing>`
			tid := rp.write("SEND", rp.stream, fmt.Sprintf("Message-ID: comp2\r\nByte-Range: 1-%d/%d\r\nFailure-Report: no\r\n", len(doc), len(doc)), "application/im-iscomposing+xml", []byte(doc))
			_ = tid // Failure-Report: no: neither response nor REPORT
			var c chat.ComposingData
			b.waitData(chat.GotComposingIndication, &c)
			if c.State != "active" || c.Refresh != 90 || c.Sender != aliceID {
				t.Fatalf("got %+v", c)
			}
		}},
		{"too large: 413", func(t *testing.T) {
			tid := rp.sendMessage("big1", "text/plain", bytes.Repeat([]byte("x"), 2000))
			rp.expect(tid, 413, "", 0)
		}},
		{"unbound session: 481", func(t *testing.T) {
			tid := rp.write("SEND", "msrp://127.0.0.1:2855/nosuchsession;tcp", "Message-ID: lost1\r\nByte-Range: 1-2/2\r\n", "text/plain", []byte("hi"))
			rp.expect(tid, 481, "", 0)
		}},
		{"bad Byte-Range: 400", func(t *testing.T) {
			tid := rp.write("SEND", rp.stream, "Message-ID: br1\r\nByte-Range: x-y/z\r\n", "text/plain", []byte("hi"))
			rp.expect(tid, 400, "", 0)
		}},
		{"unknown method: 501", func(t *testing.T) {
			tid := rp.write("FROBNICATE", rp.stream, "", "", nil)
			rp.expect(tid, 501, "", 0)
		}},
		{"a message in two chunks is reassembled", func(t *testing.T) {
			h1 := "Message-ID: two1\r\nByte-Range: 1-6/11\r\nSuccess-Report: yes\r\n"
			var b1 bytes.Buffer
			fmt.Fprintf(&b1, "MSRP rawchunk1 SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%sContent-Type: text/plain\r\n\r\nhello \r\n-------rawchunk1+\r\n", rp.stream, rp.self, h1)
			if _, err := rp.conn.Write(b1.Bytes()); err != nil {
				t.Fatal(err)
			}
			rp.expect("rawchunk1", 200, "", 0)
			tid := rp.write("SEND", rp.stream, "Message-ID: two1\r\nByte-Range: 7-11/11\r\nSuccess-Report: yes\r\n", "text/plain", []byte("world"))
			rp.expect(tid, 200, "two1", 200)
			if m := gotMessage(b).Message; string(m.Content) != "hello world" {
				t.Fatalf("got %q", m.Content)
			}
		}},
		{"the stream sends bare text to a peer without CPIM", func(t *testing.T) {
			if _, err := chat.SendComposingIndication(b.ctx, b.s, chat.StateActive, 0, time.Time{}, nil); err == nil {
				t.Fatal("is-composing sent to a peer that accepts only text/plain")
			}
			id := b.send(chat.Message{Content: []byte("hello raw")})
			m := rp.read()
			if m.Method != msrp.MethodSEND || m.MessageID() != id {
				t.Fatalf("got %s %q, want SEND %s", m.Method, m.MessageID(), id)
			}
			golden(t, "send-plain.golden.msrp", normalize(m, rp))
			fmt.Fprintf(rp.conn, "MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n", m.TransactionID, rp.stream, rp.self, m.TransactionID)
			fmt.Fprintf(rp.conn, "MSRP rawrep0001 REPORT\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\nByte-Range: 1-9/9\r\nStatus: 000 200 OK\r\n-------rawrep0001$\r\n", rp.stream, rp.self, id)
			delivered(b, id, chat.DidDeliverMessage, 200)
		}},
		{"a failure REPORT is not delivered", func(t *testing.T) {
			id := b.send(chat.Message{Content: []byte("refuse me")})
			m := rp.read()
			fmt.Fprintf(rp.conn, "MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n", m.TransactionID, rp.stream, rp.self, m.TransactionID)
			fmt.Fprintf(rp.conn, "MSRP rawrep0002 REPORT\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\nByte-Range: 1-9/9\r\nStatus: 000 413 Unwanted Message\r\n-------rawrep0002$\r\n", rp.stream, rp.self, id)
			if d := delivered(b, id, chat.DidNotDeliverMessage, 413); d.Reason != "Unwanted Message" {
				t.Fatalf("reason %q", d.Reason)
			}
		}},
		{"a failed transaction is not delivered", func(t *testing.T) {
			id := b.send(chat.Message{Content: []byte("no session")})
			m := rp.read()
			fmt.Fprintf(rp.conn, "MSRP %s 481 No Such Session\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n", m.TransactionID, rp.stream, rp.self, m.TransactionID)
			delivered(b, id, chat.DidNotDeliverMessage, 481)
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
		for _, n := range b.seen() {
			if n.Name == sdk.MediaStreamDidFail {
				t.Fatalf("after %q the stream failed: %s", st.name, n.Data)
			}
		}
	}

	// The stream still works after all that.
	tid := rp.sendMessage("good2", "text/plain", []byte("still there?"))
	rp.expect(tid, 200, "good2", 200)
	if m := gotMessage(b).Message; string(m.Content) != "still there?" {
		t.Fatalf("got %q", m.Content)
	}

	// Garbage that is not MSRP at all breaks the connection: the stream
	// fails, reading, and ends cleanly.
	queued := b.send(chat.Message{Content: []byte("never acknowledged")})
	rp.read() // its SEND; left unanswered
	if _, err := rp.conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	var fail sdk.DidFailData
	b.waitData(sdk.MediaStreamDidFail, &fail)
	if fail.Context != "reading" || fail.Reason == "" {
		t.Fatalf("failed with %+v", fail)
	}
	delivered(b, queued, chat.DidNotDeliverMessage, 0)
	b.end()
}

var (
	tidRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+%=-]{3,31}$`)
	idRE  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// normalize writes m with its random parts (transaction id, Message-ID,
// the stream's session id) replaced by placeholders.
func normalize(m *msrp.Message, rp *rawPeer) []byte {
	rp.t.Helper()
	if !tidRE.MatchString(m.TransactionID) || !idRE.MatchString(m.MessageID()) {
		rp.t.Fatalf("transaction id %q or Message-ID %q malformed", m.TransactionID, m.MessageID())
	}
	out := string(m.Marshal())
	out = strings.ReplaceAll(out, m.TransactionID, "TID")
	out = strings.ReplaceAll(out, m.MessageID(), "MESSAGEID")
	out = strings.ReplaceAll(out, rp.stream, "STREAMURI")
	return []byte(out)
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("differs from %s:\n%s\nwant:\n%s", path, got, want)
	}
}
