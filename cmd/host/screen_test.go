package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing/vnctest"
)

var (
	screenOnce sync.Once
	screenDir  string
	screenErr  error
)

// screenPlugins is a plugin directory with the desktop sharing plugin
// and the echo plugin (for a second session), built once.
func screenPlugins(t *testing.T) string {
	t.Helper()
	screenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipstreams-screen-plugins-")
		if err != nil {
			screenErr = err
			return
		}
		if _, err := plugintest.Build(dir, "desktopsharing", "github.com/sipstreams/sipstreams/plugins/desktopsharing"); err != nil {
			screenErr = err
			os.RemoveAll(dir)
			return
		}
		b, err := os.ReadFile(echoBin)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "sipstreams-plugin-echo"), b, 0o755)
		}
		if err != nil {
			screenErr = err
			os.RemoveAll(dir)
			return
		}
		screenDir = dir
	})
	if screenErr != nil {
		t.Fatal(screenErr)
	}
	return screenDir
}

// startScreenListener starts bob: `listen --auto-answer` with the screen
// plugins and the flags given; it returns the URI reaching him.
func startScreenListener(t *testing.T, f *flow, transport string, extra ...string) string {
	t.Helper()
	args := append([]string{"listen", "--json", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--user", "bob",
		"--plugin-dir", screenPlugins(t), "--config-dir", msrpConfig(t, transport)}, extra...)
	f.l = startProc(t, "bob", args...)
	first := f.awaitName(f.l, "listening")
	return fmt.Sprintf("sip:bob@127.0.0.1:%d", first.Port)
}

// viewerPort waits for p's DesktopSharingHandlerDidStartListening and
// returns its address.
func (f *flow) viewerPort(p *proc) string {
	f.t.Helper()
	l := f.awaitName(p, desktopsharing.HandlerDidStartListening)
	addr := fmt.Sprint(l.Data["address"])
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		f.fatalf("%s's viewer port %q is not on loopback", p.who, addr)
	}
	return addr
}

// compareThrough connects an RFB client to the viewer port and checks
// that Raw and ZRLE updates are pixel-identical to a direct connection's
// and to the picture; the client disconnects at the end.
func (f *flow) compareThrough(x *vnctest.Server, viewer string) {
	f.t.Helper()
	c, err := vnctest.Dial(viewer, flowWait)
	if err != nil {
		f.fatalf("RFB client to the viewer port %s: %v", viewer, err)
	}
	defer c.Close()
	want := x.Picture().Image(x.Size())
	for _, enc := range []int32{vnctest.EncodingRaw, vnctest.EncodingZRLE} {
		if err := c.SetEncodings(enc); err != nil {
			f.fatalf("SetEncodings: %v", err)
		}
		if err := c.FullUpdate(flowWait); err != nil {
			f.fatalf("update through the tunnel, encoding %d: %v", enc, err)
		}
		d, err := vnctest.Dial(x.Addr(), flowWait)
		if err != nil {
			f.fatalf("direct RFB client: %v", err)
		}
		if err := d.SetEncodings(enc); err != nil {
			f.fatalf("SetEncodings: %v", err)
		}
		if err := d.FullUpdate(flowWait); err != nil {
			f.fatalf("direct update: %v", err)
		}
		d.Close()
		if n, at := vnctest.Diff(c.Frame, d.Frame); n != 0 {
			f.fatalf("encoding %d: %d pixels differ from the direct connection's, first at %v", enc, n, at)
		}
		if n, at := vnctest.Diff(c.Frame, want); n != 0 {
			f.fatalf("encoding %d: %d pixels differ from the picture, first at %v", enc, n, at)
		}
	}
}

// noFailures fails when p printed a stream or handler failure.
func (f *flow) noFailures(p *proc) {
	f.t.Helper()
	for _, l := range p.seen {
		if l.Name == "MediaStreamDidFail" || l.Name == desktopsharing.HandlerDidFail || l.Name == "SIPSessionDidFail" {
			f.fatalf("%s printed %s %v", p.who, l.Name, l.Data)
		}
	}
}

