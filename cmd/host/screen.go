package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing"
)

// screenFlags are the desktop sharing flags of share-screen, view-screen
// and listen.
type screenFlags struct {
	vnc           string        // our VNC server, when our screen is shared
	viewer        string        // command run with the viewer address
	viewerTimeout time.Duration // how long the viewer port waits
}

func (f *screenFlags) registerVNC(fs *flag.FlagSet, usage string) {
	fs.StringVar(&f.vnc, "vnc", "", usage)
}

func (f *screenFlags) registerViewer(fs *flag.FlagSet) {
	fs.StringVar(&f.viewer, "viewer", "", "run this `command` once the viewer port listens: {host}, {port} and {addr} (host:port) are replaced, "+
		"$VNC_HOST, $VNC_PORT and $VNC_ADDRESS are set; without any of them \"host::port\" is appended (vncviewer's form). "+
		"The session ends when it exits")
}

// vncAddress reads --vnc: host:port, host::port or a display host:N.
func (f *screenFlags) vncAddress() (string, error) {
	if f.vnc == "" {
		return "", nil
	}
	addr, err := desktopsharing.VNCDisplayAddress(f.vnc)
	if err != nil {
		return "", fmt.Errorf("--vnc: %v", err)
	}
	return addr, nil
}

const screenUsage = `usage: sipstreams share-screen URI [--vnc HOST:PORT] [call flags]
       sipstreams view-screen URI [--viewer CMD] [--viewer-timeout D] [call flags]`

// cmdShareScreen calls URI with a desktop sharing stream that shares the
// VNC server at --vnc (default: the setting desktop_sharing.vnc_server,
// 127.0.0.1:5900). It exits 0 when the session started and ended, 1 when
// it failed, the VNC server included.
func cmdShareScreen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdScreen(ctx, desktopsharing.RoleServer, args, stdin, stdout, stderr)
}

// cmdViewScreen calls URI with a desktop sharing stream that views the
// peer's screen: it prints the loopback address to point a VNC viewer at
// and runs --viewer with it. The session ends when the viewer disconnects
// or its command exits.
func cmdViewScreen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdScreen(ctx, desktopsharing.RoleViewer, args, stdin, stdout, stderr)
}

func cmdScreen(ctx context.Context, role desktopsharing.Role, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &callSpec{console: true}
	var sf screenFlags
	name := map[desktopsharing.Role]string{desktopsharing.RoleServer: "share-screen", desktopsharing.RoleViewer: "view-screen"}[role]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	fs.DurationVar(&c.hangupAfter, "hangup-after", 0, "end the session this long after it started (0: never)")
	if role == desktopsharing.RoleServer {
		sf.registerVNC(fs, "share the VNC server at `HOST:PORT` (or HOST::PORT, HOST:DISPLAY; default: the setting desktop_sharing.vnc_server)")
	} else {
		sf.registerViewer(fs)
		fs.DurationVar(&sf.viewerTimeout, "viewer-timeout", time.Minute, "how long the viewer port waits for a VNC viewer once the session started")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, screenUsage)
		return 2
	}
	addr, err := sf.vncAddress()
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 2
	}
	if err := c.resolve(pos[0]); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 2
	}
	c.streams = []string{desktopsharing.Type}
	c.params = map[string]any{desktopsharing.Type: desktopsharing.Params{Role: role, VNCServer: addr, ViewerTimeout: sf.viewerTimeout}}
	c.screen = &sf
	return runCall(ctx, c, stdin, stdout, stderr)
}

// screenEvent is what a desktop sharing stream's notifications mean to a
// command.
type screenEvent struct {
	stream session.Stream
	kind   screenEventKind
	text   string
}

type screenEventKind int

const (
	screenEventEnded  screenEventKind = iota // the viewer left, or its command exited
	screenEventFailed                        // the handler failed (the stream with it)
)

// screenWatcher acts on the desktop sharing streams' notifications: it
// tells where to point a VNC viewer and runs --viewer, and reports the
// end of the viewer and the handler's failures on events. Close kills the
// viewer commands still running and waits for them.
type screenWatcher struct {
	pr     *printer
	stdout io.Writer
	stderr io.Writer
	viewer string
	events chan screenEvent
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newScreenWatcher(pr *printer, viewer string, stdout, stderr io.Writer) *screenWatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &screenWatcher{pr: pr, stdout: stdout, stderr: stderr, viewer: viewer, events: make(chan screenEvent, 64), ctx: ctx, cancel: cancel}
}

// Close stops the viewer commands and waits for them.
func (w *screenWatcher) Close() {
	w.cancel()
	w.wg.Wait()
}

