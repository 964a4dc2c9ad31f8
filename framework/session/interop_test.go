package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/internal/sipptest"
	"github.com/sipstreams/sipstreams/sdk"
)

// autoAnswer makes h accept every incoming session with all its streams.
func autoAnswer(t testing.TB, h *host) {
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, d := n.Sender.(*Session), n.Data.(NewIncomingData)
		go func() {
			_ = s.SendRingIndication()
			if err := s.Accept(d.Streams); err != nil {
				t.Errorf("Accept: %v", err)
			}
		}()
	}), SIPSessionNewIncoming, nil)
	t.Cleanup(unsub)
}

func (h *host) addr() string {
	a := h.eng.Addrs()[0]
	return fmt.Sprintf("%s:%d", a.IP, a.Port)
}

func sippOK(t *testing.T, what string, r sipptest.Result) {
	t.Helper()
	if r.Successful != 1 || r.Failed != 0 {
		t.Errorf("%s: sipp %d successful, %d failed (exit %d)\n%s", what, r.Successful, r.Failed, r.ExitCode, r.Errors)
	}
}

// TestInteropSippCallsHost: sipp's UAC calls our host, which answers; sipp
// hangs up. Then sipp re-INVITEs us on hold and off hold.
func TestInteropSippCallsHost(t *testing.T) {
	h := newHost(t, "host")
	autoAnswer(t, h)
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sippOK(t, "uac_echo", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo.xml", Remote: h.addr()}))
	waitFor(t, rec, SIPSessionDidEnd)
	sippOK(t, "uac_echo_hold", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo_hold.xml", Remote: h.addr()}))
	var holds []HoldStateData
	err := rec.Wait(ctx, func([]notify.Notification) bool { holds = holdEvents(rec); return len(holds) >= 2 })
	if err != nil || holds[0] != (HoldStateData{Originator: Remote, OnHold: true}) || holds[1] != (HoldStateData{Originator: Remote, OnHold: false}) {
		t.Errorf("hold changes seen: %+v (%v)", holds, err)
	}
}

// TestInteropHostCallsSipp: our host calls sipp's UAS, then holds and
// unholds it, then hangs up.
func TestInteropHostCallsSipp(t *testing.T) {
	for _, scenario := range []string{"uas_echo.xml", "uas_hold.xml"} {
		t.Run(scenario, func(t *testing.T) {
			h := newHost(t, "host")
			rec := sessionRecorder(t, h)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: scenario})
			st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
			if err != nil {
				t.Fatal(err)
			}
			s := h.mgr.NewSession()
			to := sip.Uri{Scheme: "sip", User: "sipp", Host: "127.0.0.1", Port: uas.Port()}
			route := engine.Route{Address: "127.0.0.1", Port: uas.Port(), Transport: engine.TransportUDP}
			if err := s.Connect(ctx, to, []engine.Route{route}, []Stream{st}, ""); err != nil {
				t.Fatal(err)
			}
			waitFor(t, rec, SIPSessionDidStart)
			if scenario == "uas_hold.xml" {
				if err := s.Hold(); err != nil {
					t.Fatal(err)
				}
				waitHoldEvents(t, rec, 1)
				waitState(t, s, StateConnected)
				if err := s.Unhold(); err != nil {
					t.Fatal(err)
				}
				waitHoldEvents(t, rec, 2)
				waitState(t, s, StateConnected)
			}
			s.End()
			waitFor(t, rec, SIPSessionDidEnd)
			sippOK(t, scenario, uas.Wait())
		})
	}
}