// TestViewScreen: alice views bob's screen (the viewer places the call);
// a real RFB client on alice's viewer port gets a framebuffer identical to
// a direct connection's, in Raw and in ZRLE, over MSRP TCP and TLS.
// Closing the client ends the session cleanly: alice exits 0, nothing
// failed on either side.
func TestViewScreen(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 320, Height: 200})
			f := &flow{t: t, tc: udp4}
			uri := startScreenListener(t, f, transport, "--accept-desktop-sharing", "--vnc", x.Addr())
			f.c = startProc(t, "alice", "view-screen", uri, "--json", "--user", "alice", "--plugin-dir", screenPlugins(t),
				"--config-dir", msrpConfig(t, transport))
			viewer := f.viewerPort(f.c)
			f.awaitName(f.c, "SIPSessionDidStart")
			f.await(f.l, "bob connected to his VNC server", func(l jsonLine) bool {
				return l.Name == desktopsharing.HandlerDidConnect && l.Data["address"] == x.Addr()
			})
			f.compareThrough(x, viewer)
			f.awaitName(f.c, desktopsharing.HandlerDidEnd)
			if err := f.waitExit(f.c); err != nil {
				f.fatalf("alice exit: %v", err)
			}
			f.awaitName(f.l, "SIPSessionDidEnd")
			f.noFailures(f.c)
			f.noFailures(f.l)
			f.quit()
		})
	}
}

// TestShareScreen: alice shares her screen with bob (the server places
// the call, over MSRP TLS); a real RFB client on bob's viewer port gets
// the same framebuffer as directly; closing it ends the session cleanly.
func TestShareScreen(t *testing.T) {
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 320, Height: 200})
	f := &flow{t: t, tc: udp4}
	uri := startScreenListener(t, f, "tls", "--accept-desktop-sharing")
	f.c = startProc(t, "alice", "share-screen", uri, "--vnc", x.Addr(), "--json", "--user", "alice", "--plugin-dir", screenPlugins(t))
	viewer := f.viewerPort(f.l)
	f.awaitName(f.c, "SIPSessionDidStart")
	f.compareThrough(x, viewer)
	f.awaitName(f.l, desktopsharing.HandlerDidEnd)
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	f.awaitName(f.l, "SIPSessionDidEnd")
	f.noFailures(f.c)
	f.noFailures(f.l)
	f.quit()
}

// TestViewScreenCommand: --viewer runs a real VNC client, Debian's
// vncsnapshot, with the address; its picture equals one taken directly,
// and its exit ends the session.
func TestViewScreenCommand(t *testing.T) {
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 320, Height: 200})
	direct, err := vnctest.Snapshot(context.Background(), t, x.Addr(), "raw")
	if err != nil {
		t.Fatal(err)
	}
	f := &flow{t: t, tc: udp4}
	uri := startScreenListener(t, f, "tls", "--accept-desktop-sharing", "--vnc", x.Addr())
	out := filepath.Join(t.TempDir(), "through.jpg")
	f.c = startProc(t, "alice", "view-screen", uri, "--json", "--user", "alice", "--plugin-dir", screenPlugins(t),
		"--viewer", "vncsnapshot -quiet -allowblank -nocursor -quality 100 -encodings raw {host}::{port} "+out)
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("alice exit: %v", err)
	}
	through, err := os.ReadFile(out)
	if err != nil {
		f.fatalf("the viewer command wrote no picture: %v", err)
	}
	if string(through) != string(direct) {
		f.fatalf("vncsnapshot through the tunnel (%d bytes) differs from direct (%d bytes)", len(through), len(direct))
	}
	f.awaitName(f.l, "SIPSessionDidEnd")
	f.noFailures(f.l)
	f.quit()
}

