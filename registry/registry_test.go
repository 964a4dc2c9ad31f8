package registry_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// TestLifecycle drives two echo streams in the real plugin process through
// the whole IMediaStream lifecycle and checks the notification sequence.
func TestLifecycle(t *testing.T) {
	r := openRegistry(t, pluginDir(t))
	infos := r.Plugins()
	if len(infos) != 1 || infos[0].State != registry.StateReady {
		t.Fatalf("plugins = %+v", infos)
	}
	if got := r.Types(); len(got) != 1 || got[0].Type != "echo" {
		t.Fatalf("types = %+v", got)
	}
	p := startPair(t, r)
	ctx := ctxT(t)

	// Media flows between the two plugin-side sockets.
	invoke(t, p.a, "send", map[string]string{"payload": "hello"})
	ping := waitName(t, p.recB, "EchoStreamGotPing")
	echo := waitName(t, p.recA, "EchoStreamGotEcho")
	for _, n := range []struct {
		name string
		data any
	}{{"ping", ping.Data}, {"echo", echo.Data}} {
		raw, ok := n.data.(json.RawMessage)
		if !ok || !strings.Contains(string(raw), "hello") {
			t.Errorf("%s data = %T %s, want JSON with the payload", n.name, n.data, raw)
		}
		if n.name == "ping" && ping.Sender != p.b {
			t.Errorf("sender = %v, want the host-side proxy", ping.Sender)
		}
	}
	attrs, err := p.a.Attributes(ctx)
	if err != nil || !attrs.HoldSupported {
		t.Fatalf("Attributes = %+v, %v", attrs, err)
	}

	// A in two calls, B in one (the plugin, of contract 1.3, deactivates
	// it and then ends it): the same notifications.
	if err := p.a.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate: %v", err)
	}
	if err := p.a.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	if err := p.b.DeactivateAndEnd(ctx); err != nil {
		t.Fatalf("DeactivateAndEnd: %v", err)
	}
	waitName(t, p.recA, sdk.MediaStreamDidEnd)
	waitName(t, p.recB, sdk.MediaStreamDidEnd)
	want := []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}
	for name, rec := range map[string][]string{"A": p.recA.Names(), "B": p.recB.Names()} {
		if got := generic(rec); !equal(got, want) {
			t.Errorf("%s notifications = %v, want %v", name, got, want)
		}
	}
	if _, err := p.a.Attributes(ctx); !errors.Is(err, sdk.ErrStreamNotFound) {
		t.Errorf("Attributes after End: %v, want ErrStreamNotFound", err)
	}
}

func TestDispatch(t *testing.T) {
	r := openRegistry(t, pluginDir(t))
	ctx := ctxT(t)
	cases := []struct {
		name string
		sdp  string
		idx  int
		want error
	}{
		{"malformed", "v=0\r\nthis is not sdp", 0, sdk.ErrInvalidStream},
		{"index out of range", sdpWith("m=application 4000 UDP x-sipstreams-echo\r\n"), 3, sdk.ErrInvalidStream},
		{"no type claims it", sdpWith("m=video 4000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"), 0, sdk.ErrUnknownStream},
		{"claimed but refused", sdpWith("m=application 0 UDP x-sipstreams-echo\r\n"), 0, sdk.ErrInvalidStream},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: account(), RemoteSDP: tc.sdp, StreamIndex: tc.idx})
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewFromSDP = %v, want %v", err, tc.want)
			}
			if tc.name == "claimed but refused" && strings.Contains(err.Error(), "malformed") {
				t.Fatalf("refused by the SDP parser, not by the plugin: %v", err)
			}
		})
	}
	if _, err := r.Create(ctx, &sdk.CreateRequest{Type: "no-such-type"}); !errors.Is(err, sdk.ErrUnknownStream) {
		t.Errorf("Create unknown type = %v", err)
	}
	if _, err := r.Invoke(ctx, "sipstreams-plugin-echo", &sdk.InvokeRequest{Method: "no-such-method"}); !errors.Is(err, sdk.ErrUnknownMethod) {
		t.Errorf("Invoke unknown method = %v", err)
	}
}

