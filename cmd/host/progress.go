package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// jsonProgressInterval bounds how often --json prints a transfer's
// progress (and its hash progress).
const jsonProgressInterval = 500 * time.Millisecond

// transferResult is how one file transfer ended.
type transferResult struct {
	Stream session.Stream
	filetransfer.DidEndData
	Name string // the file's name
}

// transfers follows the file transfers of the command: a progress bar
// each (bytes, rate, ETA) on a terminal, progress events at a bounded
// rate with --json, nothing on other output; and a line per finished
// transfer. It owns one goroutine, which Close stops.
type transfers struct {
	pr      *printer
	bars    *mpb.Progress // nil: no bars
	json    bool
	in      chan notify.Notification
	results chan transferResult // read by the command's loop; never blocks the tracker
	stop    chan struct{}
	done    chan struct{}
	items   map[any]*transferItem // by stream; the goroutine's
	once    sync.Once
}

// transferItem is one file transfer being followed.
type transferItem struct {
	name     string
	send     bool
	bar      *mpb.Bar
	hashBar  bool  // bar shows the hashing
	total    int64 // of the bar
	last     time.Time
	lastJSON time.Time
	start    time.Time
	ended    bool
}

// newTransfers returns a tracker printing with pr; bars are drawn on out
// when it is a terminal and not --json. Subscribe it to the center.
func newTransfers(pr *printer, out io.Writer, asJSON bool) *transfers {
	t := &transfers{
		pr: pr, json: asJSON,
		in:      make(chan notify.Notification, 256),
		results: make(chan transferResult, 64),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		items:   map[any]*transferItem{},
	}
	if f, ok := out.(*os.File); ok && !asJSON && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		t.bars = mpb.New(mpb.WithOutput(out), mpb.WithRefreshRate(150*time.Millisecond))
		pr.setOutput(t.bars) // lines go above the bars
	}
	go t.loop()
	return t
}

// withBars makes t draw its bars on w whatever w is (tests).
func (t *transfers) withBars(w io.Writer) {
	t.bars = mpb.New(mpb.WithOutput(w), mpb.WithWidth(120), mpb.WithAutoRefresh(), mpb.WithRefreshRate(20*time.Millisecond))
	t.pr.setOutput(t.bars)
}

// Wants implements notify.NameFilter: the tracker takes only the file
// transfers' progress and bounds (under a load of calls, nothing else
// reaches its queue).
func (t *transfers) Wants(name string) bool {
	switch name {
	case filetransfer.HandlerHashProgress, filetransfer.HandlerProgress, filetransfer.HandlerDidStart, filetransfer.HandlerDidEnd:
		return true
	}
	return false
}

// HandleNotification implements notify.Observer: the file-transfer
// streams' notifications go to the tracker's goroutine.
func (t *transfers) HandleNotification(n notify.Notification) {
	st, ok := n.Sender.(session.Stream)
	if !ok || !isFile(st) || !t.Wants(n.Name) {
		return
	}
	select {
	case t.in <- n:
	case <-t.stop:
	}
}

// Close stops the tracker: bars still drawn are dropped, and what was
// printed above them is flushed.
func (t *transfers) Close() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		if t.bars != nil {
			for _, it := range t.items {
				if it.bar != nil && !it.bar.Completed() {
					it.bar.Abort(false)
				}
			}
			// Lines written above the bars are flushed by the next
			// redraw: a last bar, complete at once, makes Wait wait for
			// one.
			last := t.bars.AddBar(0, mpb.BarRemoveOnComplete())
			last.SetTotal(-1, true)
			t.bars.Wait()
			t.pr.setOutput(nil)
		}
	})
}

func (t *transfers) loop() {
	defer close(t.done)
	for {
		select {
		case n := <-t.in:
			t.handle(n)
		case <-t.stop:
			return
		}
	}
}

