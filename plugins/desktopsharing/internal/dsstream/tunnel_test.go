package dsstream

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net"
	"sync"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing/vnctest"
)

// tunnel is a started session between a server side connected to a real
// Xvnc and an external viewer side.
type tunnel struct {
	xvnc           *vnctest.Server
	server, viewer *end
	viewerAddr     string
}

// openTunnel starts Xvnc and a session whose offerer has the given role.
func openTunnel(t *testing.T, transport string, offerer ds.Role) *tunnel {
	t.Helper()
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 320, Height: 200})
	su := setup{transport: transport}
	if offerer == ds.RoleServer {
		su.offer = ds.Params{Role: ds.RoleServer, VNCServer: x.Addr()}
	} else {
		su.offer = ds.Params{Role: ds.RoleViewer}
		su.answer = map[string]string{ds.SettingVNCServer: x.Addr()}
	}
	o, a := negotiate(t, su)
	tn := &tunnel{xvnc: x, server: a, viewer: o}
	if offerer == ds.RoleServer {
		tn.server, tn.viewer = o, a
	}
	for _, e := range []*end{o, a} {
		noFailure(t, e)
	}
	tn.server.rec.WaitFor(t, 0, ds.HandlerDidConnect)
	tn.viewerAddr = viewerAddress(t, tn.viewer)
	return tn
}

// frame connects an RFB client to addr and returns the framebuffer of two
// full updates in the encoding given (the second proves the connection
// keeps working, and ZRLE's zlib stream with it).
func frame(t *testing.T, addr string, enc int32) *image.RGBA {
	t.Helper()
	c, err := vnctest.Dial(addr, waitLimit)
	if err != nil {
		t.Fatalf("RFB client to %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.SetEncodings(enc); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.FullUpdate(waitLimit); err != nil {
			t.Fatalf("update from %s: %v", addr, err)
		}
	}
	return c.Frame
}

// TestTunnel: a real RFB client connected to the viewer side's port gets a
// framebuffer identical, pixel for pixel, to the one it gets connecting to
// the Xvnc directly — and to the known picture — in Raw and in ZRLE, with
// either side offering, over MSRP TCP and TLS. vncsnapshot, a third-party
// client, gets the same picture through the tunnel as directly.
func TestTunnel(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		for _, offerer := range []ds.Role{ds.RoleViewer, ds.RoleServer} {
			t.Run(fmt.Sprintf("%s/%s-offers", transport, offerer), func(t *testing.T) {
				tn := openTunnel(t, transport, offerer)
				want := tn.xvnc.Picture().Image(tn.xvnc.Size())
				// The viewer port takes one viewer: one client, two encodings.
				c, err := vnctest.Dial(tn.viewerAddr, waitLimit)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, enc := range []int32{vnctest.EncodingRaw, vnctest.EncodingZRLE} {
					if err := c.SetEncodings(enc); err != nil {
						t.Fatal(err)
					}
					for range 2 {
						if err := c.FullUpdate(waitLimit); err != nil {
							t.Fatalf("encoding %d through the tunnel: %v", enc, err)
						}
					}
					direct := frame(t, tn.xvnc.Addr(), enc)
					if n, at := vnctest.Diff(c.Frame, direct); n != 0 {
						t.Fatalf("encoding %d: %d pixels differ from the direct connection's, first at %v", enc, n, at)
					}
					if n, at := vnctest.Diff(c.Frame, want); n != 0 {
						t.Fatalf("encoding %d: %d pixels differ from the picture, first at %v", enc, n, at)
					}
				}
				_, sa, _ := ds.ReadAttributes(context.Background(), tn.server.s)
				_, va, _ := ds.ReadAttributes(context.Background(), tn.viewer.s)
				if !sa.Connected || !va.Connected || sa.Role != ds.RoleServer || va.Role != ds.RoleViewer ||
					sa.BytesSent < 2*320*200*4 || va.BytesReceived != sa.BytesSent || sa.VNCServer != tn.xvnc.Addr() {
					t.Errorf("attributes: server %+v, viewer %+v", sa, va)
				}
				for _, e := range []*end{tn.server, tn.viewer} {
					noFailure(t, e)
				}
			})
		}
	}
}

// TestTunnelSnapshot: Debian's vncsnapshot through the tunnel takes the
// same picture as directly, with Raw and with zlib.
func TestTunnelSnapshot(t *testing.T) {
	for _, enc := range []string{"raw", "zlib"} {
		t.Run(enc, func(t *testing.T) {
			tn := openTunnel(t, "tls", ds.RoleViewer)
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			through, err := vnctest.Snapshot(ctx, t, tn.viewerAddr, enc)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := vnctest.Snapshot(ctx, t, tn.xvnc.Addr(), enc)
			if err != nil {
				t.Fatal(err)
			}
			if string(through) != string(direct) {
				t.Fatalf("vncsnapshot through the tunnel (%d bytes) differs from direct (%d bytes)", len(through), len(direct))
			}
		})
	}
}