// TestPriorityConflict: two binaries declare "echo"; the first file wins a
// tie, and WithPreferredPlugin overrides.
func TestPriorityConflict(t *testing.T) {
	names := []string{"sipstreams-plugin-echo-a", "sipstreams-plugin-echo-b"}
	for _, tc := range []struct {
		name string
		opts []registry.Option
		want string
	}{
		{"tie goes to the first file", nil, names[0]},
		{"preferred plugin", []registry.Option{registry.WithPreferredPlugin("echo", names[1])}, names[1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t, pluginDir(t, names...), tc.opts...)
			types := r.Types()
			if len(types) != 1 {
				t.Fatalf("types = %+v", types)
			}
			if got := types[0].Plugin.Info().File; got != tc.want {
				t.Fatalf("echo served by %s, want %s", got, tc.want)
			}
			s, err := r.Create(ctxT(t), &sdk.CreateRequest{Type: "echo"})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Plugin().Info().File; got != tc.want {
				t.Fatalf("stream made by %s, want %s", got, tc.want)
			}
			_ = s.End(ctxT(t))
		})
	}
}

func TestChecksumPinning(t *testing.T) {
	dir := pluginDir(t)
	good := openRegistry(t, dir)
	sum := good.Plugins()[0].SHA256
	if len(sum) != 64 {
		t.Fatalf("SHA256 = %q", sum)
	}
	pinned := openRegistry(t, dir, registry.WithChecksum("sipstreams-plugin-echo", sum))
	if st := pinned.Plugins()[0].State; st != registry.StateReady {
		t.Fatalf("pinned with the right hash: %v (%v)", st, pinned.Plugins()[0].Err)
	}
	wrong := openRegistry(t, dir, registry.WithChecksum("sipstreams-plugin-echo", strings.Repeat("0", 64)))
	info := wrong.Plugins()[0]
	if info.State != registry.StateRefused || !errors.Is(info.Err, registry.ErrChecksum) {
		t.Fatalf("pinned with a wrong hash: %v %v", info.State, info.Err)
	}
	unpinned := openRegistry(t, dir, registry.WithRequirePinned(true))
	if info := unpinned.Plugins()[0]; !errors.Is(info.Err, registry.ErrChecksum) {
		t.Fatalf("required pin missing: %v %v", info.State, info.Err)
	}
}

