package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx returns a context bounded by a generous deadline: it only guards
// against hangs, nothing asserts on timing.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newCenter returns a center that is closed when the test ends.
func newCenter(t *testing.T, opts ...Option) *Center {
	t.Helper()
	c := New(opts...)
	t.Cleanup(c.Close)
	return c
}

func flush(t *testing.T, c *Center) {
	t.Helper()
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

type seqData struct{ poster, seq int }

type sender struct{ name string }

func TestFiltering(t *testing.T) {
	a, b := &sender{"a"}, &sender{"b"}
	posts := []Notification{
		{Name: "SIPSessionDidStart", Sender: a},
		{Name: "SIPSessionDidStart", Sender: b},
		{Name: "SIPSessionDidEnd", Sender: a},
		{Name: "SIPSessionDidEnd", Sender: nil},
		{Name: "MediaStreamDidFail", Sender: "stream-1"},
		{Name: "MediaStreamDidFail", Sender: 42},
	}
	tests := []struct {
		name     string
		subName  string
		sender   any
		wantIdxs []int // indices into posts
	}{
		{"everything", "", nil, []int{0, 1, 2, 3, 4, 5}},
		{"by name", "SIPSessionDidStart", nil, []int{0, 1}},
		{"by name with nil-sender posts", "SIPSessionDidEnd", nil, []int{2, 3}},
		{"by sender pointer", "", a, []int{0, 2}},
		{"by sender string", "", "stream-1", []int{4}},
		{"by sender int", "", 42, []int{5}},
		{"by name and sender", "SIPSessionDidEnd", a, []int{2}},
		{"name and sender mismatch", "SIPSessionDidEnd", b, nil},
		{"unknown name", "NoSuchNotification", nil, nil},
		{"equal value, different type", "", int64(42), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCenter(t)
			var rec Recorder
			defer c.Subscribe(&rec, tt.subName, tt.sender)()
			for _, n := range posts {
				c.Post(n)
			}
			flush(t, c)
			got := rec.All()
			if len(got) != len(tt.wantIdxs) {
				t.Fatalf("got %d notifications %v, want %d", len(got), rec.Names(), len(tt.wantIdxs))
			}
			for i, idx := range tt.wantIdxs {
				if got[i].Name != posts[idx].Name || got[i].Sender != posts[idx].Sender {
					t.Errorf("notification %d = (%s, %v), want (%s, %v)",
						i, got[i].Name, got[i].Sender, posts[idx].Name, posts[idx].Sender)
				}
			}
		})
	}
}

func TestPostSetsTime(t *testing.T) {
	c := newCenter(t)
	var rec Recorder
	defer c.Subscribe(&rec, "", nil)()
	fixed := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now()
	c.Post(Notification{Name: "Zero"})
	c.Post(Notification{Name: "Fixed", Time: fixed})
	flush(t, c)
	got := rec.All()
	if len(got) != 2 {
		t.Fatalf("got %v", rec.Names())
	}
	if got[0].Time.Before(before) {
		t.Errorf("zero Time was set to %v, want >= %v", got[0].Time, before)
	}
	if !got[1].Time.Equal(fixed) {
		t.Errorf("explicit Time changed to %v, want %v", got[1].Time, fixed)
	}
}

func TestDataIsDelivered(t *testing.T) {
	type SIPSessionDidFailData struct {
		Code   int
		Reason string
	}
	c := newCenter(t)
	var rec Recorder
	defer c.Subscribe(&rec, "SIPSessionDidFail", nil)()
	c.Post(Notification{Name: "SIPSessionDidFail", Data: SIPSessionDidFailData{486, "Busy Here"}})
	flush(t, c)
	got := rec.All()
	if len(got) != 1 {
		t.Fatalf("got %v", rec.Names())
	}
	d, ok := got[0].Data.(SIPSessionDidFailData)
	if !ok || d.Code != 486 || d.Reason != "Busy Here" {
		t.Errorf("Data = %#v", got[0].Data)
	}
}

