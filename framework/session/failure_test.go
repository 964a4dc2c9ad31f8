package session

import (
	"strings"
	"syscall"
	"testing"
)

// TestPluginCrashEndsSession: the echo plugin of one host is killed while
// a session with one echo stream runs. The stream fails
// (MediaStreamDidFail, context plugin), so the session ends as the
// reference's does for its only stream: BYE, SIPSessionDidEnd with the
// failure as end_reason; the peer sees a remote end.
func TestPluginCrashEndsSession(t *testing.T) {
	a, _, _, _, recA, recB := connected(t)
	var pid int
	for _, p := range a.reg.Plugins() {
		if p.PID > 0 {
			pid = p.PID
		}
	}
	if pid == 0 {
		t.Fatal("no running plugin on alice's side")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	end := waitFor(t, recA, SIPSessionDidEnd).Data.(DidEndData)
	if end.Originator != Local || !strings.HasPrefix(end.EndReason, "echo media stream failed:") {
		t.Errorf("alice's SIPSessionDidEnd %+v, want local, \"echo media stream failed: …\"", end)
	}
	if d := waitFor(t, recB, SIPSessionDidEnd).Data.(DidEndData); d.Originator != Remote {
		t.Errorf("bob's SIPSessionDidEnd %+v, want remote", d)
	}
}