// TestInteropBadInput: sipp sends what a host must refuse, each gets the
// right answer, and the host still takes a good call afterwards.
func TestInteropBadInput(t *testing.T) {
	h := newHost(t, "host")
	autoAnswer(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, scenario := range []string{"bad_sdp.xml", "unknown_stream.xml", "bye_no_dialog.xml", "reinvite_no_dialog.xml"} {
		t.Run(scenario, func(t *testing.T) {
			sippOK(t, scenario, sipptest.Run(t, ctx, sipptest.Options{Scenario: scenario, Remote: h.addr()}))
		})
	}
	sippOK(t, "good call after bad input", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo.xml", Remote: h.addr()}))
}

// TestInteropMissingACK: sipp never acknowledges our 200. The host
// retransmits it, gives up after 64·T1 (T1 shortened here), ends the
// session with a BYE saying "Missing ACK" (which the scenario checks) and
// posts SIPSessionDidFail; then it takes a good call.
func TestInteropMissingACK(t *testing.T) {
	h := newHostOn(t, "host", udp4, func(c *Config) { c.TimerT1 = 20 * time.Millisecond })
	autoAnswer(t, h)
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_no_ack.xml", Remote: h.addr()})
	sippOK(t, "uac_no_ack", r)
	// 64·T1 with retransmissions at T1, 2·T1, 4·T1, …: the first 200 and
	// at least five more before the BYE.
	if n := strings.Count(r.Messages, "SIP/2.0 200 OK\r\n") + strings.Count(r.Messages, "SIP/2.0 200 OK\n"); n < 6 {
		t.Errorf("sipp received the 200 %d times, want the first and at least 5 retransmissions", n)
	}
	fail := waitFor(t, rec, SIPSessionDidFail).Data.(DidFailData)
	if fail.Originator != Remote || fail.FailureReason != "missing ACK" {
		t.Errorf("SIPSessionDidFail = %+v, want originator remote, failure_reason \"missing ACK\"", fail)
	}
	for _, n := range rec.Names() {
		if n == SIPSessionDidStart {
			t.Errorf("a session without ACK started: %v", rec.Names())
		}
	}
	sippOK(t, "good call after a missing ACK", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo.xml", Remote: h.addr()}))
}

// TestInteropInviteDigest: sipp challenges the INVITE with 401; a session
// made with NewSessionAs answers it with the account's credentials and
// the call is set up and ended. With a wrong password the 403 fails the
// session and the challenge is answered only once.
func TestInteropInviteDigest(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"right password", "secret", true}, {"wrong password", "nope", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "host")
			rec := sessionRecorder(t, h)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_auth.xml",
				Vars: map[string]string{"username": "alice", "password": "secret"}})
			st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
			if err != nil {
				t.Fatal(err)
			}
			acc := &Account{ID: "alice@127.0.0.1", DisplayName: "Alice", URI: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"},
				Credentials: engine.Credentials{Username: "alice", Password: tc.password}}
			s := h.mgr.NewSessionAs(acc)
			to := sip.Uri{Scheme: "sip", User: "sipp", Host: "127.0.0.1", Port: uas.Port()}
			route := engine.Route{Address: "127.0.0.1", Port: uas.Port(), Transport: engine.TransportUDP}
			if err := s.Connect(ctx, to, []engine.Route{route}, []Stream{st}, ""); err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				fail := waitFor(t, rec, SIPSessionDidFail).Data.(DidFailData)
				if fail.Code != 403 || fail.Originator != Remote {
					t.Errorf("SIPSessionDidFail = %+v, want the 403", fail)
				}
				r := uas.Wait()
				if r.Failed != 1 {
					t.Errorf("sipp: %d failed, want the call failed by the 403", r.Failed)
				}
				return
			}
			waitFor(t, rec, SIPSessionDidStart)
			if got := s.LocalIdentity(); !strings.Contains(got, "alice@127.0.0.1") {
				t.Errorf("LocalIdentity %q, want the account's", got)
			}
			s.End()
			waitFor(t, rec, SIPSessionDidEnd)
			sippOK(t, "uas_auth", uas.Wait())
		})
	}
}

// TestInteropByeWhileStarting: sipp answers and hangs up at once; its BYE
// reaches the host while the host still starts its streams. The BYE gets
// 200 (not 481) and the session starts and then ends, in order.
func TestInteropByeWhileStarting(t *testing.T) {
	h := newHost(t, "host")
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_bye_at_once.xml"})
	st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	s := h.mgr.NewSession()
	to := sip.Uri{Scheme: "sip", User: "sipp", Host: "127.0.0.1", Port: uas.Port()}
	route := engine.Route{Address: "127.0.0.1", Port: uas.Port(), Transport: engine.TransportUDP}
	if err := s.Connect(ctx, to, []engine.Route{route}, []Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	end := waitFor(t, rec, SIPSessionDidEnd).Data.(DidEndData)
	if end.Originator != Remote {
		t.Errorf("SIPSessionDidEnd %+v, want the remote's", end)
	}
	want := []string{SIPSessionNewOutgoing, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart,
		SIPSessionWillEnd, SIPSessionDidProcessTransaction, SIPSessionDidEnd}
	if got := rec.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
	sippOK(t, "uas_bye_at_once", uas.Wait())
}
