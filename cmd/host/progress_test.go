package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// fakeFileStream is a file-transfer stream as the tracker sees it: its
// type and attributes. The real streams are in the flow tests
// (filetransfer_test.go); this one lets the tracker's output be read
// without a terminal.
type fakeFileStream struct {
	sdk.UnimplementedStream
	attrs filetransfer.Attributes
}

func (f *fakeFileStream) Type() string                  { return filetransfer.Type }
func (f *fakeFileStream) HoldSupported() bool           { return false }
func (f *fakeFileStream) Prepared() sdk.Prepared        { return sdk.Prepared{} }
func (f *fakeFileStream) Observe(func(sdk.StreamEvent)) {}
func (f *fakeFileStream) Attributes(context.Context) (*sdk.Attributes, error) {
	return sdk.NewAttributes(f.attrs)
}

func post(tr *transfers, st any, name string, data any) {
	raw, _ := json.Marshal(data)
	tr.HandleNotification(notify.Notification{Name: name, Sender: st, Time: time.Now(), Data: json.RawMessage(raw)})
}

// TestProgressBar: on a terminal the tracker draws a bar per transfer
// with the bytes, the rate and the ETA, and prints the outcome above it.
func TestProgressBar(t *testing.T) {
	var out lockedBuffer
	pr := newPrinter(&out, false)
	tr := newTransfers(pr, &out, false)
	tr.withBars(&out)
	st := &fakeFileStream{attrs: filetransfer.Attributes{Direction: sdk.RecvOnly, Selector: filetransfer.Selector{Name: "movie.mkv", Size: 100 << 20}}}
	post(tr, st, filetransfer.HandlerDidStart, nil)
	for i := int64(1); i <= 5; i++ {
		post(tr, st, filetransfer.HandlerProgress, filetransfer.ProgressData{TransferredBytes: i * 10 << 20, TotalBytes: 100 << 20})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !out.waitFor(ctx, "receiving movie.mkv") || !out.waitFor(ctx, "50.0 MiB / 100.0 MiB") {
		t.Fatalf("no bar drawn:\n%q", tail(out.String()))
	}
	h, _ := filetransfer.ParseHash("sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E")
	post(tr, st, filetransfer.HandlerDidEnd, filetransfer.DidEndData{Path: "/tmp/movie.mkv", Hash: h, Verified: true, TransferredBytes: 100 << 20})
	r := <-tr.results
	if r.Error || r.Name != "movie.mkv" {
		t.Fatalf("result %+v", r)
	}
	tr.Close()
	got := out.String()
	for _, want := range []string{"iB/s", "100.0 MiB / 100.0 MiB", "done", "file movie.mkv received as /tmp/movie.mkv (100.0 MiB, verified sha-1:72:24:5F"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, tail(got))
		}
	}
}

// TestProgressJSON: with --json the tracker prints progress at a bounded
// rate — not one line per notification — and always the last one.
func TestProgressJSON(t *testing.T) {
	var out bytes.Buffer
	pr := newPrinter(&out, true)
	tr := newTransfers(pr, &out, true)
	st := &fakeFileStream{attrs: filetransfer.Attributes{Direction: sdk.SendOnly, Selector: filetransfer.Selector{Name: "a.bin", Size: 1000}}}
	for i := int64(1); i <= 1000; i++ {
		post(tr, st, filetransfer.HandlerProgress, filetransfer.ProgressData{TransferredBytes: i, TotalBytes: 1000})
	}
	post(tr, st, filetransfer.HandlerDidEnd, filetransfer.DidEndData{TransferredBytes: 1000})
	<-tr.results
	tr.Close()
	var progress, last int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l jsonLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if l.Name == "file_progress" {
			progress++
			if l.TransferredBytes == 1000 {
				last++
			}
		}
	}
	if progress < 1 || progress > 10 || last != 1 {
		t.Fatalf("%d progress lines (last %d) for 1000 notifications:\n%s", progress, last, out.String())
	}
}

// tail is the end of a long output.
func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
