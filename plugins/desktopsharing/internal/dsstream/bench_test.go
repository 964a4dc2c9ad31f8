package dsstream

import (
	"context"
	"fmt"
	"image"

	"runtime"
	"slices"
	"testing"
	"time"

	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing/vnctest"
)

// The benchmarks run a real Xvnc of benchW×benchH and read it with the
// vnctest RFB client, directly ("direct") and through a desktop sharing
// session of two in-process streams ("tunnel", MSRP over TCP;
// "tunnel-tls"), side by side in one run:
//
//	go test -run=NONE -bench=. -benchtime=20x ./plugins/desktopsharing/internal/dsstream/
const benchW, benchH = 1920, 1080

// benchTunnel opens a session whose server side shares x and returns
// the viewer side's port.
func benchTunnel(b *testing.B, x *vnctest.Server, transport string) (viewer string, server, view *end) {
	b.Helper()
	o, a := negotiate(b, setup{transport: transport, offer: ds.Params{Role: ds.RoleViewer, ViewerTimeout: time.Minute},
		answer: map[string]string{ds.SettingVNCServer: x.Addr()}})
	return viewerAddress(b, o), a, o
}

func endBoth(ends ...*end) {
	for _, e := range ends {
		_ = e.s.End(context.Background())
	}
}

// paths are the ways a viewer reaches the Xvnc, measured side by side.
var paths = []string{"direct", "tunnel", "tunnel-tls"}

// viewers connects one RFB client per path (Raw encoding) and returns
// them with the sessions to end.
func viewers(b *testing.B, x *vnctest.Server) (map[string]*vnctest.Client, []*end) {
	b.Helper()
	clients := map[string]*vnctest.Client{}
	var ends []*end
	for _, path := range paths {
		addr := x.Addr()
		if path != "direct" {
			v, s, o := benchTunnel(b, x, map[string]string{"tunnel": "tcp", "tunnel-tls": "tls"}[path])
			addr, ends = v, append(ends, s, o)
		}
		c, err := vnctest.Dial(addr, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.SetEncodings(vnctest.EncodingRaw); err != nil {
			b.Fatal(err)
		}
		clients[path] = c
	}
	return clients, ends
}

// BenchmarkThroughput: one op is, for each path in turn (interleaved, so
// that a busy machine weighs on all alike), a non-incremental full-screen
// Raw update of 1920×1080×32 bpp (8.3 MB) requested and read. Reported:
// each path's RFB MB/s over the whole run and the tunnel's share of the
// direct rate.
func BenchmarkThroughput(b *testing.B) {
	x := vnctest.StartServer(b, vnctest.ServerOptions{Width: benchW, Height: benchH})
	clients, ends := viewers(b, x)
	defer endBoth(ends...)
	spent := map[string]time.Duration{}
	bytes := map[string]int64{}
	for _, c := range clients {
		if err := c.FullUpdate(time.Minute); err != nil { // warm up
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, path := range paths {
			c := clients[path]
			n0, t0 := c.BytesRead(), time.Now()
			if err := c.FullUpdate(time.Minute); err != nil {
				b.Fatalf("%s: %v", path, err)
			}
			spent[path] += time.Since(t0)
			bytes[path] += c.BytesRead() - n0
		}
	}
	b.StopTimer()
	for _, c := range clients {
		c.Close()
	}
	rate := func(p string) float64 { return float64(bytes[p]) / spent[p].Seconds() / 1e6 }
	for _, p := range paths {
		b.ReportMetric(rate(p), p+"-MB/s")
	}
	b.ReportMetric(rate("tunnel")/rate("direct"), "tunnel/direct")
}

// BenchmarkFirstUpdate: one op is, for each path in turn, a viewer's first
// framebuffer update — TCP connect, the RFB handshake (three round trips
// of small messages: where Nagle's algorithm would hold a segment for the
// peer's delayed ACK), then a 64×64 Raw update requested and read — on a
// fresh session for each tunnel (set up outside the timing, the VNC
// server already connected). Reported: p50 and p99 per path, and the
// median of the time the tunnel adds in each op.
func BenchmarkFirstUpdate(b *testing.B) {
	x := vnctest.StartServer(b, vnctest.ServerOptions{Width: benchW, Height: benchH})
	lat := map[string][]time.Duration{}
	var added []time.Duration
	b.ResetTimer()
	for range b.N {
		got := map[string]time.Duration{}
		for _, path := range paths {
			b.StopTimer()
			addr := x.Addr()
			var ends []*end
			if path != "direct" {
				v, s, o := benchTunnel(b, x, map[string]string{"tunnel": "tcp", "tunnel-tls": "tls"}[path])
				addr, ends = v, []*end{s, o}
				s.rec.WaitFor(b, 0, ds.HandlerDidConnect)
			}
			b.StartTimer()
			t0 := time.Now()
			c, err := vnctest.Dial(addr, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.SetEncodings(vnctest.EncodingRaw); err != nil {
				b.Fatal(err)
			}
			if err := c.RequestRect(false, image.Rect(0, 0, 64, 64)); err != nil {
				b.Fatal(err)
			}
			if _, err := c.ReadUpdate(); err != nil {
				b.Fatal(err)
			}
			got[path] = time.Since(t0)
			b.StopTimer()
			c.Close()
			endBoth(ends...)
			b.StartTimer()
		}
		for p, d := range got {
			lat[p] = append(lat[p], d)
		}
		added = append(added, got["tunnel"]-got["direct"])
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, p := range paths {
		l := lat[p]
		slices.Sort(l)
		b.ReportMetric(ms(l[len(l)/2]), p+"-p50-ms")
		b.ReportMetric(ms(l[len(l)*99/100]), p+"-p99-ms")
	}
	slices.Sort(added)
	b.ReportMetric(ms(added[len(added)/2]), "added-p50-ms")
}

// BenchmarkStalledViewer: a viewer asks for 40 full-screen Raw updates
// (330 MB) and reads nothing for a second; the heap of the process
// holding both streams grows by at most a few buffers, whatever the
// server would send (the pumps block instead). Reported: the heap growth
// and the bytes the server side had taken from Xvnc, then the viewer
// reads all 40 updates intact.
func BenchmarkStalledViewer(b *testing.B) {
	x := vnctest.StartServer(b, vnctest.ServerOptions{Width: benchW, Height: benchH})
	for range b.N {
		v, s, o := benchTunnel(b, x, "tcp")
		c, err := vnctest.Dial(v, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.SetEncodings(vnctest.EncodingRaw); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, during runtime.MemStats
		runtime.ReadMemStats(&before)
		const updates = 40
		for range updates {
			if err := c.Request(false); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(time.Second) // a measurement window, not an ordering
		runtime.ReadMemStats(&during)
		_, sa, _ := ds.ReadAttributes(context.Background(), s.s)
		b.ReportMetric(float64(int64(during.HeapInuse)-int64(before.HeapInuse))/1e6, "heap-growth-MB")
		b.ReportMetric(float64(sa.BytesSent)/1e6, "taken-from-vnc-MB")
		for range updates {
			if err := c.FullUpdate(time.Minute); err != nil {
				b.Fatal(fmt.Errorf("reading after the stall: %w", err))
			}
		}
		if n, _ := vnctest.Diff(c.Frame, x.Picture().Image(benchW, benchH)); n != 0 {
			b.Fatalf("%d pixels wrong after the stall", n)
		}
		c.Close()
		endBoth(s, o)
	}
}
