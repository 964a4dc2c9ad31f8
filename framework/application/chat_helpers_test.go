package application

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// chatCall is a chat session between two applications on loopback, each
// with its own registry and chat plugin process (the media plugins that
// TestMain built): alice's stream sends, bob's receives.
type chatCall struct {
	alice, bob   *Application
	from, to     session.Stream // alice's and bob's chat streams
	sess, bobSes *session.Session
	// out sees alice's delivery notifications, in sees bob's messages.
	out *chatOutcomes
	in  *chatArrivals
}

// chatOutcomes records, in order, the outcome of every message of one
// stream: DidDeliverMessage and DidNotDeliverMessage by Message-ID.
type chatOutcomes struct {
	mu      sync.Mutex
	events  []chatOutcome
	changed chan struct{} // closed and replaced on every event
	sent    int           // DidSendMessage seen
}

type chatOutcome struct {
	delivered bool
	chat.DeliveryData
}

func newChatOutcomes() *chatOutcomes { return &chatOutcomes{changed: make(chan struct{})} }

func (o *chatOutcomes) HandleNotification(n notify.Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch n.Name {
	case chat.DidSendMessage:
		o.sent++
		return
	case chat.DidDeliverMessage, chat.DidNotDeliverMessage:
	default:
		return
	}
	var d chat.DeliveryData
	raw, _ := n.Data.(json.RawMessage)
	if err := json.Unmarshal(raw, &d); err != nil {
		d.Reason = "undecodable: " + err.Error()
	}
	o.events = append(o.events, chatOutcome{delivered: n.Name == chat.DidDeliverMessage, DeliveryData: d})
	close(o.changed)
	o.changed = make(chan struct{})
}

// wait returns the outcomes once there are at least n, or fails at the
// deadline of ctx.
func (o *chatOutcomes) wait(tb testing.TB, ctx context.Context, n int) []chatOutcome {
	tb.Helper()
	for {
		o.mu.Lock()
		got, ch := len(o.events), o.changed
		if got >= n {
			evs := append([]chatOutcome(nil), o.events...)
			o.mu.Unlock()
			return evs
		}
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			tb.Fatalf("%d message outcomes of %d before the deadline", got, n)
		}
	}
}

// chatArrivals records the contents of the messages a stream got, in
// order.
type chatArrivals struct {
	mu       sync.Mutex
	contents []string
	changed  chan struct{}
}

func newChatArrivals() *chatArrivals { return &chatArrivals{changed: make(chan struct{})} }

func (a *chatArrivals) HandleNotification(n notify.Notification) {
	if n.Name != chat.GotMessage {
		return
	}
	var d chat.GotMessageData
	raw, _ := n.Data.(json.RawMessage)
	_ = json.Unmarshal(raw, &d)
	a.mu.Lock()
	a.contents = append(a.contents, string(d.Message.Content))
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

func (a *chatArrivals) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.contents...)
}

// wait waits until n messages arrived or ctx ends, and returns them.
func (a *chatArrivals) wait(ctx context.Context, n int) []string {
	for {
		a.mu.Lock()
		got, ch := len(a.contents), a.changed
		a.mu.Unlock()
		if got >= n {
			return a.all()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return a.all()
		}
	}
}

// startChatCall starts two applications with MSRP over transport ("tcp"
// or "tls"), alice calls bob with one chat stream and bob answers it.
func startChatCall(tb testing.TB, ctx context.Context, transport config.Transport) *chatCall {
	tb.Helper()
	doc := config.NewDocument()
	doc.Settings.MSRP.Transport = transport
	p2p := config.PeerToPeerAccount()
	p2p.MSRP.Transport = transport
	doc.Accounts = []config.Account{p2p}
	conf := storage.NewMemory()
	if err := conf.Save(ctx, doc); err != nil {
		tb.Fatal(err)
	}
	start := func(user string) *Application {
		center := notify.New()
		a := New(WithCenter(center), WithUser(user), WithPluginDir(os.Getenv("SIPSTREAMS_PLUGIN_DIR")), WithListen(loopback))
		if err := a.Start(ctx, conf); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = a.Stop(stop)
			center.Close()
		})
		return a
	}
	c := &chatCall{alice: start("alice"), bob: start("bob"), out: newChatOutcomes(), in: newChatArrivals()}
	bobStarted := make(chan *session.Session, 1)
	tb.Cleanup(c.bob.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, ok := n.Sender.(*session.Session)
		if !ok {
			return
		}
		switch n.Name {
		case session.SIPSessionNewIncoming:
			_ = c.bob.Answer(ctx, s)
		case session.SIPSessionDidStart:
			bobStarted <- s
		}
	}), "", nil))
	call, err := c.alice.NewCall(ctx, c.bob.Account().URI)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(call.Close)
	rec := &notify.Recorder{}
	tb.Cleanup(c.alice.Center().Subscribe(rec, "", call.Session()))
	if c.from, err = call.AddStream(ctx, chat.Type); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.alice.Center().Subscribe(c.out, "", c.from))
	if err := call.Connect(ctx); err != nil {
		tb.Fatal(err)
	}
	c.sess = call.Session()
	if err := rec.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == session.SIPSessionDidStart || n.Name == session.SIPSessionDidFail {
				return true
			}
		}
		return false
	}); err != nil || c.sess.State() != session.StateConnected {
		tb.Fatalf("the chat call did not start (%v): %v", err, rec.Names())
	}
	select {
	case c.bobSes = <-bobStarted:
	case <-ctx.Done():
		tb.Fatal("bob's session did not start")
	}
	for _, st := range c.bobSes.Streams() {
		if st.Type() == chat.Type {
			c.to = st
		}
	}
	if c.to == nil {
		tb.Fatal("bob's session has no chat stream")
	}
	tb.Cleanup(c.bob.Center().Subscribe(c.in, chat.GotMessage, c.to))
	return c
}