// TestOrderingConcurrentPosters checks that each subscription sees every
// poster's notifications in order, without loss, and that all subscriptions
// see the same global order.
func TestOrderingConcurrentPosters(t *testing.T) {
	const posters, perPoster, subscribers = 8, 500, 4
	c := newCenter(t)
	recs := make([]*Recorder, subscribers)
	for i := range recs {
		recs[i] = new(Recorder)
		defer c.Subscribe(recs[i], "Tick", nil)()
	}
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for s := range perPoster {
				c.Post(Notification{Name: "Tick", Data: seqData{p, s}})
			}
		})
	}
	wg.Wait()
	flush(t, c)

	first := recs[0].All()
	for i, rec := range recs {
		t.Run(fmt.Sprintf("subscriber%d", i), func(t *testing.T) {
			got := rec.All()
			if len(got) != posters*perPoster {
				t.Fatalf("got %d notifications, want %d", len(got), posters*perPoster)
			}
			next := make([]int, posters)
			for j, n := range got {
				d := n.Data.(seqData)
				if d.seq != next[d.poster] {
					t.Fatalf("poster %d: got seq %d, want %d", d.poster, d.seq, next[d.poster])
				}
				next[d.poster]++
				if n.Data != first[j].Data {
					t.Fatalf("position %d: %v, subscriber 0 has %v", j, n.Data, first[j].Data)
				}
			}
		})
	}
}

