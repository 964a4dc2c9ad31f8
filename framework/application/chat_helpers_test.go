package application

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk"
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
	// endedAt is the number of outcomes seen when MediaStreamDidFail or
	// MediaStreamWillEnd came, -1 before.
	endedAt int
	// stream lists the stream's other notifications, with the number of
	// outcomes seen before each.
	stream []string
}

type chatOutcome struct {
	delivered bool
	chat.DeliveryData
}

func newChatOutcomes() *chatOutcomes {
	return &chatOutcomes{changed: make(chan struct{}), endedAt: -1}
}

func (o *chatOutcomes) HandleNotification(n notify.Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch n.Name {
	case chat.DidSendMessage:
		o.sent++
		return
	case sdk.MediaStreamDidFail, sdk.MediaStreamWillEnd:
		if o.endedAt < 0 {
			o.endedAt = len(o.events)
		}
		o.stream = append(o.stream, fmt.Sprintf("%s after %d: %+v", n.Name, len(o.events), n.Data))
		return
	case chat.DidDeliverMessage, chat.DidNotDeliverMessage:
	default:
		o.stream = append(o.stream, fmt.Sprintf("%s after %d", n.Name, len(o.events)))
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
	var d struct {
		Message struct {
			Content []byte `json:"content"`
		} `json:"message"`
	}
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
// before, when set, runs once alice's stream exists and before the call
// is placed (what it sends waits in the stream until it starts).
func startChatCall(tb testing.TB, ctx context.Context, transport config.Transport, before func(*chatCall)) *chatCall {
	tb.Helper()
	doc := config.NewDocument()
	doc.Settings.MSRP.Transport = transport
	if w, err := strconv.Atoi(os.Getenv("SIPSTREAMS_CHAT_SEND_WINDOW")); err == nil {
		doc.Settings.Chat.SendWindow = w // to measure other windows
	}
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
			// Bob observes his chat stream before it starts: alice may
			// have messages queued.
			for _, st := range s.ProposedStreams() {
				if st.Type() == chat.Type {
					tb.Cleanup(c.bob.Center().Subscribe(c.in, chat.GotMessage, st))
				}
			}
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
	if before != nil {
		before(c)
	}
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
	return c
}

// chatPluginPID returns the process id of a's chat plugin.
func chatPluginPID(tb testing.TB, a *Application) int {
	tb.Helper()
	p, err := a.Registry().Plugin(chat.Type)
	if err != nil {
		tb.Fatal(err)
	}
	return p.Info().PID
}

// cpuTime is the CPU time (user + system) a process has used; pid 0 is
// this process. ok is false when it cannot be read (not Linux).
func cpuTime(pid int) (time.Duration, bool) {
	if pid == 0 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
			return 0, false
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which ends with the last ')':
	// state is field 3, utime 14 and stime 15 (in clock ticks, 100/s).
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// cpuMeter measures the CPU time of this process (the two hosts) and of
// the two chat plugin processes between start and stop.
type cpuMeter struct {
	pids        []int
	host, plugs time.Duration
	ok          bool
}

func (c *chatCall) cpuMeter(tb testing.TB) *cpuMeter {
	tb.Helper()
	m := &cpuMeter{pids: []int{chatPluginPID(tb, c.alice), chatPluginPID(tb, c.bob)}, ok: true}
	m.host, m.plugs = m.read()
	return m
}

func (m *cpuMeter) read() (host, plugins time.Duration) {
	h, ok := cpuTime(0)
	m.ok = m.ok && ok
	for _, pid := range m.pids {
		t, ok := cpuTime(pid)
		m.ok = m.ok && ok
		plugins += t
	}
	return h, plugins
}

// report adds the CPU time per message since the meter was made: hosts
// (this process, with the benchmark's own observers) and plugins.
func (m *cpuMeter) report(b *testing.B, n int) {
	h, p := m.read()
	if !m.ok || n == 0 {
		return
	}
	b.ReportMetric(float64((h-m.host).Microseconds())/float64(n), "host-µs/msg")
	b.ReportMetric(float64((p-m.plugs).Microseconds())/float64(n), "plugin-µs/msg")
}

// bytesRead returns how many bytes process pid has read from files and
// sockets (rchar of /proc/PID/io, Linux).
func bytesRead(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "rchar:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no rchar in /proc/%d/io", pid)
}
