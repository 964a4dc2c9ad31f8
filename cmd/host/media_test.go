package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/internal/sipptest"
)

var (
	mediaOnce sync.Once
	mediaDir  string // removed by TestMain
	mediaErr  error
)

// mediaPlugins builds the chat, audio and file transfer plugins into a plugin directory
// of their own, once for all tests (the flow tests keep to echo).
func mediaPlugins(t *testing.T) string {
	t.Helper()
	mediaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipstreams-media-plugins-")
		if err != nil {
			mediaErr = err
			return
		}
		for name, pkg := range map[string]string{
			"chat":         "github.com/sipstreams/sipstreams/plugins/chat",
			"audio":        "github.com/sipstreams/sipstreams/plugins/audio",
			"filetransfer": "github.com/sipstreams/sipstreams/plugins/filetransfer",
		} {
			if _, err := plugintest.Build(dir, name, pkg); err != nil {
				mediaErr = err
				os.RemoveAll(dir)
				return
			}
		}
		mediaDir = dir
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return mediaDir
}

// startMediaListener starts `listen --auto-answer` with the media plugins
// and returns it with the URI that reaches it.
func startMediaListener(t *testing.T, f *flow, extra ...string) string {
	t.Helper()
	args := append([]string{"listen", "--json", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--user", "bob", "--plugin-dir", mediaPlugins(t)}, extra...)
	f.l = startProc(t, "listener", args...)
	first := f.awaitName(f.l, "listening")
	return fmt.Sprintf("sip:bob@127.0.0.1:%d", first.Port)
}

// quit ends the auto-answering listener with /quit (it keeps running at
// the end of stdin), which must exit 0.
func (f *flow) quit() {
	f.t.Helper()
	f.send(f.l, "/quit")
	if err := f.waitExit(f.l); err != nil {
		f.fatalf("listener exit: %v", err)
	}
	if f.failed {
		f.t.Log(f.dump())
	}
}

// chatContent waits for the next ChatStreamGotMessage of p and checks its
// content.
func (f *flow) chatContent(p *proc, want string) {
	f.t.Helper()
	l := f.awaitName(p, "ChatStreamGotMessage")
	if got := fmt.Sprint(l.Data["content"]); got != want {
		f.t.Errorf("%s got message %q, want %q", p.who, got, want)
		f.failed = true
	}
}

// TestChatMessage: `sipstreams message` sends two messages in a session
// of its own, waits for their delivery reports and exits 0; the listener
// prints both, in order.
func TestChatMessage(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f)
	f.c = startProc(t, "sender", "message", uri, "hello bob", "second line", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("message exit: %v", err)
	}
	f.chatContent(f.l, "hello bob")
	f.chatContent(f.l, "second line")
	if n := len(sessionNames(f.c.seen)); n == 0 {
		f.t.Errorf("the sender printed no session notification")
	}
	f.data(f.c, "ChatStreamDidDeliverMessage", 0, map[string]any{"code": 200})
	f.data(f.c, "ChatStreamDidDeliverMessage", 1, map[string]any{"code": 200})
	f.awaitName(f.l, "SIPSessionDidEnd")
	f.quit()
}

// TestChatConsole: `call --chat` and `listen` as chat consoles: a typed
// line is a message, /composing an is-composing indication, both ways.
func TestChatConsole(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f)
	f.c = startProc(t, "caller", "call", uri, "--chat", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	f.awaitName(f.c, "SIPSessionDidStart")
	f.awaitName(f.l, "SIPSessionDidStart")
	f.send(f.c, "hi there")
	f.chatContent(f.l, "hi there")
	f.send(f.l, "back at you")
	f.chatContent(f.c, "back at you")
	f.send(f.c, "/composing")
	l := f.awaitName(f.l, "ChatStreamGotComposingIndication")
	if l.Data["state"] != "active" {
		f.t.Errorf("composing state %v, want active", l.Data["state"])
	}
	f.send(f.c, "/msg with a command")
	f.chatContent(f.l, "with a command")
	f.endByCaller()
	f.quit()
}

// TestChatBeforeStart: text typed while the session is still starting
// (here ringing at the listener, not yet accepted) is queued on the chat
// stream being set up, and delivered once the session started.
func TestChatBeforeStart(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f)
	f.c = startProc(t, "caller", "call", uri, "--chat", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	f.awaitName(f.l, "SIPSessionNewIncoming")
	f.send(f.l, "before the answer")
	f.await(f.l, "the message queued", func(l jsonLine) bool {
		return l.Name == "message_queued" && l.Content == "before the answer"
	})
	f.send(f.l, "/accept")
	f.chatContent(f.c, "before the answer")
	f.endByCaller()
	f.quit()
}

// msrpConfig writes a config dir whose peer-to-peer account (the one both
// sides use) carries MSRP over transport: the account's setting, as the
// reference's Bonjour account fixes msrp.transport to tls by default.
func msrpConfig(t *testing.T, transport string) string {
	t.Helper()
	dir := t.TempDir()
	conf := "accounts:\n    bonjour@local:\n        msrp:\n            transport = " + transport + "\n"
	if err := os.WriteFile(dir+"/config", []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// renegotiated waits for p's SIPSessionDidRenegotiateStreams that added
// (or removed) typ.
func (f *flow) renegotiated(p *proc, key, typ string) {
	f.t.Helper()
	f.await(p, key+" "+typ, func(l jsonLine) bool {
		return l.Name == "SIPSessionDidRenegotiateStreams" && fmt.Sprint(l.Data[key]) == "["+typ+"]"
	})
}

// TestChatAddedToAudioSession: a chat stream is added to a running audio
// session by re-INVITE, carries messages, and is removed again — proposed
// by the caller (the auto-answering listener accepts), then by the callee
// (the caller accepts with /accept-proposal). The audio stream stays.
func TestChatAddedToAudioSession(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run("msrp over "+transport, func(t *testing.T) {
			dir := msrpConfig(t, transport)
			f := &flow{t: t, tc: udp4}
			uri := startMediaListener(t, f, "--config-dir", dir)
			f.c = startProc(t, "caller", "call", uri, "--audio", "--json", "--trace-sip", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", dir)
			f.awaitName(f.c, "SIPSessionDidStart")
			f.awaitName(f.l, "SIPSessionDidStart")

			// Added and removed by the caller.
			f.send(f.c, "/add chat")
			f.renegotiated(f.c, "added_streams", "chat")
			f.renegotiated(f.l, "added_streams", "chat")
			f.send(f.c, "hello over chat")
			f.chatContent(f.l, "hello over chat")
			f.send(f.l, "and back")
			f.chatContent(f.c, "and back")
			f.send(f.c, "/remove chat")
			f.renegotiated(f.c, "removed_streams", "chat")
			f.renegotiated(f.l, "removed_streams", "chat")

			// The chat m-line of the caller's re-INVITE has the transport.
			proto := map[string]string{"tcp": " TCP/MSRP *", "tls": " TCP/TLS/MSRP *"}[transport]
			sawProto := false
			for _, l := range f.c.seen {
				if l.Name == "SIPEngineSIPTrace" && strings.Contains(fmt.Sprint(l.Data["data"]), "m=message ") {
					sawProto = sawProto || strings.Contains(fmt.Sprint(l.Data["data"]), proto)
				}
			}
			if !sawProto {
				f.t.Errorf("no chat m-line with%s in the caller's SIP trace", proto)
			}

			// Added and removed by the callee.
			f.send(f.l, "/add chat")
			f.awaitName(f.c, "SIPSessionNewProposal")
			f.send(f.c, "/accept-proposal")
			f.renegotiated(f.c, "added_streams", "chat")
			f.renegotiated(f.l, "added_streams", "chat")
			f.send(f.l, "hi from bob")
			f.chatContent(f.c, "hi from bob")
			f.send(f.l, "/remove chat")
			f.renegotiated(f.l, "removed_streams", "chat")
			f.renegotiated(f.c, "removed_streams", "chat")

			// The audio stream is still there.
			f.send(f.c, "/stats")
			if l := f.awaitName(f.c, "statistics"); l.Statistics == nil {
				f.t.Errorf("no audio statistics after the chat stream left: %+v", l)
			}
			f.endByCaller()
			f.quit()
		})
	}
}

// TestAudioCommand: the audio plugin's devices and alert sounds from the
// command line (plugin-scope methods through the registry).
func TestAudioCommand(t *testing.T) {
	dir := mediaPlugins(t)
	code, out, errs := runCLI(t, "audio", "devices", "--json", "--plugin-dir", dir)
	if code != 0 || !strings.Contains(out, `"id":"system_default"`) || !strings.Contains(out, `"id":"none"`) {
		t.Errorf("audio devices: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "audio", "tones", "440:100,0:50,1000+500:100", "--plugin-dir", dir); code != 0 {
		t.Errorf("audio tones: exit %d: %s", code, errs)
	}
	for _, bad := range []string{"440", "x:100", "440:0", "440+y:100"} {
		if code, _, errs := runCLI(t, "audio", "tones", bad, "--plugin-dir", dir); code != 2 || !strings.Contains(errs, "audio tones") {
			t.Errorf("audio tones %q: exit %d, stderr %q", bad, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "audio", "play", "/nonexistent.wav", "--plugin-dir", dir); code != 1 || !strings.Contains(errs, "nonexistent") {
		t.Errorf("audio play of a missing file: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := runCLI(t, "audio", "devices", "--plugin-dir", t.TempDir()); code != 1 || !strings.Contains(errs, `"audio" stream type`) {
		t.Errorf("audio without the plugin: exit %d, stderr %q", code, errs)
	}
}

// TestChatBadPeerSparesOtherSessions: one host answers two chat sessions.
// The MSRP peer of one (sipp for SIP, the test by hand for MSRP: it
// connects to the path of the host's answer, as peer-to-peer offerers do,
// binds, then sends bytes that are not MSRP) breaks its stream: the stream
// fails (MediaStreamDidFail), its session ends with a BYE, and the other
// session, served by the same chat plugin process, goes on chatting.
func TestChatBadPeerSparesOtherSessions(t *testing.T) {
	dir := msrpConfig(t, "tcp")
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--config-dir", dir, "--trace-sip")
	f.c = startProc(t, "caller", "call", uri, "--chat", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", dir)
	f.awaitName(f.c, "SIPSessionDidStart")
	f.send(f.c, "before")
	f.chatContent(f.l, "before")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const rawPath = "msrp://127.0.0.1:2855/rawpeer0001;tcp" // what the offer announces
	sipp := sipptest.Start(t, ctx, sipptest.Options{Scenario: "testdata/uac_msrp_peer.xml", Remote: strings.TrimPrefix(uri, "sip:bob@"),
		Vars: map[string]string{"msrp_port": "2855"}})
	pathRe := regexp.MustCompile(`a=path:(msrp://([^/\s]+)/[^\s]+)`)
	var hostPath, hostAddr string
	f.await(f.l, "the 200 answering sipp's chat offer", func(l jsonLine) bool {
		data := fmt.Sprint(l.Data["data"])
		if l.Name != "SIPEngineSIPTrace" || l.Data["direction"] != "sent" || !strings.HasPrefix(data, "SIP/2.0 200") || !strings.Contains(data, "rawpeer0001") && !strings.Contains(data, "m=message") {
			return false
		}
		m := pathRe.FindStringSubmatch(data)
		if m == nil || !strings.Contains(data, "From: \"raw\"") && !strings.Contains(data, "sip:raw@") {
			return false
		}
		hostPath, hostAddr = m[1], m[2]
		return true
	})
	conn, err := net.DialTimeout("tcp", hostAddr, flowWait)
	if err != nil {
		f.fatalf("connecting to the host's MSRP path %s: %v", hostPath, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(flowWait))
	fmt.Fprintf(conn, "MSRP rawbind1 SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: bind1\r\nByte-Range: 1-0/0\r\n-------rawbind1$\r\n", hostPath, rawPath)
	buf := make([]byte, 4096)
	if n, err := conn.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "MSRP rawbind1 200") {
		f.fatalf("the host's answer to the binding SEND: %q %v", buf[:n], err)
	}
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	fail := f.await(f.l, "the attacked stream's failure", func(l jsonLine) bool { return l.Name == "MediaStreamDidFail" })
	if fail.Data["context"] != "reading" {
		f.t.Errorf("MediaStreamDidFail %+v, want context reading", fail.Data)
	}
	if r := sipp.Wait(); r.Successful != 1 || r.Failed != 0 {
		f.t.Errorf("the attacked session did not end with a BYE: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
	}
	end := f.await(f.l, "the attacked session's end", func(l jsonLine) bool {
		return l.Name == "SIPSessionDidEnd" && strings.HasPrefix(fmt.Sprint(l.Data["end_reason"]), "chat media stream failed")
	})
	if end.Data["originator"] != "local" {
		f.t.Errorf("the attacked session's end: %+v", end.Data)
	}
	// The other session is untouched.
	f.send(f.c, "after")
	f.chatContent(f.l, "after")
	for range 2 {
		f.await(f.c, "a delivery report", func(l jsonLine) bool {
			return l.Name == "ChatStreamDidDeliverMessage" && fmt.Sprint(l.Data["code"]) == "200"
		})
	}
	f.endByCaller()
	f.quit()
}

// TestChatPlainAndCPIM: chat.prefer_cpim decides, between two hosts,
// whether a message without metadata travels wrapped in Message/CPIM (the
// default, as the reference) or bare; the listener's MSRP trace
// (logs.trace_msrp) shows which, and the message arrives either way.
func TestChatPlainAndCPIM(t *testing.T) {
	for _, tc := range []struct {
		prefer, want, not string
	}{{"yes", "Content-Type: message/cpim", "Content-Type: text/plain"}, {"no", "Content-Type: text/plain", "Content-Type: message/cpim"}} {
		t.Run("prefer_cpim="+tc.prefer, func(t *testing.T) {
			dir := t.TempDir()
			conf := "chat:\n    prefer_cpim = " + tc.prefer + "\nlogs:\n    trace_msrp = yes\n"
			if err := os.WriteFile(dir+"/config", []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			f := &flow{t: t, tc: udp4}
			uri := startMediaListener(t, f, "--config-dir", dir)
			f.c = startProc(t, "sender", "message", uri, "wrapped or not", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", dir)
			if err := f.waitExit(f.c); err != nil {
				f.fatalf("message exit: %v", err)
			}
			f.chatContent(f.l, "wrapped or not")
			var sends []string
			for _, l := range f.l.seen {
				if d := fmt.Sprint(l.Data["data"]); l.Name == "MSRPTransportTrace" && l.Data["direction"] == "incoming" && strings.Contains(d, " SEND\r\n") && strings.Contains(d, "wrapped or not") {
					sends = append(sends, d)
				}
			}
			if len(sends) == 0 {
				f.fatalf("no incoming SEND in the listener's MSRP trace")
			}
			for _, d := range sends {
				// The SEND's own Content-Type is the first one.
				if i, j := strings.Index(d, tc.want), strings.Index(d, tc.not); i < 0 || (j >= 0 && j < i) {
					f.t.Errorf("the SEND is not %q first:\n%s", tc.want, d)
				}
			}
			f.awaitName(f.l, "SIPSessionDidEnd")
			f.quit()
		})
	}
}

// TestDemoMediaTypes: `sipstreams demo` calls with the audio and chat
// types too, and ends the session without a stream failing (both sides
// deactivate before either ends).
func TestDemoMediaTypes(t *testing.T) {
	code, out, errs := runCLI(t, "demo", "--plugin-dir", mediaPlugins(t))
	if code != 0 {
		t.Fatalf("code %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{"== audio stream", "== chat stream", "== file-transfer stream", "alice's audio MediaStreamDidStart", "alice's chat MediaStreamDidStart",
		"alice's file-transfer MediaStreamDidStart", "bob saved it as", "verified hash sha-1:", "bob's session SIPSessionDidEnd", "MediaStreamDidEnd"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "DidFail") {
		t.Errorf("a stream failed in the demo:\n%s", out)
	}
}