// TestSlowObserverDoesNotDelayOthers blocks one observer and checks that the
// poster and another observer are unaffected.
func TestSlowObserverDoesNotDelayOthers(t *testing.T) {
	const count = 1000
	c := newCenter(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	var slow Recorder
	var once sync.Once
	defer c.Subscribe(ObserverFunc(func(n Notification) {
		once.Do(func() { close(entered) })
		<-release
		slow.HandleNotification(n)
	}), "", nil)()
	var fast Recorder
	defer c.Subscribe(&fast, "", nil)()

	// All Posts return although the slow observer is stuck on the first one.
	for i := range count {
		c.Post(Notification{Name: "Tick", Data: i})
	}
	<-entered
	if err := fast.Wait(testCtx(t), func(ns []Notification) bool { return len(ns) == count }); err != nil {
		t.Fatal(err)
	}
	if n := slow.Len(); n != 0 {
		t.Fatalf("slow observer recorded %d notifications while blocked", n)
	}
	close(release)
	flush(t, c)
	got := slow.All()
	if len(got) != count {
		t.Fatalf("slow observer got %d, want %d", len(got), count)
	}
	for i, n := range got {
		if n.Data != i {
			t.Fatalf("slow observer position %d has %v", i, n.Data)
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Run("stops delivery and goroutine", func(t *testing.T) {
		c := newCenter(t)
		var rec Recorder
		unsub := c.Subscribe(&rec, "", nil)
		s := c.subs[0]
		c.Post(Notification{Name: "Before"})
		flush(t, c)
		unsub()
		unsub() // idempotent
		c.Post(Notification{Name: "After"})
		flush(t, c)
		if got := rec.Names(); !slices.Equal(got, []string{"Before"}) {
			t.Errorf("got %v", got)
		}
		waitExited(t, s)
	})

	t.Run("from inside the handler", func(t *testing.T) {
		c := newCenter(t)
		var rec Recorder
		var unsub func()
		unsub = c.Subscribe(ObserverFunc(func(n Notification) {
			rec.HandleNotification(n)
			unsub()
			unsub()
		}), "", nil)
		s := c.subs[0]
		for i := range 5 {
			c.Post(Notification{Name: fmt.Sprint("N", i)})
		}
		flush(t, c)
		if got := rec.Names(); !slices.Equal(got, []string{"N0"}) {
			t.Errorf("got %v, want [N0]", got)
		}
		waitExited(t, s)
	})

	t.Run("discards queued notifications", func(t *testing.T) {
		c := newCenter(t)
		entered := make(chan struct{}, 1)
		release := make(chan struct{})
		var rec Recorder
		unsub := c.Subscribe(ObserverFunc(func(n Notification) {
			rec.HandleNotification(n)
			entered <- struct{}{}
			<-release
		}), "", nil)
		for i := range 10 {
			c.Post(Notification{Name: fmt.Sprint("N", i)})
		}
		<-entered
		// A concurrent Flush either queues its barrier behind the blocked
		// delivery (unsubscribing releases it) or finds no subscription.
		ctx := testCtx(t)
		flushErr := make(chan error, 1)
		go func() { flushErr <- c.Flush(ctx) }()
		unsub()
		if err := <-flushErr; err != nil {
			t.Fatalf("Flush after unsubscribe: %v", err)
		}
		close(release) // the in-progress delivery finishes
		c.Close()
		if got := rec.Names(); !slices.Equal(got, []string{"N0"}) {
			t.Errorf("got %v, want [N0]", got)
		}
	})

	t.Run("other subscriptions of the same observer continue", func(t *testing.T) {
		c := newCenter(t)
		var rec Recorder
		unsubA := c.Subscribe(&rec, "A", nil)
		defer c.Subscribe(&rec, "B", nil)()
		unsubA()
		c.Post(Notification{Name: "A"})
		c.Post(Notification{Name: "B"})
		flush(t, c)
		if got := rec.Names(); !slices.Equal(got, []string{"B"}) {
			t.Errorf("got %v, want [B]", got)
		}
	})
}

func waitExited(t *testing.T, s *subscription) {
	t.Helper()
	select {
	case <-s.exited:
	case <-testCtx(t).Done():
		t.Fatal("delivery goroutine did not exit")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestObserverPanic(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"string", "boom"},
		{"error", errors.New("boom")},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			c := newCenter(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			var rec Recorder
			defer c.Subscribe(ObserverFunc(func(n Notification) {
				if n.Name == "Panic" {
					panic(tt.value)
				}
				rec.HandleNotification(n)
			}), "", nil)()
			c.Post(Notification{Name: "Before"})
			c.Post(Notification{Name: "Panic"})
			c.Post(Notification{Name: "After"})
			flush(t, c)
			if got := rec.Names(); !slices.Equal(got, []string{"Before", "After"}) {
				t.Errorf("got %v, want [Before After]", got)
			}
			out := logs.String()
			if !strings.Contains(out, "observer panicked") || !strings.Contains(out, "name=Panic") {
				t.Errorf("panic not logged; log output:\n%s", out)
			}
		})
	}

	t.Run("default logger", func(t *testing.T) {
		c := newCenter(t)
		var rec Recorder
		defer c.Subscribe(ObserverFunc(func(n Notification) {
			if n.Name == "Panic" {
				panic("boom")
			}
			rec.HandleNotification(n)
		}), "", nil)()
		c.Post(Notification{Name: "Panic"})
		c.Post(Notification{Name: "After"})
		flush(t, c)
		if got := rec.Names(); !slices.Equal(got, []string{"After"}) {
			t.Errorf("got %v, want [After]", got)
		}
	})
}

func TestClose(t *testing.T) {
	t.Run("post and subscribe after close are no-ops", func(t *testing.T) {
		c := New()
		var rec Recorder
		c.Subscribe(&rec, "", nil)
		c.Close()
		c.Post(Notification{Name: "AfterClose"})
		var late Recorder
		unsub := c.Subscribe(&late, "", nil)
		c.Post(Notification{Name: "AfterClose"})
		unsub()
		if err := c.Flush(testCtx(t)); err != nil {
			t.Fatalf("Flush after Close: %v", err)
		}
		c.Close() // idempotent
		if rec.Len() != 0 || late.Len() != 0 {
			t.Errorf("got %v and %v after Close", rec.Names(), late.Names())
		}
	})

	t.Run("drains queued notifications", func(t *testing.T) {
		c := New()
		entered := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		var rec Recorder
		c.Subscribe(ObserverFunc(func(n Notification) {
			once.Do(func() { close(entered) })
			<-release
			rec.HandleNotification(n)
		}), "", nil)
		for i := range 10 {
			c.Post(Notification{Name: "Tick", Data: i})
		}
		<-entered
		closed := make(chan struct{})
		go func() {
			c.Close()
			close(closed)
		}()
		// Close waits for the queued notifications; Post becomes a no-op as
		// soon as Close has started.
		waitClosedFlag(t, c)
		c.Post(Notification{Name: "Late"})
		close(release)
		<-closed
		got := rec.All()
		if len(got) != 10 {
			t.Fatalf("got %d notifications %v, want 10", len(got), rec.Names())
		}
		for i, n := range got {
			if n.Data != i {
				t.Fatalf("position %d has %v", i, n.Data)
			}
		}
	})

	t.Run("concurrent close", func(t *testing.T) {
		c := New()
		var rec Recorder
		c.Subscribe(&rec, "", nil)
		c.Post(Notification{Name: "X"})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(c.Close)
		}
		wg.Wait()
		if rec.Len() != 1 {
			t.Errorf("got %v", rec.Names())
		}
	})
}

// waitClosedFlag polls, with a deadline, until Close has marked c closed.
func waitClosedFlag(t *testing.T, c *Center) {
	t.Helper()
	ctx := testCtx(t)
	for {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("Close did not start")
		case <-time.After(time.Millisecond):
		}
	}
}