// TestBadPlugins: every kind of bad binary is refused with a clear reason
// within the start timeout while a good plugin in the same dir loads.
func TestBadPlugins(t *testing.T) {
	dir := pluginDir(t)
	manifest := func(major int) string {
		return fmt.Sprintf(`{"name":"bad","version":"1","contract_major":%d,"contract_minor":0,"stream_types":[{"type":"bad","priority":1,"hold_supported":false,"match":{"media":["application"]}}]}`, major)
	}
	describe := func(major int) string {
		return fmt.Sprintf("if [ \"$1\" = describe ]; then echo '%s'; exit 0; fi\n", manifest(major))
	}
	writeScript(t, dir, "sipstreams-plugin-notaplugin", `echo "hello, I am a shell script"`)
	writeScript(t, dir, "sipstreams-plugin-exits", describe(1)+"echo 'cannot open device' >&2; exit 3")
	writeScript(t, dir, "sipstreams-plugin-hangs", describe(1)+"exec sleep 60")
	writeScript(t, dir, "sipstreams-plugin-newer", describe(2)+"exec sleep 60")
	writeScript(t, dir, "sipstreams-plugin-liar", describe(1)+"echo '1|2|unix|/nonexistent|grpc|'; exec sleep 60")
	writeScript(t, dir, "sipstreams-plugin-noisy", describe(1)+"echo 'debug: starting up'; exec sleep 60")
	writeScript(t, dir, "sipstreams-plugin-describehangs", "exec sleep 60")
	if err := os.WriteFile(dir+"/sipstreams-plugin-notexec", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/README.txt", []byte("not a plugin name: ignored"), 0o755); err != nil {
		t.Fatal(err)
	}

	const startTimeout = 2 * time.Second
	began := time.Now()
	r := openRegistry(t, dir, registry.WithStartTimeout(startTimeout), registry.WithDescribeTimeout(startTimeout))
	t.Logf("Discover took %v (start timeout %v)", time.Since(began), startTimeout)

	want := map[string]string{
		"sipstreams-plugin-notaplugin":    "did not print a manifest",
		"sipstreams-plugin-exits":         "exited before the handshake (exit status 3): cannot open device",
		"sipstreams-plugin-hangs":         "no go-plugin handshake within the start timeout (2s)",
		"sipstreams-plugin-newer":         fmt.Sprintf("contract 2.0, host speaks %d.%d", sdk.ContractMajor, sdk.ContractMinor),
		"sipstreams-plugin-liar":          "incompatible API version with plugin. Plugin version: 2, Client versions: [1]",
		"sipstreams-plugin-noisy":         "Unrecognized remote plugin message",
		"sipstreams-plugin-describehangs": "did not finish",
		"sipstreams-plugin-notexec":       "not executable",
	}
	seen := map[string]bool{}
	for _, p := range r.Plugins() {
		seen[p.File] = true
		if p.File == "sipstreams-plugin-echo" {
			if p.State != registry.StateReady {
				t.Errorf("good plugin: %v %v", p.State, p.Err)
			}
			continue
		}
		frag, ok := want[p.File]
		if !ok {
			t.Errorf("unexpected plugin %s", p.File)
			continue
		}
		if p.State != registry.StateRefused || p.Err == nil {
			t.Errorf("%s: state %v err %v, want refused", p.File, p.State, p.Err)
			continue
		}
		if !errors.Is(p.Err, registry.ErrRefused) {
			t.Errorf("%s: %v does not wrap ErrRefused", p.File, p.Err)
		}
		var pe *registry.PluginError
		if !errors.As(p.Err, &pe) || !strings.Contains(pe.Reason, frag) {
			t.Errorf("%s: reason %q does not say %q", p.File, p.Err, frag)
		}
		t.Logf("%s: %v", p.File, p.Err)
	}
	for f := range want {
		if !seen[f] {
			t.Errorf("%s not reported", f)
		}
	}
	if _, err := r.Create(ctxT(t), &sdk.CreateRequest{Type: "echo"}); err != nil {
		t.Errorf("good plugin does not work: %v", err)
	}
	if _, err := r.Create(ctxT(t), &sdk.CreateRequest{Type: "bad"}); !errors.Is(err, sdk.ErrUnknownStream) {
		t.Errorf("refused plugin's type is dispatched: %v", err)
	}
}