// TestVNCServerKilled: a VNC server that dies fails the server side with
// context reading and a reason naming its address; the handler's failure
// comes first with the same data.
func TestVNCServerKilled(t *testing.T) {
	tn := openTunnel(t, "tcp", ds.RoleViewer)
	c, err := vnctest.Dial(tn.viewerAddr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tn.xvnc.Kill()
	hf := decode[ds.FailData](t, tn.server.rec.WaitFor(t, 0, ds.HandlerDidFail))
	mf := decode[sdk.DidFailData](t, tn.server.rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	if hf.Context != ds.ContextReading || !contains(hf.Reason, "VNC server", tn.xvnc.Addr()) || mf.Context != hf.Context || mf.Reason != hf.Reason {
		t.Fatalf("HandlerDidFail %+v, MediaStreamDidFail %+v: want context reading naming %s", hf, mf, tn.xvnc.Addr())
	}
	names := tn.server.rec.Names(0)
	if i, j := index(names, ds.HandlerDidFail), index(names, sdk.MediaStreamDidFail); i < 0 || j < i {
		t.Fatalf("order %v", names)
	}
}

func index(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// TestViewerClosed: a VNC viewer that disconnects ends the handler
// (HandlerDidEnd), fails nothing; both streams then end cleanly.
func TestViewerClosed(t *testing.T) {
	tn := openTunnel(t, "tcp", ds.RoleServer)
	frame(t, tn.viewerAddr, vnctest.EncodingRaw) // connects, updates, closes
	d := decode[ds.EndData](t, tn.viewer.rec.WaitFor(t, 0, ds.HandlerDidEnd))
	if d.Reason != viewerClosed {
		t.Fatalf("HandlerDidEnd %+v", d)
	}
	ctx := context.Background()
	for _, e := range []*end{tn.viewer, tn.server} {
		if err := e.s.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []*end{tn.viewer, tn.server} {
		if err := e.s.End(ctx); err != nil {
			t.Fatal(err)
		}
		e.rec.WaitFor(t, 0, sdk.MediaStreamDidEnd)
		noFailure(t, e)
	}
	// The port took one viewer only.
	if c, err := net.Dial("tcp", tn.viewerAddr); err == nil {
		c.Close()
		t.Errorf("the viewer port %s still takes connections", tn.viewerAddr)
	}
}

// TestConnectFailures: a VNC server that is not there, and a viewer that
// never comes, fail the stream with context connecting and a reason
// naming the address.
func TestConnectFailures(t *testing.T) {
	t.Run("no VNC server", func(t *testing.T) {
		addr := closedPort(t)
		_, a := negotiate(t, setup{offer: ds.Params{Role: ds.RoleViewer}, answer: map[string]string{ds.SettingVNCServer: addr}})
		hf := decode[ds.FailData](t, a.rec.WaitFor(t, 0, ds.HandlerDidFail))
		mf := decode[sdk.DidFailData](t, a.rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
		if hf.Context != ds.ContextConnecting || !contains(hf.Reason, "could not connect to the VNC server at "+addr, "refused") || mf != (sdk.DidFailData{Context: hf.Context, Reason: hf.Reason}) {
			t.Fatalf("HandlerDidFail %+v, MediaStreamDidFail %+v", hf, mf)
		}
	})
	t.Run("no viewer", func(t *testing.T) {
		o, _ := negotiate(t, setup{offer: ds.Params{Role: ds.RoleViewer, ViewerTimeout: 1}, answer: map[string]string{ds.SettingHandler: "internal"}})
		hf := decode[ds.FailData](t, o.rec.WaitFor(t, 0, ds.HandlerDidFail))
		if hf.Context != ds.ContextConnecting || !contains(hf.Reason, "no VNC viewer connected to 127.0.0.1:") {
			t.Fatalf("HandlerDidFail %+v", hf)
		}
	})
}

// pipeApp is an application with its own VNC code on an internal
// handler: its RFB client talks through a net.Pipe whose other end is
// pumped by send_data and by the GotData notifications, acknowledged with
// ack_data.
type pipeApp struct {
	app, client net.Conn
	got         chan []byte
}

func newPipeApp() *pipeApp {
	a, c := net.Pipe()
	return &pipeApp{app: a, client: c, got: make(chan []byte, 1024)}
}

func (p *pipeApp) observe(name string, data any) {
	if name == ds.GotData {
		p.got <- append([]byte(nil), data.(ds.DataData).Data...)
	}
}

// run pumps both ways until the pipe closes.
func (p *pipeApp) run(t *testing.T, s *stream) {
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	done := make(chan struct{})
	t.Cleanup(func() { p.app.Close(); close(done); wg.Wait() })
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := p.app.Read(buf)
			if n > 0 {
				if err := ds.SendData(ctx, s, buf[:n]); err != nil {
					t.Errorf("send_data: %v", err)
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			var b []byte
			select {
			case b = <-p.got:
			case <-done:
				return
			}
			if _, err := p.app.Write(b); err != nil {
				return
			}
			if err := ds.AckData(ctx, s, int64(len(b))); err != nil {
				t.Errorf("ack_data: %v", err)
				return
			}
		}
	}()
}

// TestInternalHandler: an application's own RFB client, on an internal
// viewer, gets the picture through send_data and GotData, with a window
// smaller than one update so that ack_data must open it.
func TestInternalHandler(t *testing.T) {
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 320, Height: 200})
	app := newPipeApp()
	o, a := negotiate(t, setup{
		offer:        ds.Params{Role: ds.RoleViewer, Handler: ds.HandlerInternal},
		offerAcc:     map[string]string{ds.SettingInternalWindow: "102400"}, // below one 320×200 Raw update (250 KiB)
		answer:       map[string]string{ds.SettingVNCServer: x.Addr()},
		observeOffer: app.observe,
	})
	noFailure(t, o)
	noFailure(t, a)
	app.run(t, o.s)
	c, err := vnctest.NewClient(app.client, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetEncodings(vnctest.EncodingRaw); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.FullUpdate(waitLimit); err != nil {
			t.Fatal(err)
		}
	}
	if n, at := vnctest.Diff(c.Frame, x.Picture().Image(x.Size())); n != 0 {
		t.Fatalf("%d pixels differ from the picture, first at %v", n, at)
	}
	// send_data is the internal handler's only.
	if err := ds.SendData(context.Background(), a.s, []byte("x")); !errors.Is(err, sdk.ErrIllegalState) {
		t.Fatalf("send_data on an external handler: %v", err)
	}
}
