package chatstream

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// hub runs many chat streams in one provider, as one plugin process serves
// every session of the host, with the reassembly memory they share.
type hub struct {
	t    testing.TB
	ctx  context.Context
	lp   *sdk.LocalProvider
	ns   sdk.NotificationStream
	pool *reassembly
	seen map[uint64][]*sdk.Notification
	n    int
}

func newHub(t testing.TB) *hub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	pool := &reassembly{}
	lp, err := sdk.NewProvider(plugin("test", pool))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := lp.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lp.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
		cancel()
	})
	return &hub{t: t, ctx: ctx, lp: lp, ns: ns, pool: pool, seen: map[uint64][]*sdk.Notification{}}
}

// waitFor returns the first notification name of stream h.
func (hb *hub) waitFor(h uint64, name string) *sdk.Notification {
	hb.t.Helper()
	for {
		for _, n := range hb.seen[h] {
			if n.Name == name {
				return n
			}
		}
		n, err := hb.ns.Recv()
		if err != nil {
			hb.t.Fatalf("waiting for %s of stream %d: %v", name, h, err)
		}
		hb.seen[n.Handle] = append(hb.seen[n.Handle], n)
	}
}

// hubSession is one chat stream of the hub, answering a raw MSRP peer.
type hubSession struct {
	*rawPeer
	h uint64
	s sdk.Stream
}

// session makes a stream answer a raw peer's offer, with the account
// settings given, and connects and binds the raw peer to it.
func (hb *hub) session(settings map[string]string) *hubSession {
	t := hb.t
	t.Helper()
	hb.n++
	self := fmt.Sprintf("msrp://127.0.0.1:9/rawpeer%04d;tcp", hb.n)
	offer := sessionSDP("127.0.0.1", strings.Replace(rawOffer, "msrp://127.0.0.1:9/rawpeer0001;tcp", self, 1))
	acc := &sdk.Account{ID: "bob", URI: bobID.URI, Settings: settings}
	o, err := hb.lp.NewFromSDP(hb.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer, Account: acc})
	if err != nil {
		t.Fatalf("NewFromSDP: %v", err)
	}
	if err := o.Stream.Initialize(hb.ctx, &sdk.InitializeRequest{Direction: sdk.DirectionIncoming, Session: &sdk.SessionInfo{
		ID: self, Direction: sdk.DirectionIncoming, LocalIP: "127.0.0.1", LocalIdentity: bobID.String(), RemoteIdentity: aliceID.String(),
	}}); err != nil {
		t.Fatal(err)
	}
	hb.waitFor(o.Handle, sdk.MediaStreamDidInitialize)
	res, err := o.Stream.GetLocalMedia(hb.ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		t.Fatal(err)
	}
	answer := sessionSDP("127.0.0.1", res.Media)
	s, md, err := sdk.MediaAt(answer, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := msrpstream.FromSDP(s, md)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Stream.Start(hb.ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", m.Path[0].Addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(2 * testTimeout)); err != nil {
		t.Fatal(err)
	}
	rp := &rawPeer{t: t, conn: conn, r: msrp.NewReader(conn), self: self, stream: m.Path[0].String()}
	tid := rp.write("SEND", rp.stream, "Message-ID: bind1\r\nByte-Range: 1-0/0\r\n", "", nil)
	if resp := rp.read(); resp.TransactionID != tid || resp.StatusCode != 200 {
		t.Fatalf("binding answered %+v", resp)
	}
	hb.waitFor(o.Handle, sdk.MediaStreamDidStart)
	return &hubSession{rawPeer: rp, h: o.Handle, s: o.Stream}
}

// chunk sends one chunk of message id: Byte-Range rng, flag '+', '$' or
// '#', asking for both reports; it returns the transaction id.
func (hs *hubSession) chunk(id, rng string, body []byte, flag byte) string {
	hs.t.Helper()
	hs.seq++
	tid := fmt.Sprintf("rawtid%04d", hs.seq)
	var b bytes.Buffer
	fmt.Fprintf(&b, "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\nByte-Range: %s\r\nSuccess-Report: yes\r\nFailure-Report: yes\r\nContent-Type: text/plain\r\n\r\n",
		tid, hs.stream, hs.self, id, rng)
	b.Write(body)
	fmt.Fprintf(&b, "\r\n-------%s%c\r\n", tid, flag)
	if _, err := hs.conn.Write(b.Bytes()); err != nil {
		hs.t.Fatal(err)
	}
	return tid
}

