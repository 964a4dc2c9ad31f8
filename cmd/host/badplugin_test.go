package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processRuns reports whether pid runs (and is not a zombie).
func processRuns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// TestListenWithBadPlugins: next to the echo plugin, one plugin forks a
// child holding its stdout and stderr and never handshakes, another
// handshakes (through the real echo plugin) and hangs at once with a
// child. `listen` still prints `listening` after the start timeout and
// answers a call with the echo stream; nothing of the bad plugins is left.
func TestListenWithBadPlugins(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process test on Linux only")
	}
	bin, plugins := buildHost(t)
	echo := filepath.Join(plugins, "sipstreams-plugin-echo")
	pids := t.TempDir() // not the plugin dir: the caller loads it too
	manifest := `{"name":"bad","version":"1","contract_major":1,"contract_minor":0,"stream_types":[{"type":"bad","priority":1,"hold_supported":false,"match":{"media":["application"]}}]}`
	scripts := map[string]string{
		"hangs": "sleep 1000 & echo $! >> " + pids + "/hangs\nwait",
		"handshakes": "sleep 1000 & echo $! >> " + pids + "/handshakes\nF=$(mktemp -u)\nmkfifo $F\n" + echo + " > $F &\nE=$!\n" +
			"IFS= read -r line < $F\nrm -f $F\nkill -STOP $E\necho $E >> " + pids + "/handshakes\necho \"$line\"\nwait",
	}
	for name, body := range scripts {
		script := "#!/bin/sh\nif [ \"$1\" = describe ]; then echo '" + manifest + "'; exit 0; fi\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(plugins, "sipstreams-plugin-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Whatever happens, nothing the scripts started outlives the test.
	t.Cleanup(func() {
		for _, pid := range readPIDs(t, pids) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	deadline := time.After(80 * time.Second)
	listen := exec.CommandContext(ctx, bin, "listen", "--auto-answer", "--json", "--start-timeout", "2s", "--listen", "udp:127.0.0.1:0", "--user", "bob")
	lout, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var lerr lockedBuffer
	listen.Stderr = &lerr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listen.Process.Kill() }()
	llines := readJSONLines(t, "listener", lout)
	first, ok := next(t, "listener", llines, deadline)
	if !ok || first.Name != "listening" || first.Port == 0 {
		t.Fatalf("listener's first line = %+v (stderr %s)", first, lerr.String())
	}

	call := exec.CommandContext(ctx, bin, "call", fmt.Sprintf("sip:bob@127.0.0.1:%d", first.Port), "--stream", "echo",
		"--hangup-after", "1s", "--json", "--start-timeout", "2s", "--user", "alice")
	var cerr strings.Builder
	call.Stderr = &cerr
	cout, err := call.Output()
	if err != nil {
		t.Fatalf("call: %v\nstderr: %s\nstdout: %s", err, cerr.String(), cout)
	}
	var caller []jsonLine
	for l := range readJSONLines(t, "caller", strings.NewReader(string(cout))) {
		caller = append(caller, l)
	}
	if _, ok := find(caller, "SIPSessionDidStart"); !ok {
		t.Errorf("call did not start: %v", sessionNames(caller))
	}
	if _, ok := find(caller, "MediaStreamDidStart"); !ok {
		t.Error("caller's echo stream never started")
	}
	var listener []jsonLine
	for {
		l, ok := next(t, "listener", llines, deadline)
		if !ok {
			t.Fatalf("listener exited early: %s", lerr.String())
		}
		listener = append(listener, l)
		if l.Name == "SIPSessionDidEnd" {
			break
		}
	}
	if _, ok := find(listener, "MediaStreamDidStart"); !ok {
		t.Errorf("listener's echo stream never started: %v", sessionNames(listener))
	}

	if err := listen.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if _, ok := next(t, "listener", llines, deadline); !ok {
			break
		}
	}
	if err := listen.Wait(); err != nil {
		t.Fatalf("listener exit: %v\n%s", err, lerr.String())
	}
	// The bad plugins' groups were killed when their start failed, in
	// both hosts; the hosts are gone, so is every plugin.
	all := readPIDs(t, pids)
	if len(all) != 6 { // per host: hangs' child; handshakes' child and its echo
		t.Fatalf("pids written by the bad plugins: %v", all)
	}
	for _, pid := range all {
		for end := time.Now().Add(20 * time.Second); processRuns(pid); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("process %d of a bad plugin still runs", pid)
			}
		}
	}
	if left := pluginProcesses(t, plugins); len(left) > 0 {
		t.Errorf("plugin processes left: %v", left)
	}
}

// readPIDs reads the pids the bad plugins appended to the files of dir.
func readPIDs(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}