// item returns the transfer of stream st, reading its file's name the
// first time.
func (t *transfers) item(st session.Stream) *transferItem {
	if it := t.items[st]; it != nil {
		return it
	}
	it := &transferItem{name: "file", start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if _, a, err := filetransfer.ReadAttributes(ctx, st); err == nil {
		it.name, it.send = a.Selector.Name, a.Direction == sdk.SendOnly
	}
	cancel()
	t.items[st] = it
	return it
}

func (t *transfers) handle(n notify.Notification) {
	st := n.Sender.(session.Stream)
	it := t.item(st)
	now := time.Now()
	switch n.Name {
	case filetransfer.HandlerHashProgress:
		var d filetransfer.HashProgressData
		if !decodeData(n, &d) {
			return
		}
		t.show(it, true, d.Processed, d.Total, now)
		if t.json && (now.Sub(it.lastJSON) >= jsonProgressInterval || d.Processed == d.Total) {
			it.lastJSON = now
			t.pr.event("file_hash_progress", map[string]any{"file": it.name, "processed": d.Processed, "total": d.Total},
				"hashing %s: %d/%d", it.name, d.Processed, d.Total)
		}
	case filetransfer.HandlerDidStart:
		it.start = now
	case filetransfer.HandlerProgress:
		var d filetransfer.ProgressData
		if !decodeData(n, &d) {
			return
		}
		t.show(it, false, d.TransferredBytes, d.TotalBytes, now)
		if t.json && (now.Sub(it.lastJSON) >= jsonProgressInterval || d.TransferredBytes == d.TotalBytes) {
			it.lastJSON = now
			elapsed := now.Sub(it.start).Seconds()
			rate, eta := 0.0, 0.0
			if elapsed > 0 && d.TransferredBytes > 0 {
				rate = float64(d.TransferredBytes) / elapsed
				eta = float64(d.TotalBytes-d.TransferredBytes) / rate
			}
			t.pr.event("file_progress", map[string]any{"file": it.name, "direction": direction(it.send),
				"transferred_bytes": d.TransferredBytes, "total_bytes": d.TotalBytes, "bytes_per_second": int64(rate), "eta_seconds": eta},
				"%s: %d/%d", it.name, d.TransferredBytes, d.TotalBytes)
		}
	case filetransfer.HandlerDidEnd:
		var d filetransfer.DidEndData
		if !decodeData(n, &d) || it.ended {
			return
		}
		it.ended = true
		if it.bar != nil {
			if d.Error || it.hashBar {
				it.bar.Abort(false)
			} else {
				it.bar.SetCurrent(it.total) // complete
			}
		}
		t.report(it, d, now)
		select {
		case t.results <- transferResult{Stream: st, DidEndData: d, Name: it.name}:
		default: // nobody counts them
		}
	}
}

func direction(send bool) string {
	if send {
		return "send"
	}
	return "receive"
}

// show updates the transfer's bar: one for hashing, then one for the
// transfer.
func (t *transfers) show(it *transferItem, hashing bool, done, total int64, now time.Time) {
	if t.bars == nil || total <= 0 {
		return
	}
	if it.bar != nil && it.hashBar != hashing {
		it.bar.SetTotal(-1, true)
		it.bar = nil
	}
	if it.bar == nil {
		label := "sending " + it.name
		switch {
		case hashing:
			label = "hashing " + it.name
		case !it.send:
			label = "receiving " + it.name
		}
		it.bar = t.bars.AddBar(total,
			mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace)),
			// Averages over the bar's life: progress comes in notifications,
			// which arrive batched, so the gaps between them say little.
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done")))
		it.hashBar, it.last, it.total = hashing, now, total
	}
	it.bar.SetCurrent(done)
	it.last = now
}

// report prints how the transfer ended.
func (t *transfers) report(it *transferItem, d filetransfer.DidEndData, now time.Time) {
	secs := now.Sub(it.start).Seconds()
	fields := map[string]any{"file": it.name, "direction": direction(it.send), "error": d.Error, "reason": d.Reason,
		"path": d.Path, "hash": d.Hash.String(), "verified": d.Verified, "transferred_bytes": d.TransferredBytes,
		"resumed_from": d.ResumedFrom, "seconds": secs}
	rate := ""
	if secs > 0 && d.TransferredBytes > d.ResumedFrom {
		rate = fmt.Sprintf(", %s/s", byteSize(int64(float64(d.TransferredBytes-d.ResumedFrom)/secs)))
	}
	resumed := ""
	if d.ResumedFrom > 0 {
		resumed = fmt.Sprintf(", resumed from byte %d", d.ResumedFrom)
	}
	switch {
	case d.Error:
		t.pr.event("file_transfer_failed", fields, "file %s: %s failed: %s", it.name, map[bool]string{true: "sending", false: "receiving"}[it.send], d.Reason)
	case it.send:
		t.pr.event("file_sent", fields, "file %s sent (%s, %s%s%s)", it.name, byteSize(d.TransferredBytes), d.Hash, rate, resumed)
	default:
		verified := "not verified: the sender gave no hash"
		if d.Verified {
			verified = "verified " + d.Hash.String()
		}
		t.pr.event("file_received", fields, "file %s received as %s (%s, %s%s%s)", it.name, d.Path, byteSize(d.TransferredBytes), verified, rate, resumed)
	}
}