// TestCrashRestart kills the plugin with SIGKILL under two live streams.
func TestCrashRestart(t *testing.T) {
	r := openRegistry(t, pluginDir(t), registry.WithRestartBackoff(50*time.Millisecond, time.Second))
	p := startPair(t, r)
	pid := r.Plugins()[0].PID
	if pid == 0 {
		t.Fatal("no plugin pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	failA := waitName(t, p.recA, sdk.MediaStreamDidFail)
	waitName(t, p.recB, sdk.MediaStreamDidFail)
	d, ok := failA.Data.(sdk.DidFailData)
	if !ok || d.Context != "plugin" || !strings.Contains(d.Reason, "crashed") || !strings.Contains(d.Reason, "killed") {
		t.Fatalf("DidFail data = %#v, want context plugin and a reason naming the crash", failA.Data)
	}
	ctx := ctxT(t)
	if _, err := p.a.Attributes(ctx); !errors.Is(err, sdk.ErrPluginUnavailable) {
		t.Errorf("call on a dead stream = %v, want ErrPluginUnavailable", err)
	}
	// The session still ends its streams: End (A) and DeactivateAndEnd
	// (B) post WillEnd and DidEnd.
	if err := p.a.End(ctx); err != nil {
		t.Fatalf("End on a dead stream: %v", err)
	}
	if err := p.b.DeactivateAndEnd(ctx); err != nil {
		t.Fatalf("DeactivateAndEnd on a dead stream: %v", err)
	}
	end := waitName(t, p.recA, sdk.MediaStreamDidEnd)
	if d, ok := end.Data.(sdk.DidEndData); !ok || !strings.Contains(d.Error, "crashed") {
		t.Errorf("DidEnd data = %#v", end.Data)
	}
	want := []string{sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd}
	if got := generic(p.recB.Names()); !equal(got, want) {
		// B's DidEnd may still be in flight: wait, then compare.
		waitName(t, p.recB, sdk.MediaStreamDidEnd)
		if got := generic(p.recB.Names()); !equal(got, want) {
			t.Errorf("B notifications = %v, want %v", got, want)
		}
	}

	// The plugin comes back and new streams work (Create waits for it).
	p2 := startPair(t, r)
	info := r.Plugins()[0]
	if info.Restarts != 1 || info.PID == pid || info.State != registry.StateReady {
		t.Fatalf("after restart: %+v", info)
	}
	invoke(t, p2.a, "send", map[string]string{"payload": "again"})
	waitName(t, p2.recA, "EchoStreamGotEcho")
}

// TestNoChildAfterClose: Close ends streams and leaves no plugin process.
func TestNoChildAfterClose(t *testing.T) {
	dir := pluginDir(t)
	c := notify.New()
	t.Cleanup(c.Close)
	r := &testRegistry{Registry: registry.New(registry.WithDir(dir), registry.WithNotifier(centerNotifier(c))), center: c}
	ctx := ctxT(t)
	if err := r.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	p := startPair(t, r)
	pid := r.Plugins()[0].PID
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Close drained the streams: each got its final notifications.
	for _, rec := range []interface{ Names() []string }{p.recA, p.recB} {
		got := generic(rec.Names())
		if len(got) == 0 || got[len(got)-1] != sdk.MediaStreamDidEnd {
			t.Errorf("after Close: %v, want ... MediaStreamDidEnd", got)
		}
	}
	waitGone(t, pid)
	if _, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"}); !errors.Is(err, registry.ErrClosed) {
		t.Errorf("Create after Close = %v", err)
	}
}

// TestWithEnv: the variables of WithEnv reach the plugin process, on top of
// the host's own environment, and win over a variable the host has too.
func TestWithEnv(t *testing.T) {
	t.Setenv("SIPSTREAMS_TEST_INHERITED", "host")
	t.Setenv("SIPSTREAMS_TEST_REPLACED", "host")
	dir := pluginDir(t)
	c := notify.New()
	t.Cleanup(c.Close)
	r := &testRegistry{Registry: registry.New(registry.WithDir(dir), registry.WithNotifier(centerNotifier(c)),
		registry.WithEnv("SIPSTREAMS_TEST_REPLACED=plugin", "SIPSTREAMS_TEST_ADDED=plugin")), center: c}
	ctx := ctxT(t)
	if err := r.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	startPair(t, r)
	pid := r.Plugins()[0].PID
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("the plugin process's environment: %v", err)
	}
	got := map[string][]string{}
	for _, kv := range strings.Split(string(raw), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SIPSTREAMS_TEST_") {
			got[k] = append(got[k], v)
		}
	}
	for k, want := range map[string]string{"SIPSTREAMS_TEST_INHERITED": "host", "SIPSTREAMS_TEST_REPLACED": "plugin", "SIPSTREAMS_TEST_ADDED": "plugin"} {
		if len(got[k]) != 1 || got[k][0] != want {
			t.Errorf("plugin process: %s = %q, want exactly %q", k, got[k], want)
		}
	}
}

