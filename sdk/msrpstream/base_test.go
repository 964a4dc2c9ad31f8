package msrpstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// waitLimit bounds every wait for a notification; it only turns a hang
// into a failure.
const waitLimit = 20 * time.Second

// newRecorder returns the Recorder a test's stream posts to (handle 0).
func newRecorder() *streamtest.Recorder {
	return streamtest.NewRecorder(streamtest.WithTimeout(waitLimit))
}

// data decodes a notification's data into a T.
func data[T any](t *testing.T, n *sdk.Notification) T {
	t.Helper()
	var v T
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func quietConfig(cfg Config) Config {
	cfg.MSRP.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func newEnv(r *streamtest.Recorder) *sdk.Env {
	return &sdk.Env{Notifier: r, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func account(settings map[string]string) *sdk.Account {
	return &sdk.Account{ID: "alice@example.com", Settings: settings}
}

const sessionHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

var loopback = &sdk.SessionInfo{LocalIP: "127.0.0.1"}

// endpoint is one side of a test session.
type endpoint struct {
	base *Base
	rec  *streamtest.Recorder
	got  chan []byte // bodies of the SEND chunks it received
}

func chatConfig(got chan []byte) Config {
	return quietConfig(Config{
		AcceptTypes:        []string{"message/cpim", "text/*"},
		AcceptWrappedTypes: []string{"text/*"},
		Handler: Handler{Send: func(_ context.Context, c *msrp.Chunk) int {
			body, err := io.ReadAll(c)
			if err != nil || len(body) == 0 {
				return msrp.StatusOK // the binding empty SEND, or a broken read
			}
			got <- body
			return msrp.StatusOK
		}},
	})
}

func mustLocalMedia(t *testing.T, b *Base, req *sdk.GetLocalMediaRequest) string {
	t.Helper()
	resp, err := b.GetLocalMedia(context.Background(), req)
	if err != nil {
		t.Fatalf("GetLocalMedia: %v", err)
	}
	return sessionHead + resp.Media
}

// negotiate runs offer/answer between two new endpoints and starts both.
// It returns them once both posted MediaStreamDidStart.
func negotiate(t *testing.T, offerSettings, answerSettings map[string]string) (offerer, answerer *endpoint) {
	t.Helper()
	og, ag := make(chan []byte, 8), make(chan []byte, 8)
	offerer, answerer = negotiateWith(t, offerSettings, answerSettings, chatConfig(og), chatConfig(ag))
	offerer.got, answerer.got = og, ag
	return offerer, answerer
}

// negotiateWith is negotiate with the stream configurations given.
func negotiateWith(t *testing.T, offerSettings, answerSettings map[string]string, offerCfg, answerCfg Config) (offerer, answerer *endpoint) {
	t.Helper()
	ctx := context.Background()
	offerer = &endpoint{rec: newRecorder()}
	offerer.base = New(newEnv(offerer.rec), account(offerSettings), offerCfg)
	t.Cleanup(func() { _ = offerer.base.End(ctx) })
	if err := offerer.base.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	offer := mustLocalMedia(t, offerer.base, &sdk.GetLocalMediaRequest{ForOffer: true})

	answerer = &endpoint{rec: newRecorder()}
	b, err := NewFromSDP(&sdk.NewFromSDPRequest{Account: account(answerSettings), RemoteSDP: offer}, newEnv(answerer.rec), answerCfg)
	if err != nil {
		t.Fatalf("NewFromSDP(%q): %v", offer, err)
	}
	answerer.base = b
	t.Cleanup(func() { _ = answerer.base.End(ctx) })
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatal(err)
	}
	answerer.rec.WaitFor(t, 0, sdk.MediaStreamDidInitialize)
	answer := mustLocalMedia(t, b, &sdk.GetLocalMediaRequest{RemoteSDP: offer})

	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	if err := offerer.base.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*endpoint{offerer, answerer} {
		if n := e.rec.WaitFor(t, 0, sdk.MediaStreamDidStart); n.Name != sdk.MediaStreamDidStart {
			t.Fatal(n)
		}
		for _, n := range e.rec.Names(0) {
			if n == sdk.MediaStreamDidFail {
				t.Fatalf("unexpected failure: %+v", e.rec.All())
			}
		}
	}
	return offerer, answerer
}

func send(t *testing.T, from, to *endpoint, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	d, err := from.base.Send(ctx, msrp.Outgoing{ContentType: "text/plain", Body: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res, err := d.Wait(ctx); err != nil || res.Code != msrp.StatusOK {
		t.Fatalf("delivery: %+v, %v", res, err)
	}
	select {
	case got := <-to.got:
		if !bytes.Equal(got, []byte(body)) {
			t.Fatalf("received %q, want %q", got, body)
		}
	case <-ctx.Done():
		t.Fatal("message not received")
	}
}

func TestSessionRoles(t *testing.T) {
	tcp := map[string]string{SettingTransport: "tcp"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{SettingTransport: "tcp"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name                   string
		offer, answer          map[string]string
		offerRole, answerRole  Role
		offerSetup, answerSDPs Setup
	}{
		{"relay model: offerer dials", tcp, tcp, Role{Dial, SetupActive}, Role{Listen, SetupPassive}, SetupActive, SetupPassive},
		{"acm offerer listens, answerer dials", with(SettingConnectionModel, "acm"), tcp, Role{Listen, SetupPassive}, Role{Dial, SetupActive}, SetupActPass, SetupActive},
		{"acm both", with(SettingConnectionModel, "acm"), with(SettingConnectionModel, "acm"), Role{Listen, SetupPassive}, Role{Dial, SetupActive}, SetupActPass, SetupActive},
		{"peer to peer", with(SettingPeerToPeer, "true"), with(SettingPeerToPeer, "true"), Role{Dial, SetupActive}, Role{Listen, SetupPassive}, SetupActive, SetupPassive},
		{"relay for outbound without a relay", with(SettingRelayForOutbound, "true"), tcp, Role{Listen, SetupPassive}, Role{Dial, SetupActive}, SetupActPass, SetupActive},
		{"tls with self-signed certificates", map[string]string{}, map[string]string{SettingTransport: "tls"}, Role{Dial, SetupActive}, Role{Listen, SetupPassive}, SetupActive, SetupPassive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, a := negotiate(t, tt.offer, tt.answer)
			if got := o.base.Role(); got != tt.offerRole {
				t.Errorf("offerer role %+v, want %+v", got, tt.offerRole)
			}
			if got := a.base.Role(); got != tt.answerRole {
				t.Errorf("answerer role %+v, want %+v", got, tt.answerRole)
			}
			if got := a.base.Offer().Setup; got != tt.offerSetup {
				t.Errorf("offer a=setup:%s, want %s", got, tt.offerSetup)
			}
			if got := o.base.Remote().Setup; got != tt.answerSDPs {
				t.Errorf("answer a=setup:%s, want %s", got, tt.answerSDPs)
			}
			if !o.base.CPIMEnabled() || !a.base.CPIMEnabled() {
				t.Error("message/cpim on both sides must enable CPIM")
			}
			send(t, o, a, "hello from the offerer")
			send(t, a, o, "hello from the answerer")

			ctx := context.Background()
			for _, e := range []*endpoint{o, a} {
				if err := e.base.Deactivate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, e := range []*endpoint{o, a} {
				if err := e.base.End(ctx); err != nil {
					t.Fatal(err)
				}
				want := []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}
				if got := e.rec.Names(0); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("notifications %v, want %v", got, want)
				}
			}
		})
	}
}

func TestPeerGoneFailsReading(t *testing.T) {
	o, a := negotiate(t, map[string]string{SettingTransport: "tcp"}, map[string]string{SettingTransport: "tcp"})
	if err := a.base.End(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := o.rec.WaitFor(t, 0, sdk.MediaStreamDidFail)
	if d := data[sdk.DidFailData](t, n); d.Context != "reading" || d.Reason == "" {
		t.Fatalf("MediaStreamDidFail data %s, want context reading with a reason", n.Data)
	}
	if _, err := o.base.Send(context.Background(), msrp.Outgoing{ContentType: "text/plain", Body: strings.NewReader("x"), Size: 1}); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("Send after the failure: %v, want ErrIllegalState", err)
	}
	if err := o.base.End(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := o.rec.WaitFor(t, 0, sdk.MediaStreamDidEnd)
	if d := data[sdk.DidEndData](t, end); d.Error != data[sdk.DidFailData](t, n).Reason {
		t.Fatalf("MediaStreamDidEnd error %q, want the failure reason", d.Error)
	}
}

func TestDeactivatedPeerGoneIsNormal(t *testing.T) {
	o, a := negotiate(t, map[string]string{SettingTransport: "tcp"}, map[string]string{SettingTransport: "tcp"})
	ctx := context.Background()
	if err := o.base.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	sess := o.base.Session()
	if err := a.base.End(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sess.Done():
	case <-time.After(waitLimit):
		t.Fatal("the offerer's session did not see the peer go")
	}
	if err := o.base.End(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range o.rec.Names(0) {
		if n == sdk.MediaStreamDidFail {
			t.Fatalf("a deactivated stream reported a failure: %v", o.rec.Names(0))
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

func TestStartFailures(t *testing.T) {
	tcp := map[string]string{SettingTransport: "tcp"}
	tests := []struct {
		name   string
		answer func(port string) string
	}{
		{"nobody listens", func(port string) string {
			return "m=message " + port + " TCP/MSRP *\r\na=path:msrp://127.0.0.1:" + port + "/s1;tcp\r\na=accept-types:text/plain\r\na=setup:passive\r\n"
		}},
		{"answer also active", func(port string) string {
			return "m=message " + port + " TCP/MSRP *\r\na=path:msrp://127.0.0.1:" + port + "/s1;tcp\r\na=accept-types:text/plain\r\na=setup:active\r\n"
		}},
		{"answer over tls", func(port string) string {
			return "m=message " + port + " TCP/TLS/MSRP *\r\na=path:msrps://127.0.0.1:" + port + "/s1;tcp\r\n"
		}},
		{"answer without path", func(port string) string {
			return "m=message " + port + " TCP/MSRP *\r\na=accept-types:text/plain\r\n"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rec := newRecorder()
			b := New(newEnv(rec), account(tcp), quietConfig(Config{AcceptTypes: []string{"text/plain"}}))
			defer b.End(ctx)
			if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
				t.Fatal(err)
			}
			offer := mustLocalMedia(t, b, &sdk.GetLocalMediaRequest{ForOffer: true})
			if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: sessionHead + tt.answer(closedPort(t))}); err != nil {
				t.Fatal(err)
			}
			n := rec.WaitFor(t, 0, sdk.MediaStreamDidFail)
			if d := data[sdk.DidFailData](t, n); d.Context != "start" || d.Reason == "" {
				t.Fatalf("MediaStreamDidFail %#v, want context start with a reason", d)
			}
			if err := b.End(ctx); err != nil {
				t.Fatal(err)
			}
			if got := rec.Names(0); got[len(got)-1] != sdk.MediaStreamDidEnd {
				t.Fatalf("notifications %v do not end with MediaStreamDidEnd", got)
			}
		})
	}
}

func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("end before initialize", func(t *testing.T) {
		rec := newRecorder()
		b := New(newEnv(rec), account(nil), Config{})
		if err := b.End(ctx); err != nil {
			t.Fatal(err)
		}
		n := rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)
		if d := data[sdk.DidNotInitializeData](t, n); d.Reason != "Interrupted" {
			t.Fatalf("reason %q, want Interrupted", d.Reason)
		}
		if err := b.End(ctx); err != nil || len(rec.Names(0)) != 1 {
			t.Fatalf("second End: %v, notifications %v", err, rec.Names(0))
		}
	})
	t.Run("bad transport setting", func(t *testing.T) {
		rec := newRecorder()
		b := New(newEnv(rec), account(map[string]string{SettingTransport: "sctp"}), Config{})
		defer b.End(ctx)
		if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
			t.Fatal(err)
		}
		if d := data[sdk.DidNotInitializeData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)); !strings.Contains(d.Reason, SettingTransport) {
			t.Fatalf("reason %q does not name the setting", d.Reason)
		}
	})
	t.Run("unspecified local address", func(t *testing.T) {
		rec := newRecorder()
		b := New(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), Config{})
		defer b.End(ctx)
		_ = b.Initialize(ctx, &sdk.InitializeRequest{Session: &sdk.SessionInfo{LocalIP: "0.0.0.0"}, Direction: sdk.DirectionOutgoing})
		rec.WaitFor(t, 0, sdk.MediaStreamDidNotInitialize)
	})
	t.Run("calls out of order", func(t *testing.T) {
		b := New(newEnv(newRecorder()), account(nil), Config{})
		defer b.End(ctx)
		if err := b.Start(ctx, &sdk.StartRequest{}); !errors.Is(err, sdk.ErrIllegalState) {
			t.Errorf("Start before Initialize: %v", err)
		}
		if _, err := b.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true}); !errors.Is(err, sdk.ErrIllegalState) {
			t.Errorf("GetLocalMedia before Initialize: %v", err)
		}
		if _, err := b.Send(ctx, msrp.Outgoing{ContentType: "text/plain"}); !errors.Is(err, sdk.ErrIllegalState) {
			t.Errorf("Send before Start: %v", err)
		}
		if attrs, err := b.Attributes(ctx); err != nil || attrs.HoldSupported {
			t.Errorf("Attributes = %+v, %v; MSRP streams do not support hold", attrs, err)
		}
		if r, err := b.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{}); err != nil || !r.OK {
			t.Errorf("ValidateUpdate = %+v, %v; want OK", r, err)
		}
	})
}

