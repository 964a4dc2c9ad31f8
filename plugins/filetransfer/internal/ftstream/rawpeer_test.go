package ftstream

import (
	"context"
	"crypto/sha1" //nolint:gosec
	"hash"
	"io"
	"strconv"
	"sync"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// rawPeer is the far end of a transfer written directly with sdk/msrp,
// for what our own plugin never sends: a flipped byte, a message cut
// short, a CPIM payload, a SEND to a sender. It always dials (a=setup:
// active), over TCP, and records what it receives.
type rawPeer struct {
	t     testing.TB
	local msrp.URI
	// offset, when >= 0, answers FILE_OFFSET with 200 and this Offset.
	offset int64
	// report makes the peer REPORT 200 on each SEND chunk it receives.
	report bool

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every record
	reports  []msrp.Report
	requests []*msrp.Message // heads of the requests received
	body     hash.Hash       // the SEND bodies received, in order
	received int64
	sess     *msrp.Session
	listener *msrp.Listener // when the peer waits for the connection
}

func newRawPeer(t testing.TB) *rawPeer {
	rp := &rawPeer{
		t:       t,
		local:   msrp.URI{Host: "127.0.0.1", Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"},
		offset:  -1,
		changed: make(chan struct{}),
		body:    sha1.New(), //nolint:gosec
	}
	t.Cleanup(func() {
		if rp.sess != nil {
			_ = rp.sess.Close()
		}
		if rp.listener != nil {
			_ = rp.listener.Close()
		}
	})
	return rp
}

// selectorAttrs are the a=file-selector (and a=x-file-offset when
// resume) of a file.
func selectorAttrs(sel filetransfer.Selector, resume bool) []sdp.Attribute {
	attrs := []sdp.Attribute{{Key: filetransfer.AttrFileSelector, Value: sel.String()}}
	if resume {
		attrs = append(attrs, sdp.NewPropertyAttribute(filetransfer.AttrFileOffset))
	}
	return append(attrs, sdp.Attribute{Key: filetransfer.AttrFileTransferID, Value: "raw-peer-transfer"})
}

// sdp is the peer's offer: one m=message line with its direction dir
// and attrs; the peer will dial (a=setup:active).
func (rp *rawPeer) sdp(dir sdk.MediaDirection, attrs ...sdp.Attribute) string {
	rp.t.Helper()
	return rp.media(dir, msrpstream.SetupActive, attrs)
}

// answer is the peer's answer to offer: it dials an offerer that waits
// (actpass or passive) and waits for one that dials (active).
func (rp *rawPeer) answer(offer string, dir sdk.MediaDirection, attrs ...sdp.Attribute) string {
	rp.t.Helper()
	m, err := msrpstream.ParseMediaAt(offer, 0, msrpstream.TransportTCP)
	if err != nil {
		rp.t.Fatal(err)
	}
	if m.Setup != msrpstream.SetupActive {
		return rp.media(dir, msrpstream.SetupActive, attrs)
	}
	l, err := msrp.Listen(context.Background(), "127.0.0.1:0", msrp.Config{})
	if err != nil {
		rp.t.Fatal(err)
	}
	rp.listener, rp.local = l, l.URI(msrp.NewSessionID())
	return rp.media(dir, msrpstream.SetupPassive, attrs)
}

func (rp *rawPeer) media(dir sdk.MediaDirection, setup msrpstream.Setup, attrs []sdp.Attribute) string {
	rp.t.Helper()
	m := &msrpstream.Media{
		MediaType: filetransfer.MediaType, Transport: msrpstream.TransportTCP, Path: []msrp.URI{rp.local},
		Direction: dir, AcceptTypes: []string{"*"}, Setup: setup, Attributes: attrs,
	}
	text, err := m.Marshal()
	if err != nil {
		rp.t.Fatal(err)
	}
	return sessionSDP(text)
}

// dial connects to the path of m-line 0 of remote and binds the session,
// or accepts the remote's connection when the peer answered passive.
func (rp *rawPeer) dial(ctx context.Context, remote string) *msrp.Session {
	rp.t.Helper()
	m, err := msrpstream.ParseMediaAt(remote, 0, msrpstream.TransportTCP)
	if err != nil {
		rp.t.Fatal(err)
	}
	h := msrp.HandlerFuncs{
		Chunk: rp.handleChunk,
		Report: func(_ context.Context, r *msrp.Report) {
			rp.record(func() { rp.reports = append(rp.reports, *r) })
		},
		Request: rp.handleRequest,
	}
	var sess *msrp.Session
	if rp.listener != nil {
		sess, err = rp.listener.Accept(ctx, rp.local, m.Path, h)
	} else {
		sess, err = msrp.Dial(ctx, rp.local, m.Path, h, msrp.Config{ChunkSize: 64 << 10})
	}
	if err != nil {
		rp.t.Fatalf("raw peer: connect: %v", err)
	}
	rp.sess = sess
	return sess
}

func (rp *rawPeer) record(f func()) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	f()
	close(rp.changed)
	rp.changed = make(chan struct{})
}

func (rp *rawPeer) handleChunk(_ context.Context, c *msrp.Chunk) int {
	head := *c.Request
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := c.Read(buf)
		rp.mu.Lock()
		rp.body.Write(buf[:k])
		rp.mu.Unlock()
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return msrp.StatusBadRequest
		}
	}
	rp.record(func() {
		rp.requests = append(rp.requests, &head)
		rp.received += n
	})
	if rp.report && n > 0 {
		_ = c.SendReport(msrp.StatusOK, "")
	}
	return msrp.StatusOK
}

func (rp *rawPeer) handleRequest(_ context.Context, c *msrp.Chunk) int {
	head := *c.Request
	rp.record(func() { rp.requests = append(rp.requests, &head) })
	if c.Request.Method == filetransfer.MethodFileOffset && rp.offset >= 0 {
		c.ResponseHeaders = []msrp.HeaderField{{Name: filetransfer.HeaderOffset, Value: strconv.FormatInt(rp.offset, 10)}}
		return msrp.StatusOK
	}
	return msrp.StatusNotImplemented
}

// waitFor waits until cond holds over what the peer recorded (rp.mu is
// held while cond runs), within the test's deadline.
func (rp *rawPeer) waitFor(ctx context.Context, what string, cond func() bool) {
	rp.t.Helper()
	for {
		rp.mu.Lock()
		ok, ch := cond(), rp.changed
		rp.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			rp.t.Fatalf("raw peer: waiting for %s: %v", what, ctx.Err())
		}
	}
}

// report waits for a REPORT with status code and returns it.
func (rp *rawPeer) reportWith(ctx context.Context, code int) msrp.Report {
	rp.t.Helper()
	var got msrp.Report
	rp.waitFor(ctx, "REPORT "+strconv.Itoa(code), func() bool {
		for _, r := range rp.reports {
			if r.Status.Code == code {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// request waits for the first request of method and returns its head.
func (rp *rawPeer) request(ctx context.Context, method string) *msrp.Message {
	rp.t.Helper()
	var got *msrp.Message
	rp.waitFor(ctx, method, func() bool {
		for _, m := range rp.requests {
			if m.Method == method {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// sum is the SHA-1 of the SEND bodies received.
func (rp *rawPeer) sum() filetransfer.Hash {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var h filetransfer.Hash
	copy(h[:], rp.body.Sum(nil))
	return h
}
