package streamtest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

func TestRecorderWaits(t *testing.T) {
	r := NewRecorder(WithTimeout(10 * time.Second))
	r.Post("A", nil)
	r.Add(sdk.Notification{Handle: 2, Name: "B", Seq: 1})

	// Notifications recorded before the wait count.
	if n := r.WaitFor(t, 0, "A"); n.Name != "A" || n.Handle != 0 {
		t.Fatalf("WaitFor(A) = %+v", n)
	}
	// A wait wakes on a notification recorded later, from another
	// goroutine; nothing is posted until the wait has looked once.
	waiting := make(chan struct{})
	go func() {
		<-waiting
		r.Add(sdk.Notification{Handle: 2, Name: "C", Seq: 2, Data: []byte(`{"n":1}`)})
		r.Add(sdk.Notification{Handle: 2, Name: "C", Seq: 3})
	}()
	got := r.Wait(t, "a signal", func(n sdk.Notification) bool {
		if n.Name == "B" {
			select {
			case <-waiting:
			default:
				close(waiting)
			}
		}
		return n.Name == "C"
	})
	if got.Seq != 2 || string(got.Data) != `{"n":1}` {
		t.Fatalf("Wait = %+v", got)
	}
	if cs := r.WaitCount(t, 2, 2, "C"); len(cs) != 2 || cs[1].Seq != 3 {
		t.Fatalf("WaitCount = %+v", cs)
	}
	if got := r.Names(2); !slices.Equal(got, []string{"B", "C", "C"}) {
		t.Fatalf("Names(2) = %v", got)
	}
	if got := r.Of(2, "B", "X"); len(got) != 1 || got[0].Name != "B" {
		t.Fatalf("Of(2, B) = %+v", got)
	}
	if got := len(r.All()); got != 4 {
		t.Fatalf("All has %d", got)
	}
}

func TestRecorderCursor(t *testing.T) {
	r := NewRecorder()
	for i, name := range []string{"A", "B", "C", "D", "E"} {
		r.Add(sdk.Notification{Handle: uint64(i % 2), Name: name})
	}
	c := r.Cursor()
	if n := c.Next(t); n.Name != "A" {
		t.Fatalf("Next = %s", n.Name)
	}
	// NextFor skips what does not match, and consumes it.
	if n := c.NextFor(t, 0, "E", "C"); n.Name != "C" {
		t.Fatalf("NextFor = %s", n.Name)
	}
	if n := c.Next(t); n.Name != "D" {
		t.Fatalf("Next after NextFor = %s", n.Name)
	}
	r.Add(sdk.Notification{Handle: 1, Name: "F"})
	r.Add(sdk.Notification{Handle: 0, Name: "barrier"})
	before := c.Until(t, 0, "barrier")
	if len(before) != 2 || before[0].Name != "E" || before[1].Name != "F" {
		t.Fatalf("Until = %+v", before)
	}
	// A second cursor starts at the beginning.
	if n := r.Cursor().NextFor(t, 1, "B"); n.Name != "B" {
		t.Fatalf("new cursor: %s", n.Name)
	}
}

// TestRecorderFailures checks that waits fail, with the notifications in
// the message, when the deadline passes or the source breaks. Nothing is
// ever posted for them, so the short timeout decides no order.
func TestRecorderFailures(t *testing.T) {
	tests := []struct {
		name string
		wait func(r *Recorder, tb runner)
		stop error // given to Stop before the wait, if not nil
		want []string
	}{
		{"deadline", func(r *Recorder, tb runner) { r.WaitFor(tb, 1, "Never") }, nil,
			[]string{"expected Never within 10ms, not posted", "notifications of A (handle 1):", "#7 Seen {}"}},
		{"count", func(r *Recorder, tb runner) { r.WaitCount(tb, 1, 2, "Seen") }, nil,
			[]string{"expected 2 of Seen within"}},
		{"cursor", func(r *Recorder, tb runner) { c := r.Cursor(); c.Next(tb); c.Next(tb) }, nil,
			[]string{"expected a notification within", "notifications:", "[1] Seen"}},
		{"source broke", func(r *Recorder, tb runner) { r.WaitFor(tb, 1, "Never") }, errors.New("connection reset"),
			[]string{"waiting for Never: the notification stream broke: connection reset", "(notification stream broke: connection reset)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorder(WithTimeout(10 * time.Millisecond))
			r.Label(1, "A (handle 1)")
			r.Add(sdk.Notification{Handle: 1, Name: "Seen", Seq: 7})
			if tt.stop != nil {
				r.Stop(tt.stop)
			}
			rec := record(func(tb runner) { tt.wait(r, tb) })
			if !rec.Failed() {
				t.Fatal("the wait did not fail")
			}
			for _, w := range tt.want {
				if !rec.has(w) {
					t.Errorf("failure lacks %q:\n%s", w, strings.Join(rec.out.lines, "\n"))
				}
			}
		})
	}
}

func TestRecorderPostUnmarshalable(t *testing.T) {
	r := NewRecorder()
	r.Post("X", func() {})
	if n := r.WaitFor(t, 0, "X"); len(n.Data) == 0 {
		t.Fatal("no data recorded")
	}
}