func TestUncomparableSender(t *testing.T) {
	c := newCenter(t)
	m := map[string]int{"a": 1}
	sl := []int{1}
	type withSlice struct{ v any }

	var all, byMap, bySlice, byStruct, byPtr Recorder
	defer c.Subscribe(&all, "", nil)()
	defer c.Subscribe(&byMap, "", m)()
	defer c.Subscribe(&bySlice, "", sl)()
	defer c.Subscribe(&byStruct, "", withSlice{sl})()
	p := &sender{"p"}
	defer c.Subscribe(&byPtr, "", p)()

	c.Post(Notification{Name: "Map", Sender: m})
	c.Post(Notification{Name: "Slice", Sender: sl})
	c.Post(Notification{Name: "Struct", Sender: withSlice{sl}})
	c.Post(Notification{Name: "Func", Sender: func() {}})
	c.Post(Notification{Name: "Ptr", Sender: p})
	flush(t, c)

	if got := all.Names(); !slices.Equal(got, []string{"Map", "Slice", "Struct", "Func", "Ptr"}) {
		t.Errorf("wildcard got %v", got)
	}
	for name, rec := range map[string]*Recorder{"map": &byMap, "slice": &bySlice, "struct": &byStruct} {
		if rec.Len() != 0 {
			t.Errorf("%s-sender subscription got %v, want nothing", name, rec.Names())
		}
	}
	if got := byPtr.Names(); !slices.Equal(got, []string{"Ptr"}) {
		t.Errorf("pointer-sender subscription got %v", got)
	}
}

func TestFlush(t *testing.T) {
	t.Run("empty center", func(t *testing.T) {
		c := newCenter(t)
		flush(t, c)
	})

	t.Run("waits for delivery", func(t *testing.T) {
		c := newCenter(t)
		var count atomic.Int64
		for range 3 {
			defer c.Subscribe(ObserverFunc(func(Notification) { count.Add(1) }), "", nil)()
		}
		for range 100 {
			c.Post(Notification{Name: "Tick"})
		}
		flush(t, c)
		if n := count.Load(); n != 300 {
			t.Errorf("delivered %d, want 300", n)
		}
	})

	t.Run("context ends while observer is blocked", func(t *testing.T) {
		c := newCenter(t)
		release := make(chan struct{})
		defer c.Subscribe(ObserverFunc(func(Notification) { <-release }), "", nil)()
		c.Post(Notification{Name: "Tick"})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.Flush(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Flush = %v, want context.Canceled", err)
		}
		close(release)
		flush(t, c)
	})
}

// TestSubscribeWhilePosting checks that a subscription made while another
// goroutine posts receives exactly the notifications posted after Subscribe
// returned, none posted before it was called, and no gaps.
func TestSubscribeWhilePosting(t *testing.T) {
	c := newCenter(t)
	var attempted, completed atomic.Int64
	stop := make(chan struct{})
	posting := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			attempted.Store(i)
			c.Post(Notification{Name: "Tick", Data: i})
			completed.Store(i)
			if i == 100 {
				close(posting)
			}
		}
	})
	<-posting
	var rec Recorder
	before := completed.Load()
	unsub := c.Subscribe(&rec, "", nil)
	after := attempted.Load()
	if err := rec.Wait(testCtx(t), func(ns []Notification) bool { return len(ns) >= 100 }); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	flush(t, c)
	unsub()

	got := rec.All()
	firstSeq := got[0].Data.(int64)
	if firstSeq <= before {
		t.Errorf("received %d, which completed before Subscribe was called (%d)", firstSeq, before)
	}
	if firstSeq > after+1 {
		t.Errorf("missed %d..%d, posted after Subscribe returned", after+1, firstSeq-1)
	}
	for i, n := range got {
		if n.Data.(int64) != firstSeq+int64(i) {
			t.Fatalf("gap at position %d: %v", i, n.Data)
		}
	}
	if last := got[len(got)-1].Data.(int64); last != completed.Load() {
		t.Errorf("last received %d, last posted %d", last, completed.Load())
	}
}