func (w *screenWatcher) emit(ev screenEvent) {
	select {
	case w.events <- ev:
	case <-w.ctx.Done():
	}
}

// Wants implements notify.NameFilter: the watcher takes only the desktop
// sharing streams' listening address and ends.
func (w *screenWatcher) Wants(name string) bool {
	switch name {
	case desktopsharing.HandlerDidStartListening, desktopsharing.HandlerDidEnd, desktopsharing.HandlerDidFail:
		return true
	}
	return false
}

// HandleNotification implements notify.Observer.
func (w *screenWatcher) HandleNotification(n notify.Notification) {
	st, ok := n.Sender.(session.Stream)
	if !ok || st.Type() != desktopsharing.Type {
		return
	}
	raw, _ := n.Data.(json.RawMessage)
	switch n.Name {
	case desktopsharing.HandlerDidStartListening:
		var d desktopsharing.AddressData
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		host, port, _ := net.SplitHostPort(d.Address)
		w.pr.event("viewer-address", map[string]any{"address": d.Address},
			"point a VNC viewer at %s (vncviewer %s::%s)", d.Address, host, port)
		if w.viewer != "" {
			w.runViewer(st, d.Address)
		}
	case desktopsharing.HandlerDidEnd:
		var d desktopsharing.EndData
		_ = json.Unmarshal(raw, &d)
		w.emit(screenEvent{stream: st, kind: screenEventEnded, text: d.Reason})
	case desktopsharing.HandlerDidFail:
		var d desktopsharing.FailData
		_ = json.Unmarshal(raw, &d)
		w.emit(screenEvent{stream: st, kind: screenEventFailed, text: d.Context + ": " + d.Reason})
	}
}

// viewerCommand is --viewer for addr: placeholders replaced, or
// "host::port" appended.
func viewerCommand(cmd, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if !strings.Contains(cmd, "{") && !strings.Contains(cmd, "$VNC_") && !strings.Contains(cmd, "${VNC_") {
		return cmd + " " + host + "::" + port
	}
	return strings.NewReplacer("{addr}", addr, "{host}", host, "{port}", port).Replace(cmd)
}

// runViewer runs the viewer command for st's address; its end is the
// viewer's.
func (w *screenWatcher) runViewer(st session.Stream, addr string) {
	host, port, _ := net.SplitHostPort(addr)
	line := viewerCommand(w.viewer, addr)
	cmd := exec.CommandContext(w.ctx, "/bin/sh", "-c", line)
	cmd.Env = append(os.Environ(), "VNC_ADDRESS="+addr, "VNC_HOST="+host, "VNC_PORT="+port)
	cmd.Stdout, cmd.Stderr = w.stdout, w.stderr
	cmd.WaitDelay = 5 * time.Second
	w.pr.say("running the viewer: %s", line)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(w.stderr, "sipstreams: --viewer: %v\n", err)
		w.emit(screenEvent{stream: st, kind: screenEventEnded, text: err.Error()})
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		err := cmd.Wait()
		if w.ctx.Err() != nil {
			return
		}
		text := "the viewer command exited"
		if err != nil {
			text += ": " + err.Error()
		}
		w.pr.event("viewer-exited", map[string]any{"error": fmt.Sprint(err)}, "%s", text)
		w.emit(screenEvent{stream: st, kind: screenEventEnded, text: text})
	}()
}

// isDesktopSharing tells desktop sharing streams, which no flag but
// --accept-desktop-sharing lets the auto-answer take.
func isDesktopSharing(st session.Stream) bool { return st.Type() == desktopsharing.Type }

// withoutDesktopSharing splits streams into those --auto-answer may take
// and the desktop sharing ones it leaves out unless allowed.
func withoutDesktopSharing(streams []session.Stream, allow bool) (keep, refused []session.Stream) {
	for _, st := range streams {
		if isDesktopSharing(st) && !allow {
			refused = append(refused, st)
			continue
		}
		keep = append(keep, st)
	}
	return keep, refused
}

// overrideStorage is a Storage whose loaded document gets the command's
// settings (--vnc), without saving them.
type overrideStorage struct {
	storage.Storage
	apply func(*config.Document)
}

func (o overrideStorage) Load(ctx context.Context) (*config.Document, error) {
	doc, err := o.Storage.Load(ctx)
	if err == nil && o.apply != nil {
		o.apply(doc)
	}
	return doc, err
}

// sessionOf returns the session carrying st, or nil.
func (c *console) sessionOf(st session.Stream) *session.Session {
	mgr := c.app.Sessions()
	if mgr == nil {
		return nil
	}
	for _, s := range mgr.Sessions() {
		for _, x := range s.Streams() {
			if x == st {
				return s
			}
		}
	}
	return nil
}
