package application

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/internal/sipptest"
	"github.com/sipstreams/sipstreams/sdk"
)

// started starts the applications on loopback with the echo plugin.
func started(t *testing.T, users ...string) []*Application {
	t.Helper()
	var apps []*Application
	for _, u := range users {
		a, _ := newApp(t, WithUser(u))
		if err := a.Start(ctxT(t), nil); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	return apps
}

// record records every notification of a's center.
func record(t *testing.T, a *Application) *notify.Recorder {
	t.Helper()
	rec := &notify.Recorder{}
	t.Cleanup(a.Center().Subscribe(rec, "", nil))
	return rec
}

// answering makes a answer every incoming session with Answer(types) and
// accept every proposal of the peer; Answer's errors go to errs.
func answering(t *testing.T, a *Application, errs chan<- error, types ...string) {
	t.Helper()
	ctx := ctxT(t)
	t.Cleanup(a.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, ok := n.Sender.(*session.Session)
		if !ok {
			return
		}
		switch n.Name {
		case session.SIPSessionNewIncoming:
			err := a.Answer(ctx, s, types...)
			if errs != nil {
				errs <- err
			}
		case session.SIPSessionNewProposal:
			if d := n.Data.(session.NewProposalData); d.Originator == session.Remote {
				_ = s.AcceptProposal(d.ProposedStreams)
			}
		}
	}), "", nil))
}

