package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// largeText is a chat message of 10,000 bytes, longer than the 2,048
// bytes of an MSRP chunk.
func largeText() string {
	var b strings.Builder
	for i := 0; b.Len() < 10000; i++ {
		fmt.Fprintf(&b, "line %04d of a long message. ", i)
	}
	return b.String()[:10000]
}

var byteRangeRe = regexp.MustCompile(`Byte-Range: (\d+)-(\d+|\*)/(\d+)`)

// TestChatLargeMessage: a chat message of 10,000 bytes between two
// peer-to-peer hosts (MSRP over TLS, self-signed certificates announced by
// a=fingerprint both ways) travels as one SEND, arrives whole, and is
// reported delivered once.
func TestChatLargeMessage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/config", []byte("logs:\n    trace_msrp = yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := largeText()
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--config-dir", dir, "--trace-sip")
	f.c = startProc(t, "sender", "message", uri, text, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("message exit: %v", err)
	}
	// The chat plugin's notification and the session's end reach the
	// listener's output by different paths (the plugin's notification
	// stream, the session's loop): either may be printed first.
	gotMessage, ended := false, false
	f.await(f.l, "ChatStreamGotMessage and SIPSessionDidEnd", func(l jsonLine) bool {
		switch l.Name {
		case "ChatStreamGotMessage":
			gotMessage = true
			if got := fmt.Sprint(l.Data["content"]); got != text {
				f.t.Errorf("listener got message %q, want the %d bytes sent", got, len(text))
				f.failed = true
			}
		case "SIPSessionDidEnd":
			ended = true
		}
		return gotMessage && ended
	})

	delivered, notDelivered := 0, 0
	for _, l := range f.c.seen {
		switch l.Name {
		case "ChatStreamDidDeliverMessage":
			delivered++
		case "ChatStreamDidNotDeliverMessage":
			notDelivered++
		}
	}
	if delivered != 1 || notDelivered != 0 {
		f.t.Errorf("the sender printed %d ChatStreamDidDeliverMessage and %d ChatStreamDidNotDeliverMessage, want 1 and 0", delivered, notDelivered)
	}
	f.data(f.c, "ChatStreamDidDeliverMessage", 0, map[string]any{"code": 200})

	// One SEND: the listener's MSRP trace has one Byte-Range for the
	// message, 1-N/N.
	var in strings.Builder
	var sipIn, sipOut string
	for _, l := range f.l.seen {
		d := fmt.Sprint(l.Data["data"])
		switch {
		case l.Name == "MSRPTransportTrace" && l.Data["direction"] == "incoming":
			in.WriteString(d)
		case l.Name == "SIPEngineSIPTrace" && strings.HasPrefix(d, "INVITE ") && strings.Contains(d, "m=message "):
			sipIn = d
		case l.Name == "SIPEngineSIPTrace" && strings.HasPrefix(d, "SIP/2.0 200") && strings.Contains(d, "m=message "):
			sipOut = d
		}
	}
	var ranges []string
	for _, m := range byteRangeRe.FindAllStringSubmatch(in.String(), -1) {
		if total, _ := strconv.Atoi(m[3]); total >= len(text) {
			ranges = append(ranges, m[0])
			if m[1] != "1" || m[2] != m[3] {
				f.t.Errorf("the message came as %s, not as one chunk", m[0])
			}
		}
	}
	if len(ranges) != 1 {
		f.t.Errorf("the message came in %d SENDs (%v), want 1", len(ranges), ranges)
	}
	// Both hosts announced their certificates.
	for what, sdp := range map[string]string{"offer": sipIn, "answer": sipOut} {
		if !strings.Contains(sdp, " TCP/TLS/MSRP *") || !regexp.MustCompile(`a=fingerprint:sha-256 [0-9A-F:]{95}\r\n`).MatchString(sdp) {
			f.t.Errorf("the chat %s has no TLS m-line with a=fingerprint:\n%s", what, sdp)
		}
	}
	f.failed = f.failed || t.Failed()
	f.quit()
}