// end ends the stream as a session does.
func (hs *hubSession) end(hb *hub) {
	hb.t.Helper()
	if err := hs.s.Deactivate(hb.ctx); err != nil {
		hb.t.Fatal(err)
	}
	if err := hs.s.End(hb.ctx); err != nil {
		hb.t.Fatal(err)
	}
	hb.waitFor(hs.h, sdk.MediaStreamDidEnd)
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// bigOffset is the chunk of issue 16: ten bytes claimed near the end of a
// message of 16 MiB, the default chat.max_message_size.
const bigOffset = "16777200-16777209/16777216"

// attack opens n sessions on hb and sends each the big-offset chunk; it
// returns the sessions and the live heap just before and after the
// chunks.
func attack(hb *hub, n int) (sessions []*hubSession, before, after uint64) {
	hb.t.Helper()
	for range n {
		sessions = append(sessions, hb.session(tcpOnlySettings()))
	}
	before = liveHeap()
	for _, hs := range sessions {
		tid := hs.chunk("bigoffset1", bigOffset, []byte("0123456789"), msrp.FlagContinued)
		hs.expect(tid, 200, "", 0)
	}
	after = liveHeap()
	return sessions, before, after
}

// TestBigOffsetChunksStayCheap is the attack of issue 16: 60 sessions of
// one plugin each get a chunk claiming bytes 16777200-16777209 of a
// 16 MiB message. The plugin keeps the ten bytes received, not 16 MiB per
// session (it grew by 985 MB before), and gives them back when the
// sessions end.
func TestBigOffsetChunksStayCheap(t *testing.T) {
	hb := newHub(t)
	sessions, before, after := attack(hb, 60)
	held := hb.pool.inUse()
	t.Logf("live heap %d → %d bytes for 60 big-offset chunks; reassembly holds %d bytes", before, after, held)
	if held > 60*(10+partialCost+pieceCost) {
		t.Errorf("reassembly holds %d bytes for 600 bytes received", held)
	}
	// A generous bound: the allocation by offset took 16 MiB per session.
	if after > before && after-before > 16<<20 {
		t.Errorf("the heap grew by %d bytes for 600 bytes received", after-before)
	}
	for _, hs := range sessions {
		hs.end(hb)
	}
	if n := hb.pool.inUse(); n != 0 {
		t.Errorf("reassembly holds %d bytes after every session ended", n)
	}
}

// BenchmarkBigOffsetChunks measures what the attack of issue 16 costs the
// plugin: live heap and reassembly memory per session, for 60 sessions
// that each get the big-offset chunk.
func BenchmarkBigOffsetChunks(b *testing.B) {
	const n = 60
	var grown, held int64
	for range b.N {
		hb := newHub(b)
		sessions, before, after := attack(hb, n)
		grown += int64(after) - int64(before)
		held += hb.pool.inUse()
		for _, hs := range sessions {
			hs.end(hb)
		}
	}
	b.ReportMetric(float64(grown)/float64(b.N*n), "heap-B/session")
	b.ReportMetric(float64(held)/float64(b.N*n), "held-B/session")
}

// TestReassemblyBounds: each bound on the memory of incoming messages
// refuses with 413 (and a failure REPORT when part of the message was
// accepted), and memory goes back when a message completes, is aborted,
// or its stream ends.
func TestReassemblyBounds(t *testing.T) {
	t.Run("per message, by bytes received", func(t *testing.T) {
		hb := newHub(t)
		settings := tcpOnlySettings()
		settings[chat.SettingMaxMessageSize] = "1000"
		hs := hb.session(settings)
		hs.expect(hs.chunk("m1", "1-600/1000", bytes.Repeat([]byte("a"), 600), msrp.FlagContinued), 200, "", 0)
		// The same bytes again: the claims stay within 1000, the bytes
		// received do not.
		hs.expect(hs.chunk("m1", "1-600/1000", bytes.Repeat([]byte("a"), 600), msrp.FlagContinued), 413, "m1", 413)
		if n := hb.pool.inUse(); n != 0 {
			t.Fatalf("a refused message still holds %d bytes", n)
		}
		hs.expect(hs.chunk("m2", "1-1000/1000", bytes.Repeat([]byte("b"), 1000), msrp.FlagEnd), 200, "m2", 200)
	})
	t.Run("per plugin, released on completion", func(t *testing.T) {
		hb := newHub(t)
		settings := tcpOnlySettings()
		settings[chat.SettingMaxReassemblyMemory] = "4096"
		s1, s2 := hb.session(settings), hb.session(settings)
		s1.expect(s1.chunk("big", "1-2500/3000", bytes.Repeat([]byte("a"), 2500), msrp.FlagContinued), 200, "", 0)
		s2.expect(s2.chunk("other", "1-2000/2000", bytes.Repeat([]byte("b"), 2000), msrp.FlagEnd), 413, "", 0)
		s1.expect(s1.chunk("big", "2501-3000/3000", bytes.Repeat([]byte("a"), 500), msrp.FlagEnd), 200, "big", 200)
		if n := hb.pool.inUse(); n != 0 {
			t.Fatalf("a completed message still holds %d bytes", n)
		}
		s2.expect(s2.chunk("other", "1-2000/2000", bytes.Repeat([]byte("b"), 2000), msrp.FlagEnd), 200, "other", 200)
	})
	t.Run("per plugin, a continuing chunk refused with a REPORT", func(t *testing.T) {
		hb := newHub(t)
		settings := tcpOnlySettings()
		settings[chat.SettingMaxReassemblyMemory] = "4096"
		s1, s2 := hb.session(settings), hb.session(settings)
		s1.expect(s1.chunk("first", "1-2000/6000", bytes.Repeat([]byte("a"), 2000), msrp.FlagContinued), 200, "", 0)
		s2.expect(s2.chunk("second", "1-1000/3000", bytes.Repeat([]byte("b"), 1000), msrp.FlagContinued), 200, "", 0)
		s2.expect(s2.chunk("second", "1001-3000/3000", bytes.Repeat([]byte("b"), 2000), msrp.FlagEnd), 413, "second", 413)
		if n, want := hb.pool.inUse(), int64(2000+partialCost+pieceCost); n != want {
			t.Fatalf("holding %d bytes, want the first message's %d", n, want)
		}
	})
	t.Run("released when the stream ends", func(t *testing.T) {
		hb := newHub(t)
		settings := tcpOnlySettings()
		settings[chat.SettingMaxReassemblyMemory] = "4096"
		s1, s2 := hb.session(settings), hb.session(settings)
		s1.expect(s1.chunk("big", "1-3000/4000", bytes.Repeat([]byte("a"), 3000), msrp.FlagContinued), 200, "", 0)
		s1.end(hb)
		if n := hb.pool.inUse(); n != 0 {
			t.Fatalf("an ended stream still holds %d bytes", n)
		}
		s2.expect(s2.chunk("other", "1-3000/3000", bytes.Repeat([]byte("b"), 3000), msrp.FlagEnd), 200, "other", 200)
	})
	t.Run("released when the sender aborts", func(t *testing.T) {
		hb := newHub(t)
		hs := hb.session(tcpOnlySettings())
		hs.expect(hs.chunk("m1", "1-2000/4000", bytes.Repeat([]byte("a"), 2000), msrp.FlagContinued), 200, "", 0)
		hs.expect(hs.chunk("m1", "2001-2000/4000", nil, msrp.FlagAborted), 200, "", 0)
		if n := hb.pool.inUse(); n != 0 {
			t.Fatalf("an aborted message still holds %d bytes", n)
		}
	})
	t.Run("a message with a gap is refused", func(t *testing.T) {
		hb := newHub(t)
		hs := hb.session(tcpOnlySettings())
		// The end is known ('$'), the total is not: the message completes
		// with only bytes 11-20.
		tid := hs.chunk("gap", "11-20/*", []byte("0123456789"), msrp.FlagEnd)
		hs.expectComment(tid, 200, "gap", 400, "Incomplete message")
		if n := hb.pool.inUse(); n != 0 {
			t.Fatalf("a refused message still holds %d bytes", n)
		}
	})
}
