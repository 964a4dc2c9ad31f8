package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/plugintest"
)

var (
	pyEchoOnce sync.Once
	pyEchoDir  string // removed by TestMain
	pyEchoPath string
	pyEchoErr  error
)

// pyEchoBin packages the Python echo plugin once for the package's tests.
func pyEchoBin(t *testing.T) string {
	t.Helper()
	pyEchoOnce.Do(func() {
		pyEchoDir, pyEchoErr = os.MkdirTemp("", "sipstreams-pyecho")
		if pyEchoErr == nil {
			pyEchoPath, pyEchoErr = plugintest.PyEcho(pyEchoDir)
		}
	})
	if pyEchoErr != nil {
		t.Fatal(pyEchoErr)
	}
	return pyEchoPath
}

// pyStart is the --start-timeout of the Python plugin's hosts: an
// interpreter importing grpc may take seconds on a loaded machine.
const pyStart = "60s"

// pyPluginDir is a plugin directory holding only the Python echo plugin,
// pinned by a lock file written with `plugins lock`, as a user sets it up.
func pyPluginDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pyEchoBin(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sipstreams-plugin-pyecho"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "plugins", "lock", "--plugin-dir", dir, "--start-timeout", pyStart); code != 0 || !strings.Contains(out, "pyecho") {
		t.Fatalf("plugins lock: code %d\n%s%s", code, out, errs)
	}
	return dir
}

// pluginPIDs are the processes running the plugin binary path (a Python
// plugin runs as `python3 PATH`), its `describe` runs excepted.
func pluginPIDs(t *testing.T, path string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		for i, a := range args {
			if a == path && (i+1 == len(args) || args[i+1] != "describe") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestPythonPluginSession: two hosts, each starting the Python echo plugin
// from its own (locked) plugin directory, carry a pyecho stream in a real
// SIP session on loopback (`call … --stream pyecho`): the caller's ping
// crosses the plugin's own UDP socket and both hosts see the plugin's
// notifications. The listener's plugin is then killed with SIGKILL: its
// stream fails with the crash as reason, the supervisor restarts the
// plugin, and a second call through the same listener works again.
func TestPythonPluginSession(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process test on Linux only")
	}
	ldir, cdir := pyPluginDir(t), pyPluginDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	deadline := time.After(110 * time.Second)

	lin, lstdin := io.Pipe()
	lw, lerr := newLineWriter(t, "listener"), &lockedBuffer{}
	lcode := make(chan int, 1)
	go func() {
		lcode <- run(ctx, []string{"listen", "--auto-answer", "--json", "--listen", "udp:127.0.0.1:0", "--plugin-dir", ldir, "--user", "bob", "--start-timeout", pyStart}, lin, lw, lerr)
	}()
	defer lstdin.Close()
	first := await(t, "listener", lw, deadline, named("listening"))[0]

	// call places a call with a pyecho stream, sends a ping over it and
	// returns the caller's stdin (closed by /end) and exit code.
	call := func(payload string) (io.WriteCloser, *lineWriter, chan int, *lockedBuffer) {
		t.Helper()
		cin, cstdin := io.Pipe()
		cw, cerr := newLineWriter(t, "caller"), &lockedBuffer{}
		ccode := make(chan int, 1)
		go func() {
			ccode <- run(ctx, []string{"call", fmt.Sprintf("bob@127.0.0.1:%d", first.Port), "--stream", "pyecho", "--json", "--plugin-dir", cdir, "--user", "alice", "--start-timeout", pyStart}, cin, cw, cerr)
		}()
		await(t, "caller", cw, deadline, named("SIPSessionDidStart"))
		if _, err := io.WriteString(cstdin, `/invoke send {"payload":"`+payload+`"}`+"\n"); err != nil {
			t.Fatal(err)
		}
		echo := await(t, "caller", cw, deadline, func(l jsonLine) bool {
			return l.Name == "PyEchoStreamGotEcho" && l.Data["payload"] == payload
		})
		if e := echo[len(echo)-1].Data; e["seq"] != float64(1) || e["rtt_ns"].(float64) <= 0 {
			t.Errorf("caller's PyEchoStreamGotEcho = %v", e)
		}
		ping := await(t, "listener", lw, deadline, func(l jsonLine) bool {
			return l.Name == "PyEchoStreamGotPing" && l.Data["payload"] == payload
		})
		if p := ping[len(ping)-1]; p.Data["seq"] != float64(1) {
			t.Errorf("listener's PyEchoStreamGotPing = %+v", p)
		}
		return cstdin, cw, ccode, cerr
	}
	hangUp := func(cstdin io.WriteCloser, cw *lineWriter, ccode chan int, cerr *lockedBuffer) {
		t.Helper()
		// Written beside the wait: a call that has already ended reads
		// no more, and closing the pipe below releases the write.
		go func() { _, _ = io.WriteString(cstdin, "/end\n") }()
		select {
		case code := <-ccode:
			if code != 0 {
				t.Fatalf("call exited %d: %s", code, cerr.String())
			}
		case <-deadline:
			t.Fatal("call did not exit")
		}
		cstdin.Close()
	}

	cstdin, cw, ccode, cerr := call("over SIP, through Python")
	// SIGKILL the listener's plugin, under the live stream.
	pids := pluginPIDs(t, filepath.Join(ldir, "sipstreams-plugin-pyecho"))
	if len(pids) != 1 {
		t.Fatalf("listener's pyecho processes: %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fail := await(t, "listener", lw, deadline, named("MediaStreamDidFail"))
	if d := fail[len(fail)-1].Data; d["context"] != "plugin" || !strings.Contains(fmt.Sprint(d["reason"]), "sipstreams-plugin-pyecho crashed") {
		t.Errorf("listener's MediaStreamDidFail = %v", d)
	}
	hangUp(cstdin, cw, ccode, cerr)
	await(t, "listener", lw, deadline, named("SIPSessionDidEnd"))

	// The supervisor restarted it: a new call through the same listener
	// carries its stream again, served by a new process.
	cstdin, cw, ccode, cerr = call("after the restart")
	again := pluginPIDs(t, filepath.Join(ldir, "sipstreams-plugin-pyecho"))
	if len(again) != 1 || again[0] == pids[0] {
		t.Errorf("listener's pyecho processes after the restart: %v (killed %d)", again, pids[0])
	}
	hangUp(cstdin, cw, ccode, cerr)
	await(t, "listener", lw, deadline, named("SIPSessionDidEnd"))

	if err := lstdin.Close(); err != nil {
		t.Fatal(err)
	}
	cancel() // --auto-answer runs until stopped
	select {
	case <-lcode:
	case <-time.After(30 * time.Second):
		t.Fatal("listen did not stop")
	}
	if left := pluginPIDs(t, filepath.Join(ldir, "sipstreams-plugin-pyecho")); len(left) > 0 {
		t.Errorf("listener's plugin processes left: %v", left)
	}
	if s := lerr.String(); strings.Contains(s, "refused") {
		t.Errorf("listener refused a plugin: %s", s)
	}
}