const helperHostEnv = "SIPSTREAMS_TEST_HELPER_HOST"

// helperHost is a host process for TestNoChildAfterHostKilled: it loads the
// plugin dir named by the environment, prints the plugin's pid and waits to
// be killed.
func helperHost() int {
	r := registry.New(registry.WithDir(os.Getenv(helperHostEnv)))
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := r.Discover(ctx); err != nil {
		fmt.Println("error", err)
		return 1
	}
	s, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	_ = s
	fmt.Println("pid", r.Plugins()[0].PID)
	time.Sleep(time.Minute)
	return 0
}

// TestNoChildAfterHostKilled: SIGKILL the host; its plugin exits too.
func TestNoChildAfterHostKilled(t *testing.T) {
	dir := pluginDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperHostEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper host: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "pid" {
		t.Fatalf("helper host said %q", line)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || processGone(pid) {
		t.Fatalf("plugin pid %q not running", f[1])
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pid)
}

func TestNotifications(t *testing.T) {
	r := openRegistry(t, pluginDir(t))
	plug, err := r.Plugin("sipstreams-plugin-echo")
	if err != nil {
		t.Fatal(err)
	}
	rec := record(t, r.Center(), plug)
	ctx := ctxT(t)
	const n = 500
	args, _ := json.Marshal(map[string]int{"count": n, "rate": 0})
	if _, err := r.Invoke(ctx, "echo", &sdk.InvokeRequest{Method: "tick", Args: args}); err != nil {
		t.Fatal(err)
	}
	err = rec.Wait(ctx, func(ns []notify.Notification) bool { return len(ns) >= n })
	if err != nil {
		t.Fatal(err)
	}
	for i, nt := range rec.All() {
		var d struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(nt.Data.(json.RawMessage), &d); err != nil {
			t.Fatal(err)
		}
		if nt.Name != "EchoTick" || d.Seq != i+1 {
			t.Fatalf("notification %d = %s seq %d: out of order or lost", i, nt.Name, d.Seq)
		}
	}
}

// TestPrepare: the fused Create/NewFromSDP initializes the stream and
// returns its media in one round trip, with the usual notifications.
func TestPrepare(t *testing.T) {
	r := openRegistry(t, pluginDir(t))
	ctx := ctxT(t)
	a, err := r.Create(ctx, &sdk.CreateRequest{Type: "echo", Account: account(),
		Prepare: &sdk.Prepare{Session: session(sdk.DirectionOutgoing), Direction: sdk.DirectionOutgoing, LocalMedia: true}})
	if err != nil {
		t.Fatal(err)
	}
	pa := a.Prepared()
	if !pa.Initialized || !strings.HasPrefix(pa.Media, "m=application ") {
		t.Fatalf("prepared offer = %+v", pa)
	}
	offer := sdpWith(pa.Media)
	b, err := r.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: account(), RemoteSDP: offer,
		Prepare: &sdk.Prepare{Session: session(sdk.DirectionIncoming), Direction: sdk.DirectionIncoming, LocalMedia: true}})
	if err != nil {
		t.Fatal(err)
	}
	pb := b.Prepared()
	if !pb.Initialized || !strings.HasPrefix(pb.Media, "m=application ") || pb.Media == pa.Media {
		t.Fatalf("prepared answer = %+v", pb)
	}
	recA, recB := record(t, r.Center(), a), record(t, r.Center(), b)
	answer := sdpWith(pb.Media)
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	waitName(t, recA, sdk.MediaStreamDidStart)
	waitName(t, recB, sdk.MediaStreamDidStart)
	invoke(t, a, "send", map[string]string{"payload": "fused"})
	waitName(t, recA, "EchoStreamGotEcho")
	for _, s := range []*registry.Stream{a, b} {
		if err := s.End(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitName(t, recA, sdk.MediaStreamDidEnd)
	waitName(t, recB, sdk.MediaStreamDidEnd)
}

// TestHungPluginRestarted: a plugin that stops answering (SIGSTOP) fails
// the health check; its streams fail and it is replaced.
func TestHungPluginRestarted(t *testing.T) {
	r := openRegistry(t, pluginDir(t), registry.WithHealthInterval(300*time.Millisecond), registry.WithRestartBackoff(50*time.Millisecond, time.Second))
	p := startPair(t, r)
	pid := r.Plugins()[0].PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	fail := waitName(t, p.recA, sdk.MediaStreamDidFail)
	if d, ok := fail.Data.(sdk.DidFailData); !ok || !strings.Contains(d.Reason, "health check failed") {
		t.Fatalf("DidFail = %#v, want a failed health check", fail.Data)
	}
	waitGone(t, pid)
	p2 := startPair(t, r)
	invoke(t, p2.a, "send", map[string]string{"payload": "after hang"})
	waitName(t, p2.recA, "EchoStreamGotEcho")
	if info := r.Plugins()[0]; info.Restarts != 1 || info.PID == pid {
		t.Fatalf("after restart: %+v", info)
	}
}

// TestWaitHook: a request that has to wait for a plugin's restart calls
// the context's wait hook, and the function it returns when the plugin is
// back; a request to a ready plugin calls neither. (A host's overload
// control tells such a wait from its own queueing by it.)
func TestWaitHook(t *testing.T) {
	dir := pluginDir(t)
	r := openRegistry(t, dir, registry.WithRestartBackoff(50*time.Millisecond, time.Second))
	p := startPair(t, r)
	ctx := ctxT(t)
	var waits, ends atomic.Int32
	waiting := make(chan struct{}, 1)
	hooked := registry.WithWaitHook(ctx, func() func() {
		waits.Add(1)
		waiting <- struct{}{}
		return func() { ends.Add(1) }
	})
	st, err := r.NewFromSDP(hooked, &sdk.NewFromSDPRequest{Account: account(), RemoteSDP: p.offer, StreamIndex: 0})
	if err != nil {
		t.Fatalf("NewFromSDP: %v", err)
	}
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	if waits.Load() != 0 || ends.Load() != 0 {
		t.Fatalf("a ready plugin called the wait hook (%d, %d)", waits.Load(), ends.Load())
	}

	// The restarted plugin does not start before the gate file exists: the
	// request must be waiting when the hook is called, whatever the load.
	gate := filepath.Join(t.TempDir(), "gate")
	writeScript(t, dir, "sipstreams-plugin-echo.next", fmt.Sprintf("while [ ! -e %s ]; do sleep 0.01; done\nexec %s \"$@\"", gate, echoBin))
	if err := os.Rename(filepath.Join(dir, "sipstreams-plugin-echo.next"), filepath.Join(dir, "sipstreams-plugin-echo")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(r.Plugins()[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitName(t, p.recA, sdk.MediaStreamDidFail)
	done := make(chan error, 1)
	go func() {
		st, err := r.NewFromSDP(hooked, &sdk.NewFromSDPRequest{Account: account(), RemoteSDP: p.offer, StreamIndex: 0})
		if err == nil {
			err = st.End(ctx)
		}
		done <- err
	}()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("NewFromSDP returned (%v) without waiting for the restart", err)
	case <-ctx.Done():
		t.Fatal("the wait hook was never called")
	}
	if ends.Load() != 0 {
		t.Fatal("the wait ended before the plugin was back")
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("NewFromSDP after the restart: %v", err)
	}
	if waits.Load() != 1 || ends.Load() != 1 {
		t.Fatalf("wait hook called %d times, its end %d, want 1 and 1", waits.Load(), ends.Load())
	}
}