// TestConcurrentUse exercises every method concurrently for the race
// detector.
func TestConcurrentUse(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c.Post(Notification{Name: fmt.Sprint("N", i%3), Sender: p})
			}
		})
	}
	for s := range 4 {
		wg.Go(func() {
			for i := range 50 {
				var rec Recorder
				unsub := c.Subscribe(&rec, fmt.Sprint("N", i%3), s)
				if i%2 == 0 {
					_ = c.Flush(t.Context())
				}
				unsub()
			}
		})
	}
	wg.Wait()
	c.Close()
}

func TestDefault(t *testing.T) {
	d := Default()
	if d == nil || d != Default() {
		t.Fatal("Default must return the same non-nil center")
	}
	var rec Recorder
	unsub := d.Subscribe(&rec, "DefaultTest", nil)
	defer unsub()
	d.Post(Notification{Name: "DefaultTest"})
	flush(t, d)
	if got := rec.Names(); !slices.Equal(got, []string{"DefaultTest"}) {
		t.Errorf("got %v", got)
	}
}

func TestSubscribeNilObserverPanics(t *testing.T) {
	c := newCenter(t)
	defer func() {
		if recover() == nil {
			t.Error("Subscribe(nil) did not panic")
		}
	}()
	c.Subscribe(nil, "", nil)
}