// waitSender waits for the notification name of sender on rec.
func waitSender(t *testing.T, rec *notify.Recorder, name string, sender any) notify.Notification {
	t.Helper()
	var got notify.Notification
	err := rec.Wait(ctxT(t), func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == name && (sender == nil || n.Sender == sender) {
				got = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v\n%v", name, err, rec.Names())
	}
	return got
}

// TestNewCall: a call built step by step — a prepared echo stream, used
// before the session starts, then Connect — starts on both sides, and a
// stream made with NewStream for the running session is proposed and
// accepted.
func TestNewCall(t *testing.T) {
	apps := started(t, "alice", "bob")
	alice, bob := apps[0], apps[1]
	ctx := ctxT(t)
	recA, recB := record(t, alice), record(t, bob)
	answering(t, bob, nil)

	call, err := alice.NewCall(ctx, bob.Account().URI, WithSubject("step by step"))
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	target, want := call.Target(), bob.Account().URI
	if call.LocalIP() != "127.0.0.1" || len(call.Routes()) != 1 || call.Account() != alice.Account() || target.String() != want.String() {
		t.Errorf("call: local IP %q, routes %v, account %v, target %v", call.LocalIP(), call.Routes(), call.Account(), target.String())
	}
	st, err := call.AddStream(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Prepared(); !p.Initialized || !strings.HasPrefix(p.Media, "m=application ") {
		t.Fatalf("the stream is not prepared for the offer: %+v", p)
	}
	if err := call.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := call.Connect(ctx); !errors.Is(err, ErrCallPlaced) {
		t.Errorf("second Connect: %v", err)
	}
	if _, err := call.AddStream(ctx, "echo"); !errors.Is(err, ErrCallPlaced) {
		t.Errorf("AddStream after Connect: %v", err)
	}
	s := call.Session()
	waitSender(t, recA, session.SIPSessionDidStart, s)
	in := waitSender(t, recB, session.SIPSessionDidStart, nil).Sender.(*session.Session)
	if in.Subject() != "step by step" {
		t.Errorf("subject %q", in.Subject())
	}
	info := s.StreamInfo()
	if info.ID != s.CallID() || info.LocalIP != "127.0.0.1" || info.Direction != sdk.DirectionOutgoing {
		t.Errorf("StreamInfo %+v", info)
	}

	// A proposal from each side with a stream of NewStream; the other
	// side accepts it.
	answering(t, alice, nil)
	for _, side := range []struct {
		app          *Application
		s, peer      *session.Session
		rec, peerRec *notify.Recorder
	}{{alice, s, in, recA, recB}, {bob, in, s, recB, recA}} {
		recA.Reset()
		recB.Reset()
		added, err := side.app.NewStream(ctx, side.s, "echo")
		if err != nil {
			t.Fatal(err)
		}
		if !added.Prepared().Initialized {
			t.Errorf("the added stream is not prepared: %+v", added.Prepared())
		}
		if err := side.s.AddStreams([]session.Stream{added}); err != nil {
			t.Fatal(err)
		}
		d := waitSender(t, side.rec, session.SIPSessionDidRenegotiateStreams, side.s).Data.(session.RenegotiateData)
		if d.Originator != session.Local || len(d.AddedStreams) != 1 || d.AddedStreams[0] != added {
			t.Errorf("renegotiated %+v, want the stream added", d)
		}
		waitSender(t, side.peerRec, session.SIPSessionDidRenegotiateStreams, side.peer)
	}
	if n := len(s.Streams()); n != 3 {
		t.Errorf("alice's session has %d streams, want 3", n)
	}
	s.End()
	waitSender(t, recA, session.SIPSessionDidEnd, s)
}

// TestCallErrors: what NewCall, AddStream, Connect and Close return and
// leave behind when they cannot go on.
func TestCallErrors(t *testing.T) {
	stopped, _ := newApp(t)
	ctx := ctxT(t)
	bobURI := sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 9}
	if _, err := stopped.NewCall(ctx, bobURI); !errors.Is(err, ErrNotRunning) {
		t.Errorf("NewCall on a stopped application: %v", err)
	}
	if _, err := stopped.Call(ctx, bobURI, []string{"echo"}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Call on a stopped application: %v", err)
	}
	alice := started(t, "alice")[0]
	rec := record(t, alice)

	_, err := alice.NewCall(ctx, bobURI, WithAccount("nobody@example.com"))
	if !errors.Is(err, account.ErrNotFound) || !strings.Contains(err.Error(), "nobody@example.com") {
		t.Errorf("unknown account: %v", err)
	}
	tcp := engine.Route{Address: "127.0.0.1", Port: 9, Transport: engine.TransportTCP}
	_, err = alice.NewCall(ctx, bobURI, WithRoutes(tcp))
	var ue *UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnreachable) || ue.Route != tcp || !strings.Contains(err.Error(), "udp:127.0.0.1:") {
		t.Errorf("a TCP route with only a UDP listener: %v", err)
	}

	call, err := alice.NewCall(ctx, bobURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Connect(ctx); !errors.Is(err, session.ErrNoStreams) {
		t.Errorf("Connect without streams: %v", err)
	}
	_, err = call.AddStream(ctx, "nosuch")
	var se *StreamError
	if !errors.As(err, &se) || se.Type != "nosuch" || !errors.Is(err, sdk.ErrUnknownStream) || !strings.Contains(err.Error(), "cannot create a nosuch stream") {
		t.Errorf("unknown type: %v", err)
	}
	_, err = call.AddStream(ctx, "echo", WithParams(func() {}))
	if !errors.As(err, &se) || !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("parameters that do not marshal: %v", err)
	}
	st, err := call.AddStream(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	// Close ends the stream and the session, which never started.
	call.Close()
	call.Close()
	waitSender(t, rec, sdk.MediaStreamDidEnd, st)
	fail := waitSender(t, rec, session.SIPSessionDidFail, call.Session()).Data.(session.DidFailData)
	if fail.FailureReason != "user request" {
		t.Errorf("DidFail %+v", fail)
	}
	if _, err := call.AddStream(ctx, "echo"); !errors.Is(err, ErrCallPlaced) {
		t.Errorf("AddStream after Close: %v", err)
	}
	if err := call.Connect(ctx); !errors.Is(err, ErrCallPlaced) {
		t.Errorf("Connect after Close: %v", err)
	}

	// Call leaves nothing behind when a stream cannot be made.
	rec.Reset()
	_, err = alice.Call(ctx, bobURI, []string{"echo", "nosuch"})
	if !errors.As(err, &se) || se.Type != "nosuch" {
		t.Errorf("Call with an unknown type: %v", err)
	}
	waitSender(t, rec, sdk.MediaStreamDidEnd, nil)
	waitSender(t, rec, session.SIPSessionDidFail, nil)
	if n := len(alice.Sessions().Sessions()); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

// TestCallOneStep: Call places a call with a stream of each type.
func TestCallOneStep(t *testing.T) {
	apps := started(t, "alice", "bob")
	alice, bob := apps[0], apps[1]
	recA := record(t, alice)
	answering(t, bob, nil)
	s, err := alice.Call(ctxT(t), bob.Account().URI, []string{"echo", "echo"})
	if err != nil {
		t.Fatal(err)
	}
	d := waitSender(t, recA, session.SIPSessionDidStart, s).Data.(session.DidStartData)
	if len(d.Streams) != 2 {
		t.Errorf("started with %d streams, want 2", len(d.Streams))
	}
	s.End()
	waitSender(t, recA, session.SIPSessionDidEnd, s)
}

// TestAnswerWithoutSDP: sipp's INVITE has no SDP; Answer offers a stream
// of every type that can be made (echo here) in the 200, sipp answers in
// the ACK (the scenario checks the offer). With a type no plugin serves,
// Answer rejects with 488 and says why.
func TestAnswerWithoutSDP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		types []string
		ok    bool
	}{
		{"default types", nil, true},
		{"echo", []string{"echo"}, true},
		{"unknown type", []string{"nosuch"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := started(t, "bob")[0]
			rec := record(t, a)
			errs := make(chan error, 1)
			answering(t, a, errs, tc.types...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			addr := a.Engine().Addrs()[0]
			r := sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_no_sdp.xml", Remote: fmt.Sprintf("127.0.0.1:%d", addr.Port)})
			err := <-errs
			if tc.ok {
				if err != nil || r.Failed != 0 || r.Successful != 1 {
					t.Fatalf("Answer: %v; sipp: %d successful, %d failed\n%s\n%s", err, r.Successful, r.Failed, r.Errors, r.Messages)
				}
				d := waitSender(t, rec, session.SIPSessionDidStart, nil).Data.(session.DidStartData)
				if len(d.Streams) != 1 || d.Streams[0].Type() != "echo" {
					t.Errorf("started with %v", d.Streams)
				}
				waitSender(t, rec, session.SIPSessionDidEnd, nil)
				return
			}
			var se *StreamError
			if !errors.Is(err, session.ErrNoStreams) || !errors.As(err, &se) || se.Type != "nosuch" {
				t.Errorf("Answer: %v", err)
			}
			if !strings.Contains(r.Messages, "SIP/2.0 488 Not Acceptable Here") {
				t.Errorf("sipp got no 488:\n%s", r.Messages)
			}
			waitSender(t, rec, session.SIPSessionDidFail, nil)
		})
	}
}

// TestOfferTypes: what Answer offers to an INVITE without SDP when given
// no type — audio when its plugin is loaded, else every loaded type.
func TestOfferTypes(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want string
	}{
		{pluginDir, "[echo]"},
		{os.Getenv("SIPSTREAMS_PLUGIN_DIR"), "[audio]"}, // audio and chat
	} {
		a, _ := newApp(t, WithPluginDir(tc.dir))
		if got := fmt.Sprint(a.offerTypes()); got != "[]" {
			t.Errorf("offer types of a stopped application: %s", got)
		}
		if err := a.Start(ctxT(t), nil); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(a.offerTypes()); got != tc.want {
			t.Errorf("%s: offer types %s, want %s", tc.dir, got, tc.want)
		}
	}
}
