package application

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk"
)

var pluginDir string

// TestMain builds the echo plugin (pluginDir, the tests') and the audio
// and chat plugins into a directory of their own, which the Example finds
// as a program finds the CLI's: in $SIPSTREAMS_PLUGIN_DIR.
func TestMain(m *testing.M) {
	media, err := plugintest.Dir(map[string]string{"audio": plugintest.AudioPackage, "chat": plugintest.ChatPackage})
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the media plugins:", err)
		os.Exit(1)
	}
	os.Setenv("SIPSTREAMS_PLUGIN_DIR", media)
	code := plugintest.Main(m, func(dir, _ string) { pluginDir = dir })
	os.RemoveAll(media)
	os.Exit(code)
}

var loopback = []engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}

// newApp returns an application on loopback with the echo plugin and a
// recorder of its own notifications; the center is closed at the end.
func newApp(t *testing.T, opts ...Option) (*Application, *notify.Recorder) {
	t.Helper()
	center := notify.New()
	a := New(append([]Option{WithCenter(center), WithPluginDir(pluginDir), WithListen(loopback), WithUser("alice")}, opts...)...)
	rec := &notify.Recorder{}
	unsub := center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if n.Sender == a {
			rec.HandleNotification(n)
		}
	}), "", nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
		unsub()
		center.Close()
	})
	return a, rec
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStartStop(t *testing.T) {
	a, rec := newApp(t)
	ctx := ctxT(t)
	if a.Running() || a.Engine() != nil || a.Sessions() != nil {
		t.Fatal("running before Start")
	}
	if err := a.Start(ctx, storage.NewMemory()); err != nil {
		t.Fatal(err)
	}
	if !a.Running() || a.State() != StateStarted {
		t.Fatalf("state %v after Start", a.State())
	}
	if err := a.Start(ctx, storage.NewMemory()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: %v", err)
	}
	addr := a.Engine().Addrs()[0]
	acc := a.Account()
	if want := fmt.Sprintf("sip:alice@127.0.0.1:%d", addr.Port); acc.URI.String() != want {
		t.Errorf("account URI %s, want %s", acc.URI.String(), want)
	}
	if acc.ID != config.PeerToPeerAccountID || acc.Settings["rtp.port_range"] != "50000-50500" {
		t.Errorf("account %+v", acc)
	}
	if len(a.Registry().Types()) == 0 {
		t.Error("no stream type discovered")
	}
	if a.Settings().UserAgent != config.DefaultUserAgent {
		t.Errorf("settings not loaded: %q", a.Settings().UserAgent)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Running() || a.Engine() != nil {
		t.Fatal("running after Stop")
	}
	if err := a.Stop(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Stop: %v", err)
	}
	_ = a.Center().Flush(ctx)
	want := []string{SIPApplicationWillStart, SIPApplicationDidStart, SIPApplicationWillEnd, SIPApplicationDidEnd}
	if got := rec.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	// Restartable.
	if err := a.Start(ctx, storage.NewMemory()); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStopOrder checks that the session manager closes between WillEnd
// and DidEnd, and the engine's listener is released.
func TestStopOrder(t *testing.T) {
	a, _ := newApp(t)
	ctx := ctxT(t)
	var names []string
	unsub := a.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		switch n.Name {
		case SIPApplicationWillEnd, SIPApplicationDidEnd, session.SIPSessionManagerWillEnd, session.SIPSessionManagerDidEnd:
			names = append(names, n.Name)
		}
	}), "", nil)
	defer unsub()
	if err := a.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	_ = a.Center().Flush(ctx)
	want := []string{SIPApplicationWillEnd, session.SIPSessionManagerWillEnd, session.SIPSessionManagerDidEnd, SIPApplicationDidEnd}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("stop order %v, want %v", names, want)
	}
}

func TestConfigErrorIsReturned(t *testing.T) {
	a, rec := newApp(t)
	ctx := ctxT(t)
	dir := t.TempDir()
	st, err := storage.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, storage.ConfigFile), []byte("rtp:\n    port_range = 50001-50500\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = a.Start(ctx, st)
	var se *config.SettingError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "port_range") {
		t.Fatalf("Start = %v, want a *config.SettingError", err)
	}
	if a.Running() || a.State() != StateStopped {
		t.Fatalf("state %v after a config error", a.State())
	}
	_ = a.Center().Flush(ctx)
	if rec.Len() != 0 {
		t.Fatalf("notifications after a config error: %v", rec.Names())
	}
	// Fixed, it starts.
	if err := os.WriteFile(filepath.Join(dir, storage.ConfigFile), []byte("user_agent = fixed 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx, st); err != nil {
		t.Fatal(err)
	}
	if a.Settings().UserAgent != "fixed 1" {
		t.Errorf("user agent %q", a.Settings().UserAgent)
	}
}