// TestChatPartlyRefusedMessage: the same 10,000-byte message to an MSRP
// peer (sipp for SIP, sdk/msrp for MSRP) that confirms its first 2,048
// bytes and refuses the rest with 413 is reported not delivered with the
// peer's code, and `message` exits 1.
func TestChatPartlyRefusedMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	text := largeText()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := msrp.Listen(ctx, "127.0.0.1:0", msrp.Config{KeepAliveInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer := l.URI("rawpeer0001")
	type chunk struct {
		rng  msrp.ByteRange
		size int
		flag byte
	}
	chunks := make(chan chunk, 16)
	var sess *msrp.Session
	bound := make(chan struct{})
	acc, err := l.Prepare(msrp.SessionOptions{Local: peer, Remote: []msrp.URI{{Host: "127.0.0.1", Port: 1, Transport: "tcp"}}, Handler: msrp.HandlerFuncs{
		Chunk: func(_ context.Context, c *msrp.Chunk) int {
			b, _ := io.ReadAll(c)
			if len(b) == 0 {
				return msrp.StatusOK // the binding SEND
			}
			chunks <- chunk{c.Range, len(b), c.Flag()}
			<-bound
			// The first 2,048 bytes are fine, the rest is not.
			total := c.Range.Total
			_ = sess.SendReport(c.Request, msrp.ByteRange{Start: 1, End: 2048, Total: total}, msrp.StatusOK, "OK")
			_ = sess.SendReport(c.Request, msrp.ByteRange{Start: 2049, End: total, Total: total}, msrp.StatusStopSending, "Stop Sending")
			return msrp.StatusOK
		},
		// No success REPORT for the whole: the message failed.
		Complete: func(_ context.Context, c *msrp.Completion) int {
			c.ReportComment = "Stop Sending"
			return msrp.StatusStopSending
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "testdata/uas_msrp_peer.xml", Vars: map[string]string{"msrp_port": strconv.Itoa(peer.Port)}})
	f := &flow{t: t, tc: udp4}
	f.c = startProc(t, "sender", "message", fmt.Sprintf("sip:raw@127.0.0.1:%d", uas.Port()), text, "--json", "--user", "alice",
		"--plugin-dir", mediaPlugins(t), "--config-dir", msrpConfig(t, "tcp"))
	if sess, err = acc.Accept(ctx); err != nil {
		f.fatalf("the host did not bind its MSRP session: %v", err)
	}
	close(bound)
	err = f.waitExit(f.c)
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		f.t.Errorf("message exit: %v, want exit code 1", err)
	}
	f.data(f.c, "ChatStreamDidNotDeliverMessage", 0, map[string]any{"code": 413, "reason": "Stop Sending"})
	for _, l := range f.c.seen {
		if l.Name == "ChatStreamDidDeliverMessage" {
			f.t.Errorf("reported delivered: %v", l.Data)
		}
	}
	select {
	case c := <-chunks:
		if c.rng.Start != 1 || c.rng.End != c.rng.Total || c.size < len(text) || int64(c.size) != c.rng.Total || c.flag != msrp.FlagEnd {
			f.t.Errorf("the message came as %+v, not as one SEND", c)
		}
	default:
		f.t.Error("the peer received no message")
	}
	if len(chunks) != 0 {
		f.t.Errorf("%d more chunks after the first", len(chunks))
	}
	if r := uas.Wait(); r.Successful != 1 || r.Failed != 0 {
		f.t.Errorf("sipp: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
	}
	if t.Failed() {
		t.Log(f.dump())
	}
}

// TestChatFingerprintChecked: the peer-to-peer host that answers a chat
// offer over TLS checks the certificate of the connection that binds the
// session against the offer's a=fingerprint. The test plays the caller
// (sipp for SIP, sdk/msrp for MSRP, a self-signed certificate): announcing
// its certificate it is let in, and authenticates the host by the answer's
// a=fingerprint; announcing another one it is refused (403) and the
// host's stream fails with the mismatch as reason.
func TestChatFingerprintChecked(t *testing.T) {
	for _, tc := range []struct {
		name  string
		match bool
	}{{"announced certificate", true}, {"another certificate", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			mine, _, err := msrpstream.TLSSettings(nil)
			if err != nil {
				t.Fatal(err)
			}
			other, _, err := msrpstream.TLSSettings(nil)
			if err != nil {
				t.Fatal(err)
			}
			announced := msrpstream.NewFingerprint(mine.Certificates[0].Certificate[0])
			if !tc.match {
				announced = msrpstream.NewFingerprint(other.Certificates[0].Certificate[0])
			}
			// Where we say we are; the host connects nowhere (it listens).
			self := msrp.URI{Secure: true, Host: "127.0.0.1", Port: 2855, SessionID: "rawpeer0001", Transport: "tcp"}

			f := &flow{t: t, tc: udp4}
			uri := startMediaListener(t, f, "--trace-sip")
			sipp := sipptest.Start(t, ctx, sipptest.Options{Scenario: "testdata/uac_msrps_peer.xml", Remote: strings.TrimPrefix(uri, "sip:bob@"),
				Vars: map[string]string{"msrp_port": strconv.Itoa(self.Port), "fingerprint": announced.String()}})
			var hostPath msrp.URI
			var hostFP []msrpstream.Fingerprint
			f.await(f.l, "the 200 answering sipp's chat offer", func(l jsonLine) bool {
				data := fmt.Sprint(l.Data["data"])
				if l.Name != "SIPEngineSIPTrace" || l.Data["direction"] != "sent" || !strings.HasPrefix(data, "SIP/2.0 200") || !strings.Contains(data, "m=message ") {
					return false
				}
				body := data[strings.Index(data, "\r\n\r\n")+4:]
				m, err := msrpstream.ParseMediaAt(body, 0, msrpstream.TransportTLS)
				if err != nil {
					f.fatalf("the host's answer: %v", err)
				}
				hostPath, hostFP = m.Path[0], m.Fingerprints
				return true
			})
			// We connect, as a=setup:active said, and check the host's
			// certificate against its a=fingerprint.
			client := mine.Clone()
			client.InsecureSkipVerify = true
			client.VerifyConnection = func(cs tls.ConnectionState) error { return msrpstream.CheckPeer(hostFP, cs.PeerCertificates) }
			cfg := msrp.Config{TLSConfig: client, KeepAliveInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			c, err := msrp.DialConn(ctx, hostPath.Addr(), true, cfg)
			if err != nil {
				f.fatalf("connecting to the host's %s: %v", hostPath, err)
			}
			defer c.Close()
			s, err := c.Bind(ctx, msrp.SessionOptions{Local: self, Remote: []msrp.URI{hostPath}})
			if tc.match {
				if err != nil {
					f.fatalf("binding with the announced certificate: %v", err)
				}
				if _, err := s.SendMessage(ctx, "text/plain", []byte("authenticated")); err != nil {
					f.fatalf("sending: %v", err)
				}
				f.chatContent(f.l, "authenticated")
				f.send(f.l, "/end")
			} else {
				var be *msrp.BindError
				if !errors.As(err, &be) || be.Code != msrp.StatusForbidden {
					f.fatalf("binding with another certificate: %v, want a 403", err)
				}
				fail := f.awaitName(f.l, "MediaStreamDidFail")
				if r := fmt.Sprint(fail.Data["reason"]); !strings.Contains(r, "does not match its a=fingerprint") || !strings.Contains(r, announced.String()) {
					f.t.Errorf("MediaStreamDidFail reason %q, want the mismatch with %s", r, announced)
				}
				// The session fails while starting, as the reference's
				// does when a stream fails then, and hangs up.
				end := f.awaitName(f.l, "SIPSessionDidFail")
				if r := fmt.Sprint(end.Data["failure_reason"]); !strings.Contains(r, "does not match its a=fingerprint") {
					f.t.Errorf("SIPSessionDidFail %v, want the mismatch as reason", end.Data)
				}
			}
			if tc.match {
				f.awaitName(f.l, "SIPSessionDidEnd")
			}
			if r := sipp.Wait(); r.Successful != 1 || r.Failed != 0 {
				f.t.Errorf("sipp: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
			}
			f.failed = f.failed || t.Failed()
			f.quit()
		})
	}
}

// TestChatFingerprintCheckedByCaller: the peer-to-peer host that calls
// checks the certificate of the MSRP peer it connects to against the
// answer's a=fingerprint. The test plays the callee (sipp for SIP, an
// sdk/msrp listener with a self-signed certificate): announcing its
// certificate, the message is delivered; announcing another one, the
// host's stream fails with the mismatch as reason and `message` exits 1.
func TestChatFingerprintCheckedByCaller(t *testing.T) {
	for _, tc := range []struct {
		name  string
		match bool
	}{{"announced certificate", true}, {"another certificate", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, mine, err := msrpstream.TLSSettings(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, other, err := msrpstream.TLSSettings(nil)
			if err != nil {
				t.Fatal(err)
			}
			announced := msrpstream.NewFingerprint(mine.Certificates[0].Certificate[0])
			if !tc.match {
				announced = msrpstream.NewFingerprint(other.Certificates[0].Certificate[0])
			}
			l, err := msrp.Listen(ctx, "127.0.0.1:0", msrp.Config{TLSConfig: mine, KeepAliveInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			peer := l.URI("rawpeer0001")
			got := make(chan string, 1)
			acc, err := l.Prepare(msrp.SessionOptions{Local: peer, Remote: []msrp.URI{{Secure: true, Host: "127.0.0.1", Port: 1, Transport: "tcp"}}, Handler: msrp.HandlerFuncs{
				Chunk: func(_ context.Context, c *msrp.Chunk) int {
					if b, _ := io.ReadAll(c); len(b) > 0 {
						got <- string(b)
					}
					return msrp.StatusOK
				},
			}})
			if err != nil {
				t.Fatal(err)
			}
			uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "testdata/uas_msrps_peer.xml",
				Vars: map[string]string{"msrp_port": strconv.Itoa(peer.Port), "fingerprint": announced.String()}})
			f := &flow{t: t, tc: udp4}
			f.c = startProc(t, "sender", "message", fmt.Sprintf("sip:raw@127.0.0.1:%d", uas.Port()), "over tls", "--json", "--user", "alice",
				"--plugin-dir", mediaPlugins(t))
			err = f.waitExit(f.c)
			if tc.match {
				if err != nil {
					f.fatalf("message exit: %v", err)
				}
				if s, err := acc.Accept(ctx); err != nil {
					f.t.Errorf("Accept: %v", err)
				} else {
					s.Close()
				}
				if body := <-got; !strings.Contains(body, "over tls") {
					f.t.Errorf("the peer got %q", body)
				}
				f.data(f.c, "ChatStreamDidDeliverMessage", 0, map[string]any{"code": 200})
			} else {
				var ee interface{ ExitCode() int }
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					f.t.Errorf("message exit: %v, want exit code 1", err)
				}
				var reason string
				for _, l := range f.c.seen {
					if l.Name == "MediaStreamDidFail" {
						reason = fmt.Sprint(l.Data["reason"])
					}
				}
				if !strings.Contains(reason, "does not match its a=fingerprint") || !strings.Contains(reason, announced.String()) {
					f.t.Errorf("MediaStreamDidFail reason %q, want the mismatch with %s", reason, announced)
				}
			}
			if r := uas.Wait(); r.Successful != 1 || r.Failed != 0 {
				f.t.Errorf("sipp: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
			}
			if t.Failed() {
				t.Log(f.dump())
			}
		})
	}
}
