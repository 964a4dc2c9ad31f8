package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// TestCallFromAccount: `call --account` places the call from a SIP account
// of the config dir: sent to its outbound proxy (sipp), From its address
// of record, the 401 to the INVITE answered with its credentials (the
// scenario verifies them).
func TestCallFromAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_auth.xml",
		Vars: map[string]string{"username": "alice", "password": "secret"}})
	dir := t.TempDir()
	conf := fmt.Sprintf(`accounts:
    alice@127.0.0.1:
        display_name = Alice
        auth:
            password = secret
        sip:
            register = false
            outbound_proxy = 127.0.0.1:%d
`, uas.Port())
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "call", "sip:sipp@127.0.0.1", "--account", "alice@127.0.0.1", "--config-dir", dir,
		"--stream", "echo", "--plugin-dir", pluginDir(t), "--json", "--hangup-after", "300ms")
	if code != 0 {
		t.Fatalf("call exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	for _, want := range []string{`"SIPSessionDidStart"`, `"SIPSessionDidEnd"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in %s", want, out)
		}
	}
	if r := uas.Wait(); r.Successful != 1 || r.Failed != 0 {
		t.Errorf("sipp: %d successful, %d failed\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
	} else if !strings.Contains(r.Messages, `From: "Alice" <sip:alice@127.0.0.1>`) {
		t.Errorf("the INVITE is not from the account's AOR:\n%s", r.Messages)
	}

	code, _, errs = runCLI(t, "call", "sip:sipp@127.0.0.1", "--account", "nobody@127.0.0.1", "--config-dir", dir,
		"--stream", "echo", "--plugin-dir", pluginDir(t))
	if code != 1 || !strings.Contains(errs, "--account") || !strings.Contains(errs, "nobody@127.0.0.1") {
		t.Errorf("unknown account: exit %d, stderr %q", code, errs)
	}
}
