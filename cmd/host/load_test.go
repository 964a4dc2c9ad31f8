package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// loadLines reads the JSON lines of `load --json`: its progress records
// and its summary.
func loadLines(t *testing.T, out string) (progress []map[string]any, summary map[string]any) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("load printed a line that is not JSON: %q", line)
		}
		switch m["event"] {
		case "progress":
			progress = append(progress, m)
		case "summary":
			summary = m
		}
	}
	if summary == nil {
		t.Fatalf("load printed no summary:\n%s", out)
	}
	return progress, summary
}

// TestLoad: `sipstreams load` places 12 calls with SRTP at 20/s to
// `listen --auto-answer --play`, each lasting 2 s: every call starts and
// carries media both ways, the JSON records say so, and every stream of
// the listener was encrypted. Against a closed port every call fails and
// load exits 1; bad flags exit 2.
func TestLoad(t *testing.T) {
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--play", toneWAV(t, 440))
	code, out, errs := runCLI(t, "load", uri, "--plugin-dir", mediaPlugins(t), "--audio", toneWAV(t, 1000),
		"--calls", "12", "--rate", "20", "--duration", "2s", "--srtp", "--json", "--interval", "500ms")
	progress, sum := loadLines(t, out)
	if code != 0 {
		t.Errorf("load: exit %d\n%s\n%s", code, out, errs)
	}
	if len(progress) == 0 {
		t.Error("no progress record")
	}
	for key, want := range map[string]float64{"calls": 12, "placed": 12, "started": 12, "ended": 12, "failed": 0, "without_media_both_ways": 0, "rx_rejected": 0} {
		if got, _ := sum[key].(float64); got != want {
			t.Errorf("summary %s = %v, want %v (%v)", key, sum[key], want, sum)
		}
	}
	// 2 s of media per call is 100 packets each way; a busy machine may
	// start some late, but every call carried some.
	for _, key := range []string{"rx_packets", "tx_packets"} {
		if got, _ := sum[key].(float64); got < 12*20 {
			t.Errorf("summary %s = %v, want at least %d", key, sum[key], 12*20)
		}
	}
	if got, _ := sum["plugins_cpu_s"].(float64); got <= 0 {
		t.Errorf("no plugin CPU measured: %v", sum)
	}
	f.quit()
	if n := strings.Count(f.l.out.String(), sdkaudio.DidEnableEncryption); n != 12 {
		t.Errorf("the listener's streams were encrypted %d times, want 12 (--srtp)", n)
	}

	// Nobody at the route: every call fails, exit 1, the reason printed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	code, out, errs = runCLI(t, "load", "sip:nobody@127.0.0.1", "--route", fmt.Sprintf("tcp:127.0.0.1:%d", closed), "--plugin-dir", mediaPlugins(t),
		"--audio", toneWAV(t, 1000), "--calls", "2", "--rate", "10", "--duration", "1s", "--json")
	_, sum = loadLines(t, out)
	if failed, _ := sum["failed"].(float64); code != 1 || failed != 2 || sum["failures"] == nil {
		t.Errorf("load to a closed port: exit %d, summary %v\n%s", code, sum, errs)
	}

	for _, bad := range [][]string{
		{"load", uri}, // no --audio
		{"load", uri, "--audio", "/nonexistent.wav"}, // unreadable
		{"load", uri, "--audio", toneWAV(t, 440), "--calls", "0"},
		{"load", uri, "--audio", toneWAV(t, 440), "--rate", "0"},
		{"load", uri, "--audio", toneWAV(t, 440), "--duration", "-1s"},
		{"load", "--audio", toneWAV(t, 440)}, // no URI
	} {
		if code, _, errs := runCLI(t, bad...); code != 2 || !strings.Contains(errs, "load") {
			t.Errorf("%q: exit %d, stderr %q", bad, code, errs)
		}
	}
}

// TestLoadShared: the same with both ends on shared sockets
// (rtp.shared_sockets: the listener's from its configuration, the load's
// from --shared-sockets): every call's packets come from one address and
// are told apart by SSRC; every call still starts and carries media both
// ways.
func TestLoadShared(t *testing.T) {
	dir := t.TempDir()
	conf := "rtp:\n    shared_sockets = 2\n    port_range = 42000-42100\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--play", toneWAV(t, 440), "--config-dir", dir)
	code, out, errs := runCLI(t, "load", uri, "--plugin-dir", mediaPlugins(t), "--audio", toneWAV(t, 1000),
		"--calls", "16", "--rate", "20", "--duration", "2s", "--srtp", "--json", "--interval", "500ms",
		"--shared-sockets", "2", "--port-range", "42200-42300")
	_, sum := loadLines(t, out)
	if code != 0 {
		t.Errorf("load: exit %d\n%s\n%s", code, out, errs)
	}
	for key, want := range map[string]float64{"calls": 16, "started": 16, "failed": 0, "without_media_both_ways": 0} {
		if got, _ := sum[key].(float64); got != want {
			t.Errorf("summary %s = %v, want %v (%v)", key, sum[key], want, sum)
		}
	}
	f.quit()
	if n := strings.Count(f.l.out.String(), sdkaudio.DidEnableEncryption); n != 16 {
		t.Errorf("the listener's streams were encrypted %d times, want 16", n)
	}
	if code, _, errs := runCLI(t, "load", uri, "--audio", toneWAV(t, 440), "--shared-sockets", "65"); code != 2 || !strings.Contains(errs, "--shared-sockets") {
		t.Errorf("--shared-sockets 65: exit %d, stderr %q", code, errs)
	}
}
