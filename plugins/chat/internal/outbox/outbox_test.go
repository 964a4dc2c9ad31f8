package outbox

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// log is a Notifier that records "Name id code reason" lines.
type log struct {
	mu    sync.Mutex
	lines []string
}

func (l *log) Post(name string, data any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch d := data.(type) {
	case chat.DidSendMessageData:
		l.lines = append(l.lines, name+" "+d.MessageID)
	case chat.DeliveryData:
		l.lines = append(l.lines, fmt.Sprintf("%s %s %d %s", name, d.MessageID, d.Code, d.Reason))
	default:
		l.lines = append(l.lines, fmt.Sprintf("%s %T", name, data))
	}
}

func TestOutboxSequences(t *testing.T) {
	tests := []struct {
		name string
		// add ID | add- ID (untracked) | take | sent ID [SIZE (10)] |
		// result ID CODE | report ID CODE [BYTE-RANGE (1-10/10)] | close
		events []string
		want   []string
	}{
		{
			name:   "delivered",
			events: []string{"add a", "take", "sent a", "result a 200", "report a 200"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "failure report",
			events: []string{"add a", "take", "sent a", "result a 200", "report a 413"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 413 Stop"},
		},
		{
			name:   "failed transaction, then a late report is ignored",
			events: []string{"add a", "take", "sent a", "result a 408", "report a 200"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 408 Timeout"},
		},
		{
			name:   "report before Sent still posts DidSend first",
			events: []string{"add a", "take", "report a 200", "sent a"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "close reports queued and unacknowledged in order",
			events: []string{"add a", "add b", "add c", "take", "sent a", "close"},
			want: []string{"ChatStreamDidSendMessage a",
				"ChatStreamDidNotDeliverMessage a 0 Stream ended",
				"ChatStreamDidNotDeliverMessage b 0 Stream ended",
				"ChatStreamDidNotDeliverMessage c 0 Stream ended"},
		},
		{
			name:   "close after delivery reports nothing more",
			events: []string{"add a", "take", "sent a", "report a 200", "close", "close"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "confirmed chunk by chunk",
			events: []string{"add a", "take", "sent a 5000", "result a 200", "report a 200 1-2048/5000", "report a 200 2049-4096/5000", "report a 200 4097-5000/5000"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "confirmed out of order, the end written as *",
			events: []string{"add a", "take", "sent a 5000", "report a 200 4097-*/5000", "report a 200 1-2048/5000", "report a 200 2049-4096/5000", "report a 200 1-5000/5000"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "first part confirmed, the rest refused",
			events: []string{"add a", "take", "sent a 5000", "result a 200", "report a 200 1-2048/5000", "report a 413 2049-4096/5000", "report a 413 4097-5000/5000"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 413 Stop"},
		},
		{
			name:   "first part confirmed, the rest never",
			events: []string{"add a", "take", "sent a 5000", "result a 200", "report a 200 1-2048/5000", "report a 200 1-2048/5000", "close"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 0 Stream ended"},
		},
		{
			name:   "a refused later chunk after the first was confirmed",
			events: []string{"add a", "take", "sent a 5000", "report a 200 1-2048/5000", "result a 413"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 413 Stop"},
		},
		{
			name:   "part confirmed before Sent tells the size",
			events: []string{"add a", "take", "report a 200 1-5/10", "sent a 10", "report a 200 6-10/10"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "an empty body is confirmed by any success REPORT",
			events: []string{"add a", "take", "sent a 0", "report a 200 1-0/0"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidDeliverMessage a 200 OK"},
		},
		{
			name:   "an empty range does not confirm a body",
			events: []string{"add a", "take", "sent a 10", "report a 200 1-0/10", "close"},
			want:   []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 0 Stream ended"},
		},
		{
			name:   "untracked messages are silent",
			events: []string{"add- c", "take", "sent c", "result c 408", "report c 200", "add- d", "close"},
			want:   nil,
		},
	}
	comments := map[string]string{"200": "OK", "413": "Stop", "408": "Timeout"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &log{}
			o := New(l)
			for _, ev := range tt.events {
				f := strings.Fields(ev)
				code := 0
				if len(f) >= 3 && f[0] != "sent" {
					fmt.Sscan(f[2], &code)
				}
				switch f[0] {
				case "add", "add-":
					if err := o.Add(Item{ID: f[1], Track: f[0] == "add"}); err != nil {
						t.Fatal(err)
					}
				case "take":
					if _, ok := o.Take(); !ok {
						t.Fatal("nothing to take")
					}
				case "sent":
					size := int64(10)
					if len(f) == 3 {
						fmt.Sscan(f[2], &size)
					}
					o.Sent(f[1], size)
				case "result":
					o.Result(f[1], code, comments[f[2]])
				case "report":
					rng := msrp.ByteRange{Start: 1, End: 10, Total: 10}
					if len(f) == 4 {
						var err error
						if rng, err = msrp.ParseByteRange(f[3]); err != nil {
							t.Fatal(err)
						}
					}
					o.Report(f[1], rng, code, comments[f[2]])
				case "close":
					o.Close(chat.ReasonStreamEnded)
				}
			}
			if !reflect.DeepEqual(l.lines, tt.want) {
				t.Fatalf("notifications\n %q\nwant\n %q", l.lines, tt.want)
			}
		})
	}
}

func TestTakeKeepsOrder(t *testing.T) {
	o := New(&log{})
	for i := range 5 {
		if err := o.Add(Item{ID: fmt.Sprint(i), Track: true}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-o.Ready():
	default:
		t.Fatal("Ready not signalled after Add")
	}
	for i := range 5 {
		it, ok := o.Take()
		if !ok || it.ID != fmt.Sprint(i) {
			t.Fatalf("take %d: %+v %v", i, it, ok)
		}
	}
	if _, ok := o.Take(); ok {
		t.Fatal("take from an empty outbox")
	}
}

func TestAddAfterClose(t *testing.T) {
	o := New(&log{})
	o.Close(chat.ReasonStreamEnded)
	if err := o.Add(Item{ID: "x", Track: true}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}

// TestLongSessionCompacts: finished messages do not accumulate.
func TestLongSessionCompacts(t *testing.T) {
	o := New(&log{})
	for i := range 10000 {
		id := fmt.Sprint(i)
		if err := o.Add(Item{ID: id, Track: true}); err != nil {
			t.Fatal(err)
		}
		o.Take()
		o.Sent(id, 10)
		o.Report(id, msrp.ByteRange{Start: 1, End: 10, Total: 10}, 200, "OK")
	}
	o.mu.Lock()
	n := len(o.order)
	o.mu.Unlock()
	if n > 200 {
		t.Fatalf("order holds %d IDs after every message finished", n)
	}
}

func TestConcurrentEventsGiveOneOutcome(t *testing.T) {
	l := &log{}
	o := New(l)
	const n = 200
	for i := range n {
		if err := o.Add(Item{ID: fmt.Sprint(i), Track: true}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprint(i)
		wg.Add(3)
		go func() { defer wg.Done(); o.Report(id, msrp.ByteRange{Start: 1, End: 10, Total: 10}, 200, "OK") }()
		go func() { defer wg.Done(); o.Result(id, 408, "Timeout") }()
		go func() { defer wg.Done(); o.Close(chat.ReasonStreamEnded) }()
	}
	wg.Wait()
	final := map[string]int{}
	for _, line := range l.lines {
		f := strings.Fields(line)
		if f[0] != chat.DidSendMessage {
			final[f[1]]++
		}
	}
	for i := range n {
		if c := final[fmt.Sprint(i)]; c != 1 {
			t.Fatalf("message %d has %d final notifications", i, c)
		}
	}
}

// TestScatteredReportsAreBounded: a peer that confirms every other byte
// does not grow a message's state without bound, and its REPORTs never
// add up to a delivery.
func TestScatteredReportsAreBounded(t *testing.T) {
	l := &log{}
	o := New(l)
	if err := o.Add(Item{ID: "a", Track: true}); err != nil {
		t.Fatal(err)
	}
	o.Take()
	o.Sent("a", 10000)
	for i := int64(1); i <= 10000; i += 2 {
		o.Report("a", msrp.ByteRange{Start: i, End: i, Total: 10000}, 200, "OK")
	}
	o.mu.Lock()
	n := len(o.states["a"].spans)
	o.mu.Unlock()
	if n > maxSpans {
		t.Fatalf("%d spans remembered, at most %d wanted", n, maxSpans)
	}
	o.Close(chat.ReasonStreamEnded)
	want := []string{"ChatStreamDidSendMessage a", "ChatStreamDidNotDeliverMessage a 0 Stream ended"}
	if !reflect.DeepEqual(l.lines, want) {
		t.Fatalf("notifications %q, want %q", l.lines, want)
	}
}

// TestAddAll: items added together are taken in order, before those added
// later; each gets its outcome; after Close, AddAll queues nothing.
func TestAddAll(t *testing.T) {
	l := &log{}
	o := New(l)
	if err := o.AddAll([]Item{{ID: "a", Track: true}, {ID: "b", Track: true}, {ID: "c"}}); err != nil {
		t.Fatal(err)
	}
	if err := o.Add(Item{ID: "d", Track: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c", "d"} {
		if it, ok := o.Take(); !ok || it.ID != want {
			t.Fatalf("took %+v %v, want %s", it, ok, want)
		}
	}
	o.Close(chat.ReasonStreamEnded)
	if err := o.AddAll([]Item{{ID: "e", Track: true}}); !errors.Is(err, ErrClosed) || o.Len() != 0 {
		t.Fatalf("AddAll after Close: %v, %d queued", err, o.Len())
	}
	want := []string{"ChatStreamDidNotDeliverMessage a 0 Stream ended", "ChatStreamDidNotDeliverMessage b 0 Stream ended", "ChatStreamDidNotDeliverMessage d 0 Stream ended"}
	if !reflect.DeepEqual(l.lines, want) {
		t.Fatalf("notifications %q, want %q", l.lines, want)
	}
}