func TestTLSFailureStartsWithoutTLS(t *testing.T) {
	listen := []engine.Listen{
		{Transport: engine.TransportUDP, Address: "127.0.0.1:0"},
		{Transport: engine.TransportTLS, Address: "127.0.0.1:0"},
	}
	a, rec := newApp(t, WithListen(listen))
	ctx := ctxT(t)
	if err := a.Start(ctx, storage.NewMemory()); err != nil {
		t.Fatal(err)
	}
	addrs := a.Engine().Addrs()
	if len(addrs) != 1 || addrs[0].Transport != engine.TransportUDP {
		t.Fatalf("addrs %v, want UDP only", addrs)
	}
	_ = a.Center().Flush(ctx)
	want := []string{SIPApplicationWillStart, SIPApplicationFailedToStartTLS, SIPApplicationDidStart}
	if got := rec.Names(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	d, ok := rec.All()[1].Data.(FailedToStartTLSData)
	if !ok || !errors.Is(d.Error, engine.ErrTLS) {
		t.Fatalf("FailedToStartTLS data %#v", rec.All()[1].Data)
	}
}

func TestListenError(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	a, _ := newApp(t, WithListen([]engine.Listen{{Transport: engine.TransportUDP, Address: busy.LocalAddr().String()}}))
	ctx := ctxT(t)
	err = a.Start(ctx, nil)
	if !errors.Is(err, engine.ErrListen) {
		t.Fatalf("Start = %v, want ErrListen", err)
	}
	if a.Running() {
		t.Fatal("running after a listen error")
	}
}

func TestListenFromSettings(t *testing.T) {
	s := config.Default()
	s.SIP.ListenAddresses = []string{"127.0.0.1", "::1"}
	s.SIP.TransportList = []config.Transport{config.TransportTCP, config.TransportUDP}
	s.SIP.UDPPort = 5070
	got := fmt.Sprint(listenFromSettings(&s))
	want := "[udp:127.0.0.1:5070 udp:[::1]:5070 tcp:127.0.0.1:0 tcp:[::1]:0]"
	if got != want {
		t.Fatalf("listen %s, want %s", got, want)
	}
}

func TestDefault(t *testing.T) {
	if Default() != Default() || Default().Center() != notify.Default() {
		t.Fatal("Default is not one instance on notify.Default")
	}
	if New() == New() {
		t.Fatal("New returns a shared instance")
	}
}

// TestStopEndsSessions stops the callee's application during a call: the
// session ends on both sides.
func TestStopEndsSessions(t *testing.T) {
	alice, _ := newApp(t, WithUser("alice"))
	bob, _ := newApp(t, WithUser("bob"))
	ctx := ctxT(t)
	for _, a := range []*Application{alice, bob} {
		if err := a.Start(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	recA, recB := &notify.Recorder{}, &notify.Recorder{}
	defer alice.Center().Subscribe(recA, "", nil)()
	defer bob.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		recB.HandleNotification(n)
		if n.Name == session.SIPSessionNewIncoming {
			_ = n.Sender.(*session.Session).Accept(n.Data.(session.NewIncomingData).Streams)
		}
	}), "", nil)()
	st, err := alice.Registry().Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	addr := bob.Engine().Addrs()[0]
	s := alice.Sessions().NewSession()
	route := engine.Route{Address: addr.IP.String(), Port: addr.Port, Transport: addr.Transport}
	if err := s.Connect(ctx, bob.Account().URI, []engine.Route{route}, []session.Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	waitName(t, recA, session.SIPSessionDidStart)
	// Bob's side too: a session still accepting (waiting for the ACK) is
	// not ended by the session manager's Close.
	waitName(t, recB, session.SIPSessionDidStart)
	if err := bob.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	end := waitName(t, recA, session.SIPSessionDidEnd)
	if d := end.Data.(session.DidEndData); d.Originator != session.Remote {
		t.Errorf("caller's DidEnd %+v", d)
	}
	// Bob's session ended (locally) before his application did.
	_ = bob.Center().Flush(ctx)
	var order []string
	for _, n := range recB.All() {
		switch n.Name {
		case SIPApplicationWillEnd, SIPApplicationDidEnd, session.SIPSessionDidEnd:
			order = append(order, n.Name)
		}
	}
	want := []string{SIPApplicationWillEnd, session.SIPSessionDidEnd, SIPApplicationDidEnd}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("callee's order %v, want %v", order, want)
	}
}

func waitName(t *testing.T, rec *notify.Recorder, name string) notify.Notification {
	t.Helper()
	var got notify.Notification
	err := rec.Wait(ctxT(t), func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Name == name {
				got = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	return got
}
