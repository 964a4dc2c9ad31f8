//go:build linux

package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// badManifest is a valid manifest for the shell-script plugins below.
const badManifest = `{"name":"bad","version":"1","contract_major":1,"contract_minor":0,"stream_types":[{"type":"bad","priority":1,"hold_supported":false,"match":{"media":["application"]}}]}`

// readPID waits for a script to write a pid into file.
func readPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		b, err := os.ReadFile(file)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") && s != "" {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: %q", file, b)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never written", file)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// groupMembers lists the live processes whose process group is pgid.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the parenthesised name: state, ppid, pgrp.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// waitGroupGone waits until no process of group pgid is left.
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of plugin group %d still run: %v", pgid, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop SIGSTOPs pid and waits until it is stopped.
func stop(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTime)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'T' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d does not stop: %s", pid, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killAtEnd SIGKILLs pid when the test ends, whatever happened.
func killAtEnd(t *testing.T, pid int) {
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
}

// TestForkingPluginsDoNotBlock: plugins that fork a child keeping their
// stdout and stderr open, then hang or exit before the handshake, or hang
// right after it, are refused within the start timeout while the echo plugin loads; their whole
// process group is killed. A child that left the group (setsid) cannot
// block the start either: the pipes are given up a short delay after the
// plugin died.
func TestForkingPluginsDoNotBlock(t *testing.T) {
	describe := "if [ \"$1\" = describe ]; then echo '" + badManifest + "'; exit 0; fi\n"
	cases := []struct {
		name   string
		body   string // $D is the plugin dir
		reason string
		// escapes: the child leaves the plugin's process group.
		escapes bool
	}{
		{name: "hangs", body: "sleep 1000 & echo $! > $D/hangs.child\nwait", reason: "no go-plugin handshake within the start timeout"},
		{name: "exits", body: "sleep 1000 & echo $! > $D/exits.child\necho 'giving up' >&2; exit 3", reason: "exited before the handshake (exit status 3): giving up"},
		// The real echo plugin handshakes through a FIFO and is stopped
		// before the host can call it.
		{name: "handshakes", body: "sleep 1000 & echo $! > $D/handshakes.child\nmkfifo $D/fifo\n" + echoBin + " > $D/fifo &\nE=$!\nIFS= read -r line < $D/fifo\nkill -STOP $E\necho \"$line\"\nwait",
			reason: "handshake received, but the plugin did not serve within the start timeout"},
		{name: "escapes", body: "setsid sleep 1000 & echo $! > $D/escapes.child\nwait", reason: "no go-plugin handshake within the start timeout", escapes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := pluginDir(t)
			file := "sipstreams-plugin-" + tc.name
			writeScript(t, dir, file, "D="+dir+"\n"+describe+"echo $$ > $D/"+tc.name+".leader\n"+tc.body)

			const startTimeout = 2 * time.Second
			began := time.Now()
			r := openRegistry(t, dir, registry.WithStartTimeout(startTimeout))
			t.Logf("Discover took %v (start timeout %v)", time.Since(began), startTimeout)
			leader := readPID(t, filepath.Join(dir, tc.name+".leader"))
			child := readPID(t, filepath.Join(dir, tc.name+".child"))
			killAtEnd(t, child)
			killAtEnd(t, leader)

			for _, p := range r.Plugins() {
				switch p.File {
				case "sipstreams-plugin-echo":
					if p.State != registry.StateReady {
						t.Errorf("echo plugin: %v %v", p.State, p.Err)
					}
				case file:
					var pe *registry.PluginError
					if p.State != registry.StateRefused || !errors.As(p.Err, &pe) || !strings.Contains(pe.Reason, tc.reason) {
						t.Errorf("%s: %v %v, want refused saying %q", file, p.State, p.Err, tc.reason)
					}
				}
			}
			if _, err := r.Create(ctxT(t), &sdk.CreateRequest{Type: "echo"}); err != nil {
				t.Errorf("echo plugin does not work: %v", err)
			}
			waitGroupGone(t, leader)
			if !tc.escapes {
				waitGone(t, child)
			}
		})
	}
}

