package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

var (
	pyEchoOnce sync.Once
	pyEchoPath string
	pyEchoErr  error
	pyEchoDir  string // removed by TestMain
)

// pyTimeouts give a Python plugin the time it needs to describe itself
// and start on a loaded machine (an interpreter importing grpc).
var pyTimeouts = []registry.Option{registry.WithStartTimeout(waitTime), registry.WithDescribeTimeout(waitTime)}

// pyEchoBin packages the Python echo plugin once for the package's tests.
func pyEchoBin(tb testing.TB) string {
	tb.Helper()
	pyEchoOnce.Do(func() {
		pyEchoDir, pyEchoErr = os.MkdirTemp("", "sipstreams-pyecho")
		if pyEchoErr == nil {
			pyEchoPath, pyEchoErr = plugintest.PyEcho(pyEchoDir)
		}
	})
	if pyEchoErr != nil {
		tb.Fatal(pyEchoErr)
	}
	return pyEchoPath
}

// TestPythonPlugin: the Python echo plugin, found in the plugin directory
// beside the Go one, is described, started and supervised like it: its
// streams carry pings over UDP, their notifications and the plugin-scope
// ones reach the host's notification center, and after a SIGKILL its
// streams fail, the supervisor restarts it and new streams work.
func TestPythonPlugin(t *testing.T) {
	dir := pluginDir(t)
	copyFile(t, pyEchoBin(t), dir+"/sipstreams-plugin-pyecho")
	r := openRegistry(t, dir, append(pyTimeouts, registry.WithRestartBackoff(50*time.Millisecond, time.Second))...)
	info, err := r.Plugin("pyecho")
	if err != nil {
		t.Fatal(err)
	}
	if st := info.Info(); st.State != registry.StateReady || st.Manifest.StreamTypes[0].Type != "pyecho" || st.ReadyIn == 0 {
		t.Fatalf("pyecho: %+v", st)
	}
	var types []string
	for _, ti := range r.Types() {
		types = append(types, ti.Type)
	}
	if strings.Join(types, ",") != "echo,pyecho" { // by priority, 5 then 4
		t.Fatalf("types %v", types)
	}

	p := startPairOf(t, r, "pyecho")
	invoke(t, p.a, "send", map[string]string{"payload": "hello from the host"})
	ping := waitName(t, p.recB, "PyEchoStreamGotPing")
	echo := waitName(t, p.recA, "PyEchoStreamGotEcho")
	var got struct {
		Seq     int    `json:"seq"`
		Payload string `json:"payload"`
		RTT     int64  `json:"rtt_ns"`
	}
	if err := json.Unmarshal(echo.Data.(json.RawMessage), &got); err != nil || got.Seq != 1 || got.Payload != "hello from the host" || got.RTT <= 0 {
		t.Fatalf("echo %s (%v), ping %s", echo.Data, err, ping.Data)
	}
	// Plugin-scope notifications come from the *Plugin.
	rec := record(t, r.Center(), info)
	args, _ := json.Marshal(map[string]int{"count": 3})
	if _, err := r.Invoke(ctxT(t), "pyecho", &sdk.InvokeRequest{Method: "tick", Args: args}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Wait(ctxT(t), func(ns []notify.Notification) bool { return len(ns) == 3 }); err != nil {
		t.Fatalf("ticks: %v (%v)", err, rec.Names())
	}
	// Errors cross the boundary as sentinels.
	if _, err := p.a.Invoke(ctxT(t), &sdk.InvokeRequest{Method: "send", Args: json.RawMessage(`{"payload": 7}`)}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("send with a bad payload: %v", err)
	}

	pid := info.Info().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fail := waitName(t, p.recA, sdk.MediaStreamDidFail)
	if d, ok := fail.Data.(sdk.DidFailData); !ok || d.Context != "plugin" || !strings.Contains(d.Reason, "killed") {
		t.Fatalf("DidFail %#v", fail.Data)
	}
	ctx := ctxT(t)
	for _, s := range []*registry.Stream{p.a, p.b} {
		if err := s.End(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p2 := startPairOf(t, r, "pyecho") // waits for the restart
	if st := info.Info(); st.Restarts != 1 || st.PID == pid || st.State != registry.StateReady {
		t.Fatalf("after the restart: %+v", st)
	}
	invoke(t, p2.a, "send", map[string]string{"payload": "again"})
	waitName(t, p2.recA, "PyEchoStreamGotEcho")
	// The Go plugin beside it never noticed.
	if st, _ := r.Plugin("echo"); st.Info().Restarts != 0 {
		t.Errorf("echo restarted too: %+v", st.Info())
	}
	ctx2, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	_ = r.Close(ctx2)
	waitGone(t, info.Info().PID)
}
