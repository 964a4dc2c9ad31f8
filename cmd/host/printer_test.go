package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// countingWriter counts the writes that reach it.
type countingWriter struct {
	lockedBuffer
	writes atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return w.lockedBuffer.Write(p)
}

// printLine hands the printer a notification and tells it its queue is
// empty, as the notification center does.
func printLine(pr *printer, name string) {
	pr.HandleNotification(notify.Notification{Name: name, Time: time.Now()})
	pr.Idle()
}

// TestPrinterWrites: the printer writes its lines out when its queue
// empties, but not more often than once per flushEvery: a steady stream
// of notifications costs a write per flushEvery, not one each. Every line
// still comes out, by the timer, without another notification; Close
// writes out the rest at once.
func TestPrinterWrites(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", asJSON), func(t *testing.T) {
			var out countingWriter
			pr := newPrinter(&out, asJSON)
			start := time.Now()
			const n = 2000
			for i := range n {
				printLine(pr, fmt.Sprintf("Line%04d", i))
			}
			elapsed, writes := time.Since(start), out.writes.Load()
			// The last line comes out without anything more happening.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if !out.waitFor(ctx, fmt.Sprintf("Line%04d", n-1)) {
				t.Fatalf("the last line was not written out: %q", tail(out.String()))
			}
			if got := strings.Count(out.String(), "Line"); got != n {
				t.Fatalf("%d lines written, want %d", got, n)
			}
			// While printing: one write at once (the first Idle), then at
			// most one per flushEvery, by Idle or by its timer, and one per
			// full buffer.
			if max := int64(elapsed/flushEvery) + 2 + int64(len(out.String())/(64<<10)); writes > max {
				t.Fatalf("%d writes for %d lines in %v, want at most %d", writes, n, elapsed, max)
			}

			// A line printed right after a write waits for the timer;
			// Close writes it at once.
			printLine(pr, "Before")
			printLine(pr, "Closing")
			pr.Close()
			if s := out.String(); !strings.Contains(s, "Before") || !strings.Contains(s, "Closing") {
				t.Fatalf("Close did not write out the last lines: %q", tail(s))
			}
			// After Close, Idle writes at once.
			printLine(pr, "AfterClose")
			if !strings.Contains(out.String(), "AfterClose") {
				t.Fatalf("a line after Close was not written out at once: %q", tail(out.String()))
			}
		})
	}
}