func TestNewFromSDPRefuses(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		media    string
		want     error
	}{
		{"other media type", map[string]string{SettingTransport: "tcp"}, "m=application 2855 TCP/MSRP *\r\na=path:msrp://127.0.0.1:2855/s;tcp\r\n", sdk.ErrUnknownStream},
		{"rtp", nil, "m=audio 4000 RTP/AVP 0\r\n", sdk.ErrUnknownStream},
		{"tcp offer, tls account", nil, "m=message 2855 TCP/MSRP *\r\na=path:msrp://127.0.0.1:2855/s;tcp\r\n", sdk.ErrInvalidStream},
		{"no path", map[string]string{SettingTransport: "tcp"}, "m=message 2855 TCP/MSRP *\r\n", sdk.ErrInvalidStream},
		{"bad setting", map[string]string{SettingTransport: "x"}, "m=message 2855 TCP/MSRP *\r\n", sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &sdk.NewFromSDPRequest{Account: account(tt.settings), RemoteSDP: sessionHead + tt.media}
			if _, err := NewFromSDP(req, newEnv(newRecorder()), Config{}); !errors.Is(err, tt.want) {
				t.Fatalf("NewFromSDP error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHandlerMethods(t *testing.T) {
	var got []string
	h := Handler{Methods: map[string]func(context.Context, *msrp.Chunk) int{
		"NICKNAME": func(_ context.Context, c *msrp.Chunk) int { got = append(got, c.Request.Method); return msrp.StatusOK },
	}}.msrp()
	ctx := context.Background()
	if code := h.HandleRequest(ctx, &msrp.Chunk{Request: &msrp.Message{Method: "NICKNAME"}}); code != msrp.StatusOK {
		t.Errorf("NICKNAME answered %d", code)
	}
	if code := h.HandleRequest(ctx, &msrp.Chunk{Request: &msrp.Message{Method: "FILE_OFFSET"}}); code != msrp.StatusNotImplemented {
		t.Errorf("unhandled method answered %d, want 501", code)
	}
	if len(got) != 1 {
		t.Errorf("NICKNAME hook ran %d times", len(got))
	}
	if code := (Handler{}).msrp().HandleRequest(ctx, &msrp.Chunk{Request: &msrp.Message{Method: "NICKNAME"}}); code != msrp.StatusNotImplemented {
		t.Errorf("no hooks: answered %d, want 501", code)
	}
}

// TestDialRetriesUntilPeerWaits forces the race of an actpass offer: the
// answerer connects before the offerer, which learns the answerer's path
// only in Start, has registered the session. The first binding gets 481;
// the answerer must retry and the session come up.
func TestDialRetriesUntilPeerWaits(t *testing.T) {
	ctx := context.Background()
	acm := map[string]string{SettingTransport: "tcp", SettingConnectionModel: "acm"}
	oRec, aRec := newRecorder(), newRecorder()
	o := New(newEnv(oRec), account(acm), chatConfig(make(chan []byte, 1)))
	defer o.End(ctx)
	if err := o.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := mustLocalMedia(t, o, &sdk.GetLocalMediaRequest{ForOffer: true})

	refused := make(chan struct{})
	var once sync.Once
	cfg := chatConfig(make(chan []byte, 1))
	cfg.MSRP.Trace = func(dir msrp.Direction, data []byte) {
		if dir == msrp.Inbound && bytes.Contains(data, []byte(" 481")) {
			once.Do(func() { close(refused) })
		}
	}
	a, err := NewFromSDP(&sdk.NewFromSDPRequest{Account: account(acm), RemoteSDP: offer}, newEnv(aRec), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.End(ctx)
	if err := a.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatal(err)
	}
	answer := mustLocalMedia(t, a, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err := a.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-refused:
	case <-time.After(waitLimit):
		t.Fatal("the early binding was not refused with 481")
	}
	if err := o.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	oRec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	aRec.WaitFor(t, 0, sdk.MediaStreamDidStart)
	if got := a.Role(); got != (Role{Dial, SetupActive}) {
		t.Fatalf("answerer role %+v, want dial/active", got)
	}
}

// TestHooks checks that the vendor's hooks see the session start, the
// incoming message complete, and the REPORT that comes back.
func TestHooks(t *testing.T) {
	tcp := map[string]string{SettingTransport: "tcp"}
	started := make(chan *msrp.Session, 2)
	completed := make(chan *msrp.Completion, 1)
	reported := make(chan *msrp.Report, 1)
	offerCfg := quietConfig(Config{
		AcceptTypes: []string{"text/plain"},
		Handler: Handler{
			Started: func(s *msrp.Session) { started <- s },
			Report:  func(_ context.Context, r *msrp.Report) { reported <- r },
		},
	})
	answerCfg := quietConfig(Config{
		AcceptTypes: []string{"text/plain"},
		Direction:   "recvonly",
		Handler: Handler{
			Started: func(s *msrp.Session) { started <- s },
			Complete: func(_ context.Context, c *msrp.Completion) int {
				if c.Size > 0 {
					completed <- c
				}
				return msrp.StatusOK
			},
		},
	})
	o, a := negotiateWith(t, tcp, tcp, offerCfg, answerCfg)
	for range 2 {
		select {
		case s := <-started:
			if s != o.base.Session() && s != a.base.Session() {
				t.Fatal("Started got a session of neither stream")
			}
		case <-time.After(waitLimit):
			t.Fatal("Started hook not called on both sides")
		}
	}
	if o.base.CPIMEnabled() {
		t.Error("CPIM enabled without message/cpim in accept-types")
	}
	if got := o.base.Remote().Direction; got != "recvonly" {
		t.Errorf("answer direction %q, want the configured recvonly", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	body := "report me"
	d, err := o.base.Send(ctx, msrp.Outgoing{ContentType: "text/plain", Body: strings.NewReader(body), Size: int64(len(body)), SuccessReport: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-completed:
		if c.MessageID != d.MessageID || c.Size != int64(len(body)) || c.Aborted {
			t.Fatalf("Completion %+v for message %s of %d bytes", c, d.MessageID, len(body))
		}
	case <-ctx.Done():
		t.Fatal("Complete hook not called")
	}
	select {
	case r := <-reported:
		if r.MessageID != d.MessageID || r.Status.Code != msrp.StatusOK {
			t.Fatalf("REPORT %+v, want 200 for %s", r, d.MessageID)
		}
	case <-ctx.Done():
		t.Fatal("Report hook not called")
	}
}

// TestHookFailsWhileConnecting: a peer may send as soon as the session is
// bound, before connect has marked the stream started (here before it
// even answered our binding SEND). A hook that fails the stream then gets
// its response to the peer, and the session stays up until End, as after
// any failure, instead of being closed under the hook.
func TestHookFailsWhileConnecting(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	var b *Base
	cfg := quietConfig(Config{
		AcceptTypes: []string{"text/plain"},
		Handler: Handler{Send: func(_ context.Context, c *msrp.Chunk) int {
			if c.ContentType == "message/cpim" {
				b.Fail("reading", "no CPIM here")
				c.ResponseComment = "Invalid Content-Type"
				return msrp.StatusUnsupportedMedia
			}
			return msrp.StatusOK
		}},
	})
	b = New(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), cfg)
	defer b.End(ctx)
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := mustLocalMedia(t, b, &sdk.GetLocalMediaRequest{ForOffer: true})
	p := newRawPeer(t)
	answer := sessionHead + fmt.Sprintf("m=message %d TCP/MSRP *\r\na=path:%s\r\na=accept-types:text/plain\r\na=setup:passive\r\n", p.uri.Port, p.uri)
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}

	bind := p.take(t)
	p.request(t, "tidcpim001", "SEND", []string{"Message-ID: m1", "Byte-Range: 1-5/5"}, "message/cpim", "hello")
	if m := p.next(t); m.TransactionID != "tidcpim001" || m.StatusCode != msrp.StatusUnsupportedMedia {
		t.Fatalf("answer to the CPIM SEND: %q, want 415", m.Marshal())
	}
	p.okBind(t, bind)
	if d := data[sdk.DidFailData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidFail)); d.Context != "reading" || d.Reason != "no CPIM here" {
		t.Fatalf("MediaStreamDidFail %+v", d)
	}

	// connect has taken the bound session once Session reports it.
	for deadline := time.Now().Add(waitLimit); b.Session() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the session bound while the stream failed was not kept")
		}
	}
	p.request(t, "tidkeep001", "SEND", nil, "", "")
	if m := p.next(t); m.TransactionID != "tidkeep001" || m.StatusCode != msrp.StatusOK {
		t.Fatalf("answer to a keep-alive after the failure: %q, want 200", m.Marshal())
	}
	if names := rec.Names(0); slices.Contains(names, sdk.MediaStreamDidStart) {
		t.Fatalf("a stream failed while connecting started: %v", names)
	}
	if err := b.End(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.r.ReadMessage(1 << 20); !errors.Is(err, io.EOF) {
		t.Fatalf("after End the peer read %v, want EOF", err)
	}
}