// TestScreenNeedsFlag: --auto-answer alone does not accept desktop
// sharing: the call is refused with 488 and bob's VNC server is never
// reached.
func TestScreenNeedsFlag(t *testing.T) {
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 64, Height: 48})
	f := &flow{t: t, tc: udp4}
	uri := startScreenListener(t, f, "tcp", "--vnc", x.Addr())
	f.c = startProc(t, "alice", "view-screen", uri, "--json", "--user", "alice", "--plugin-dir", screenPlugins(t), "--config-dir", msrpConfig(t, "tcp"))
	if err := f.waitExit(f.c); err == nil {
		f.fatalf("view-screen of a listener without --accept-desktop-sharing exited 0")
	}
	f.data(f.c, "SIPSessionDidFail", 0, map[string]any{"code": 488})
	for _, l := range append(f.l.seen, f.c.seen...) {
		if l.Name == desktopsharing.HandlerDidConnect {
			f.fatalf("a VNC socket was connected: %v", l.Data)
		}
	}
	f.quit()
}

// TestVNCServerKilled: killing bob's VNC server fails his stream with a
// reason naming its address, and ends that session; another session
// between the same hosts (an echo stream) keeps working and ends cleanly.
func TestVNCServerKilled(t *testing.T) {
	x := vnctest.StartServer(t, vnctest.ServerOptions{Width: 64, Height: 48})
	f := &flow{t: t, tc: udp4}
	uri := startScreenListener(t, f, "tcp", "--accept-desktop-sharing", "--vnc", x.Addr())
	f.c = startProc(t, "alice", "view-screen", uri, "--json", "--user", "alice", "--plugin-dir", screenPlugins(t), "--config-dir", msrpConfig(t, "tcp"))
	viewer := f.viewerPort(f.c)
	f.awaitName(f.c, "SIPSessionDidStart")
	c, err := vnctest.Dial(viewer, flowWait)
	if err != nil {
		f.fatalf("RFB client: %v", err)
	}
	defer c.Close()

	other := &flow{t: t, tc: udp4, l: f.l}
	other.c = startProc(t, "carol", "call", uri, "--stream", "echo", "--json", "--user", "carol", "--plugin-dir", screenPlugins(t))
	other.awaitName(other.c, "SIPSessionDidStart")

	x.Kill()
	fail := f.awaitName(f.l, desktopsharing.HandlerDidFail)
	if fail.Data["context"] != "reading" || !strings.Contains(fmt.Sprint(fail.Data["reason"]), x.Addr()) {
		f.fatalf("bob's HandlerDidFail %v: want context reading and the address %s", fail.Data, x.Addr())
	}
	f.await(f.l, "MediaStreamDidFail with the same reason", func(l jsonLine) bool {
		return l.Name == "MediaStreamDidFail" && l.Data["reason"] == fail.Data["reason"]
	})
	if err := f.waitExit(f.c); err != nil && !strings.Contains(err.Error(), "exit status 1") {
		f.fatalf("alice exit: %v", err)
	}

	// Carol's session goes on: her echo comes back, then she hangs up.
	other.send(other.c, `/invoke echo.send {"payload":"still here"}`)
	other.await(other.c, "the echo", func(l jsonLine) bool {
		return l.Name == "EchoStreamGotEcho" && strings.Contains(fmt.Sprint(l.Data), "still here")
	})
	other.send(other.c, "/end")
	if err := other.waitExit(other.c); err != nil {
		other.fatalf("carol exit: %v", err)
	}
	for _, l := range other.c.seen {
		if l.Name == "MediaStreamDidFail" || l.Name == "SIPSessionDidFail" {
			other.fatalf("carol's session failed: %s %v", l.Name, l.Data)
		}
	}
	f.quit()
}

func TestViewerCommand(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"vncviewer", "vncviewer 127.0.0.1::5999"},
		{"vncsnapshot {host}::{port} out.jpg", "vncsnapshot 127.0.0.1::5999 out.jpg"},
		{"client --to {addr}", "client --to 127.0.0.1:5999"},
		{`client "$VNC_ADDRESS"`, `client "$VNC_ADDRESS"`},
	}
	for _, tt := range tests {
		if got := viewerCommand(tt.cmd, "127.0.0.1:5999"); got != tt.want {
			t.Errorf("viewerCommand(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}
