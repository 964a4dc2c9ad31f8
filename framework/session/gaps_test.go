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

// callSipp connects a session of h to a sipp UAS with one echo stream.
func callSipp(t *testing.T, ctx context.Context, h *host, s *Session, uas *sipptest.Process) {
	t.Helper()
	st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	to := sip.Uri{Scheme: "sip", User: "sipp", Host: "127.0.0.1", Port: uas.Port()}
	route := engine.Route{Address: "127.0.0.1", Port: uas.Port(), Transport: engine.TransportUDP}
	if err := s.Connect(ctx, to, []engine.Route{route}, []Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
}

// TestInteropInviteWithoutSDP: sipp's INVITE has no SDP (§2.4.5). The
// application accepts with a stream of its own: the 200 carries our offer
// (sipp checks it), the ACK the answer, and the session starts; sipp's BYE
// ends it.
func TestInteropInviteWithoutSDP(t *testing.T) {
	h := newHost(t, "host")
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	offered := make(chan []Stream, 1)
	defer h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, d := n.Sender.(*Session), n.Data.(NewIncomingData)
		offered <- d.Streams
		go func() {
			st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
			if err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			if err := s.Accept([]Stream{st}); err != nil {
				t.Errorf("Accept: %v", err)
			}
		}()
	}), SIPSessionNewIncoming, nil)()
	sippOK(t, "uac_no_sdp", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_no_sdp.xml", Remote: h.addr()}))
	if got := <-offered; len(got) != 0 {
		t.Errorf("an INVITE without SDP proposed %d streams, want none", len(got))
	}
	waitFor(t, rec, SIPSessionDidEnd)
	assertNames(t, "host", rec, SIPSessionNewIncoming, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart,
		SIPSessionWillEnd, SIPSessionDidProcessTransaction, SIPSessionDidEnd)
}

// TestInteropInviteTimeout: sipp rings and never answers; the session
// gives up after its account's sip.invite_timeout with a CANCEL (sipp
// checks it comes) and fails with 487.
func TestInteropInviteTimeout(t *testing.T) {
	h := newHost(t, "host")
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_never_answers.xml"})
	acc := *h.acc
	acc.Settings = map[string]string{"sip.invite_timeout": "1"} // seconds, as config flattens it
	s := h.mgr.NewSessionAs(&acc)
	start := time.Now()
	callSipp(t, ctx, h, s, uas)
	fail := waitFor(t, rec, SIPSessionDidFail).Data.(DidFailData)
	took := time.Since(start)
	if fail.Originator != Local || fail.Code != 487 || fail.FailureReason != "timeout" {
		t.Errorf("SIPSessionDidFail %+v, want local 487 timeout", fail)
	}
	r := uas.Wait()
	sippOK(t, "uas_never_answers", r)
	if !strings.Contains(r.Messages, "CANCEL sip:") {
		t.Errorf("sipp saw no CANCEL")
	}
	// Not a timed assertion on speed: the default (90 s) would not fit in
	// this test's minute at all.
	t.Logf("gave up after %v", took)
	assertNames(t, "host", rec, SIPSessionNewOutgoing, SIPSessionGotRingIndication, SIPSessionGotProvisionalResponse, SIPSessionDidFail)
}

// TestInteropNoAccount: an INVITE for a user no account serves gets 404
// (§2.4.1) and makes no session; one for the account is answered.
func TestInteropNoAccount(t *testing.T) {
	h := newHostOn(t, "host", udp4, func(c *Config) {
		acc := c.Account
		c.AccountFor = func(ruri sip.Uri) *Account {
			if ruri.User == acc.URI.User {
				return acc
			}
			return nil
		}
	})
	autoAnswer(t, h)
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sippOK(t, "uac_404", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_404.xml", Remote: h.addr(), Extra: []string{"-s", "nobody"}}))
	if names := rec.Names(); len(names) != 0 {
		t.Errorf("a 404 made session notifications: %v", names)
	}
	sippOK(t, "a call for the account", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo.xml", Remote: h.addr(), Extra: []string{"-s", "host"}}))
	waitFor(t, rec, SIPSessionDidEnd)
}

// TestInteropInDialogMessage: sipp sends a MESSAGE inside the call; it is
// answered 200 and posted as SIPSessionGotMessage with its body.
func TestInteropInDialogMessage(t *testing.T) {
	h := newHost(t, "host")
	autoAnswer(t, h)
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sippOK(t, "uac_message", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_message.xml", Remote: h.addr()}))
	msg := waitFor(t, rec, SIPSessionGotMessage)
	d := msg.Data.(GotMessageData)
	if d.ContentType != "text/plain" || strings.TrimSpace(d.Body) != "hello in the dialog" {
		t.Errorf("SIPSessionGotMessage %+v", d)
	}
	s := msg.Sender.(*Session)
	if !strings.HasPrefix(s.PeerAddress(), "127.0.0.1:") || s.Account() != h.acc || len(s.RemoteRequestHeaders()["Subject"]) != 1 {
		t.Errorf("session attributes: peer %q, account %v, request headers %v", s.PeerAddress(), s.Account(), s.RemoteRequestHeaders())
	}
	waitFor(t, rec, SIPSessionDidEnd)
}

// TestInteropHoldDuringProposal: hold is asked while our proposal of a
// second stream is pending. It is not refused: the hold re-INVITE goes
// once the proposal is accepted (sipp checks the order and the
// directions), and the outcomes come in that order.
func TestInteropHoldDuringProposal(t *testing.T) {
	h := newHost(t, "host")
	rec := sessionRecorder(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_hold_during_proposal.xml"})
	s := h.mgr.NewSession()
	callSipp(t, ctx, h, s, uas)
	waitFor(t, rec, SIPSessionDidStart)
	second, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddStreams([]Stream{second}); err != nil {
		t.Fatal(err)
	}
	// The proposal cannot be over yet: sipp holds its answer back for a
	// second, and the loop handles this call right after AddStreams.
	if st := s.State(); st != StateSendingProposal {
		t.Fatalf("state %v after AddStreams, want sending_proposal", st)
	}
	if err := s.Hold(); err != nil {
		t.Fatalf("Hold during a proposal: %v", err)
	}
	holds := waitHoldEvents(t, rec, 1)
	if holds[0] != (HoldStateData{Originator: Local, OnHold: true}) {
		t.Errorf("hold change %+v", holds[0])
	}
	waitState(t, s, StateConnected)
	s.End()
	waitFor(t, rec, SIPSessionDidEnd)
	sippOK(t, "uas_hold_during_proposal", uas.Wait())
	want := []string{SIPSessionNewOutgoing, SIPSessionWillStart, SIPSessionDidProcessTransaction, SIPSessionDidStart,
		SIPSessionNewProposal, SIPSessionGotProposal, SIPSessionProposalAccepted, SIPSessionGotAcceptProposal, SIPSessionDidRenegotiateStreams,
		SIPSessionDidChangeHoldState, SIPSessionWillEnd, SIPSessionDidProcessTransaction, SIPSessionDidEnd}
	if got := rec.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notifications\n got  %v\n want %v", got, want)
	}
}