// TestForkingDescribe: a plugin whose `describe` leaves a child holding
// stdout still loads, and the child is killed with its group.
func TestForkingDescribe(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "sipstreams-plugin-echo", "if [ \"$1\" = describe ]; then sleep 1000 & echo $! > "+dir+"/describe.child; fi\nexec "+echoBin+" \"$@\"")
	r := openRegistry(t, dir)
	child := readPID(t, filepath.Join(dir, "describe.child"))
	killAtEnd(t, child)
	if info := r.Plugins()[0]; info.State != registry.StateReady {
		t.Fatalf("plugin: %v %v", info.State, info.Err)
	}
	waitGone(t, child)
}

// echoWithChild is a plugin dir whose echo plugin is a script that forks a
// child keeping stdout and stderr open, then execs the real echo plugin. It
// returns the dir and the file the child's pid is written to.
func echoWithChild(t *testing.T) (dir, childFile string) {
	t.Helper()
	dir = t.TempDir()
	childFile = filepath.Join(dir, "echo.child")
	writeScript(t, dir, "sipstreams-plugin-echo",
		"if [ \"$1\" = describe ]; then exec "+echoBin+" describe; fi\n"+
			"sleep 1000 & echo $! >> "+childFile+"\nexec "+echoBin)
	return dir, childFile
}

// TestHungPluginWithChildRestarted: a plugin that handshakes, forks a child
// holding its stderr and later hangs is killed with its whole group and
// restarted; new streams work.
func TestHungPluginWithChildRestarted(t *testing.T) {
	dir, childFile := echoWithChild(t)
	r := openRegistry(t, dir, registry.WithHealthInterval(300*time.Millisecond), registry.WithRestartBackoff(50*time.Millisecond, time.Second))
	p := startPair(t, r)
	pid := r.Plugins()[0].PID
	child := readPID(t, childFile)
	killAtEnd(t, child)
	killAtEnd(t, pid)
	stop(t, pid)
	fail := waitName(t, p.recA, sdk.MediaStreamDidFail)
	if d, ok := fail.Data.(sdk.DidFailData); !ok || !strings.Contains(d.Reason, "health check failed") {
		t.Fatalf("DidFail = %#v, want a failed health check", fail.Data)
	}
	waitGroupGone(t, pid)
	waitGone(t, child)
	p2 := startPair(t, r)
	invoke(t, p2.a, "send", map[string]string{"payload": "after hang"})
	waitName(t, p2.recA, "EchoStreamGotEcho")
	if info := r.Plugins()[0]; info.Restarts != 1 || info.PID == pid {
		t.Fatalf("after restart: %+v", info)
	}
}

// TestCloseHungPluginWithChild: Close does not wait for ever on a plugin
// that hangs (so never answers the graceful shutdown) and has a child: the
// group is killed once the grace period is over.
func TestCloseHungPluginWithChild(t *testing.T) {
	dir, childFile := echoWithChild(t)
	r := registry.New(registry.WithDir(dir), registry.WithHealthInterval(time.Hour))
	ctx := ctxT(t)
	if err := r.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	info := r.Plugins()[0]
	if info.State != registry.StateReady {
		t.Fatalf("plugin: %v %v", info.State, info.Err)
	}
	child := readPID(t, childFile)
	killAtEnd(t, child)
	killAtEnd(t, info.PID)
	stop(t, info.PID)
	began := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- r.Close(context.Background()) }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Close took %v", time.Since(began))
	case <-time.After(waitTime):
		t.Fatal("Close still waits for the hung plugin")
	}
	waitGroupGone(t, info.PID)
	waitGone(t, child)
}

// TestPluginOwnGroup: each plugin runs in a process group of its own, so a
// signal to the host's group (Ctrl-C in a terminal) does not reach it and
// the registry can kill it with everything it started.
func TestPluginOwnGroup(t *testing.T) {
	r := openRegistry(t, pluginDir(t, "sipstreams-plugin-echo", "sipstreams-plugin-echo2"))
	seen := map[int]bool{}
	for _, p := range r.Plugins() {
		pgid, err := syscall.Getpgid(p.PID)
		if err != nil {
			t.Fatal(err)
		}
		if pgid != p.PID || pgid == syscall.Getpgrp() || seen[pgid] {
			t.Errorf("%s: pid %d in group %d (host's %d), want a group of its own", p.File, p.PID, pgid, syscall.Getpgrp())
		}
		seen[pgid] = true
	}
	if len(seen) != 2 {
		t.Fatalf("%d process groups for 2 plugins", len(seen))
	}
}
