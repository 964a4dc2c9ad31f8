package msrp

import (
	"context"
	"strings"
	"testing"
)

// TestResumedMessageCompletes sends a message resumed from an offset (RFC
// 5547 file-range, the reference's FILE_OFFSET): once the receiver's
// handler marked its first chunk as the message's start, it is told the
// message completed, with its start, and the success REPORT covers the
// bytes received, up to the total. (A chunk starting later without the
// mark is one out of order: TestConnExpectReassembly.)
func TestResumedMessageCompletes(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{ChunkSize: 300, KeepAliveInterval: -1})
	p.rb.setHooks(func(_ context.Context, c *Chunk) int {
		c.StartsMessage = c.Range.Start == 501
		return StatusOK
	}, nil)
	body := strings.Repeat("r", 500)
	d, err := p.a.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: strings.NewReader(body), Size: 500,
		Start: 501, Total: 1000, SuccessReport: true, RangeEndStar: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c := <-p.rb.complete
	if c.MessageID != d.MessageID || c.Start != 501 || c.Size != 500 || c.Aborted {
		t.Fatalf("completion %+v, want start 501 size 500", c)
	}
	rep := <-p.ra.reports
	if rep.MessageID != d.MessageID || rep.Status.Code != StatusOK || rep.Range != (ByteRange{501, 1000, 1000}) {
		t.Fatalf("report %+v, want 501-1000/1000", rep)
	}
}

// TestRangeEndStar: each chunk's Byte-Range is start-*/total, as the
// reference's msrplib writes it for messages over 2048 bytes.
func TestRangeEndStar(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{KeepAliveInterval: -1, ChunkSize: 3000})
	d, err := s.Send(ctx, Outgoing{ContentType: "application/pdf", Body: strings.NewReader(strings.Repeat("x", 5000)), Size: 5000, RangeEndStar: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		rng  string
		size int
		flag byte
	}{{"1-*/5000", 3000, FlagContinued}, {"3001-*/5000", 2000, FlagEnd}} {
		m := p.next()
		if m.Header(HeaderByteRange) != want.rng || len(m.Body) != want.size || m.Flag != want.flag {
			t.Fatalf("chunk %q", m.Marshal()[:200])
		}
		p.answer(m, StatusOK)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRequestMessageHeaders: a request of an extension method (the
// reference's FILE_OFFSET) is answered with headers the handler chose
// (Offset), and the requester reads them from the response; an unanswered
// one gives the local 408 as a Message, not an error.
func TestRequestMessageHeaders(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{KeepAliveInterval: -1})
	p.rb.setHooks(nil, func(_ context.Context, c *Chunk) int {
		if c.Request.Method != "FILE_OFFSET" {
			return StatusNotImplemented
		}
		c.ResponseHeaders = []HeaderField{{Name: "Offset", Value: "4096"}, {Name: "Bad Name", Value: "x"}}
		return StatusOK
	})
	resp, err := p.a.RequestMessage(ctx, "FILE_OFFSET", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != StatusOK || resp.Header("Offset") != "4096" || resp.Header("Bad Name") != "" {
		t.Fatalf("response %q", resp.Marshal())
	}
	if _, err := p.a.RequestMessage(ctx, "NOT A METHOD", nil); err == nil {
		t.Fatal("invalid method accepted")
	}
}

// TestRequestMessageTimeout: no response within ResponseTimeout is the
// local 408 as a Message.
func TestRequestMessageTimeout(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{KeepAliveInterval: -1, ResponseTimeout: 50e6})
	done := make(chan *Message, 1)
	go func() {
		resp, err := s.RequestMessage(ctx, "FILE_OFFSET", nil)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	if m := p.next(); m.Method != "FILE_OFFSET" {
		t.Fatalf("peer got %q", m.Marshal())
	}
	if resp := <-done; resp == nil || resp.StatusCode != StatusRequestTimeout {
		t.Fatalf("response %+v, want the local 408", resp)
	}
}

// TestChunkSendReport: a handler reports each chunk it stores, on the
// bytes it read.
func TestChunkSendReport(t *testing.T) {
	ctx := testContext(t)
	p := newPair(t, false, Config{ChunkSize: 100, KeepAliveInterval: -1})
	p.rb.setHooks(func(_ context.Context, c *Chunk) int {
		buf := make([]byte, 1000)
		n := 0
		for {
			k, err := c.Read(buf[n:])
			n += k
			if err != nil {
				break
			}
		}
		if c.Received() != int64(n) {
			t.Errorf("Received %d, read %d", c.Received(), n)
		}
		if err := c.SendReport(StatusOK, ""); err != nil {
			t.Error(err)
		}
		return StatusOK
	}, nil)
	d, err := p.a.Send(ctx, Outgoing{ContentType: "application/octet-stream", Body: strings.NewReader(strings.Repeat("z", 250)), Size: 250, FailureReport: ReportYes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []ByteRange{{1, 100, 250}, {101, 200, 250}, {201, 250, 250}} {
		rep := <-p.ra.reports
		if rep.Range != want || rep.Status.Code != StatusOK {
			t.Fatalf("report %+v, want %v", rep, want)
		}
	}
}