func TestRecorder(t *testing.T) {
	t.Run("wait satisfied later", func(t *testing.T) {
		var rec Recorder
		done := make(chan error, 1)
		go func() {
			done <- rec.Wait(testCtx(t), func(ns []Notification) bool {
				return slices.Equal(names(ns), []string{"A", "B"})
			})
		}()
		rec.HandleNotification(Notification{Name: "A"})
		rec.HandleNotification(Notification{Name: "B"})
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("wait times out with context error", func(t *testing.T) {
		var rec Recorder
		rec.HandleNotification(Notification{Name: "A"})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := rec.Wait(ctx, func([]Notification) bool { return false })
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"A"`) {
			t.Errorf("Wait = %v", err)
		}
	})

	t.Run("predicate may use the recorder", func(t *testing.T) {
		var rec Recorder
		rec.HandleNotification(Notification{Name: "A"})
		if err := rec.Wait(testCtx(t), func([]Notification) bool { return rec.Len() == 1 }); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("all returns a copy; reset", func(t *testing.T) {
		var rec Recorder
		rec.HandleNotification(Notification{Name: "A"})
		all := rec.All()
		all[0].Name = "changed"
		if got := rec.Names(); !slices.Equal(got, []string{"A"}) {
			t.Errorf("got %v", got)
		}
		rec.Reset()
		if rec.Len() != 0 {
			t.Errorf("Len after Reset = %d", rec.Len())
		}
	})
}

// idleLog is an IdleObserver that logs what it is handed and each Idle.
// Its first notification waits for release, after saying so on entered.
type idleLog struct {
	mu      sync.Mutex
	log     []string
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (o *idleLog) HandleNotification(n Notification) {
	o.once.Do(func() {
		close(o.entered)
		<-o.release
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, n.Name)
}

func (o *idleLog) Idle() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, "idle")
}

func (o *idleLog) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.log)
}

// TestIdleObserver: Idle comes once the queue is empty — once for a burst
// delivered back to back, before a Flush returns, and before the delivery
// goroutine ends — and never without a notification before it.
func TestIdleObserver(t *testing.T) {
	c := newCenter(t)
	o := &idleLog{entered: make(chan struct{}), release: make(chan struct{})}
	unsub := c.Subscribe(o, "", nil)
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := o.get(); len(got) != 0 {
		t.Fatalf("before any notification: %v", got)
	}

	// A burst: the first is being handled while the others queue up.
	c.Post(Notification{Name: "A"})
	<-o.entered
	c.Post(Notification{Name: "B"})
	c.Post(Notification{Name: "C"})
	close(o.release)
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := o.get(), []string{"A", "B", "C", "idle"}; !slices.Equal(got, want) {
		t.Fatalf("after the burst and Flush: %v, want %v", got, want)
	}
	// Delivered, then the subscription ends: its Idle comes before.
	c.Post(Notification{Name: "D"})
	c.Close()
	unsub()
	if got, want := o.get(), []string{"A", "B", "C", "idle", "D", "idle"}; !slices.Equal(got, want) {
		t.Fatalf("after Close: %v, want %v", got, want)
	}
}

// TestQueueLetsGoOfBurst: a subscriber that fell behind during a burst
// grows its queue to the burst's size; once it has caught up, the queue
// does not keep that room (a listener after a load of thousands of calls
// a second held it for good), while a queue that stayed small keeps its
// array (no allocation per delivery).
func TestQueueLetsGoOfBurst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		burst int
		kept  bool // the queue keeps its array once drained
	}{
		{"small burst", maxIdleQueue / 4, true},
		{"large burst", 20 * maxIdleQueue, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCenter(t)
			o := &idleLog{entered: make(chan struct{}), release: make(chan struct{})}
			c.Subscribe(o, "", nil)
			c.mu.Lock()
			sub := c.subs[0]
			c.mu.Unlock()
			queueCap := func() int {
				sub.mu.Lock()
				defer sub.mu.Unlock()
				return cap(sub.queue)
			}

			c.Post(Notification{Name: "first"})
			<-o.entered // delivery blocked: the burst queues up
			for range tc.burst {
				c.Post(Notification{Name: "n"})
			}
			if got := queueCap(); got < tc.burst {
				t.Fatalf("queue room %d during a burst of %d", got, tc.burst)
			}
			close(o.release)
			if err := c.Flush(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if got := len(o.get()); got != tc.burst+2 { // + first, idle
				t.Fatalf("%d entries logged, want %d", got, tc.burst+2)
			}
			got := queueCap()
			if got > maxIdleQueue {
				t.Errorf("queue room %d once drained, want at most %d", got, maxIdleQueue)
			}
			if tc.kept && got == 0 {
				t.Errorf("a queue that stayed small let go of its array")
			}
		})
	}
}

// filtered is a Recorder that wants only some names.
type filtered struct {
	Recorder
	names []string
	asked atomic.Int64 // Wants calls
}

func (f *filtered) Wants(name string) bool {
	f.asked.Add(1)
	return slices.Contains(f.names, name)
}

// TestNameFilter: an observer that is a NameFilter gets only the names it
// wants, in order, whatever its subscription's name; the others never reach
// its queue (Idle is not called for them either).
func TestNameFilter(t *testing.T) {
	for _, tc := range []struct {
		subName string
		want    []string
	}{
		{"", []string{"A", "C", "A"}},
		{"A", []string{"A", "A"}},
		{"B", nil},
	} {
		c := newCenter(t)
		f := &filtered{names: []string{"A", "C"}}
		o := &idleCount{Observer: f}
		unsub := c.Subscribe(o, tc.subName, nil)
		for _, name := range []string{"A", "B", "C", "D", "A"} {
			c.Post(Notification{Name: name})
		}
		flush(t, c)
		if got := f.Names(); !slices.Equal(got, tc.want) {
			t.Errorf("subscribed to %q: got %v, want %v", tc.subName, got, tc.want)
		}
		unsub()
	}
	// Not wanted, not queued: posting only unwanted names never wakes the
	// subscription (Idle comes after a delivery only).
	c := newCenter(t)
	f := &filtered{names: []string{"A"}}
	o := &idleCount{Observer: f}
	defer c.Subscribe(o, "", nil)()
	flush(t, c)
	before := o.idles.Load()
	for range 100 {
		c.Post(Notification{Name: "B"})
	}
	flush(t, c)
	if got := o.idles.Load(); got != before || len(f.All()) != 0 || f.asked.Load() != 100 {
		t.Errorf("unwanted names: %d idles (before %d), %d delivered, Wants asked %d times", got, before, len(f.All()), f.asked.Load())
	}
}

// idleCount wraps an observer (keeping its NameFilter) and counts Idle.
type idleCount struct {
	Observer
	idles atomic.Int64
}

func (i *idleCount) Wants(name string) bool {
	if f, ok := i.Observer.(NameFilter); ok {
		return f.Wants(name)
	}
	return true
}
func (i *idleCount) Idle() { i.idles.Add(1) }
