package main

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/session"
)

// goroutineTotal matches the first line of the goroutine profile in text.
var goroutineTotal = regexp.MustCompile(`^goroutine profile: total (\d+)\n`)

// TestListenDebugAddr: `listen --debug-addr 127.0.0.1:0` prints where it
// serves the runtime profiles and serves them (the goroutine count the
// attack soak reads) and a CPU profile; an address that is not loopback
// is refused as bad usage, before anything starts.
func TestListenDebugAddr(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "localhost:0", "127.0.0.1"} {
		code, _, errs := runCLI(t, "listen", "--debug-addr", bad, "--plugin-dir", pluginDir(t))
		if code != 2 || !strings.Contains(errs, "--debug-addr must be a loopback ip:port") {
			t.Errorf("--debug-addr %s: code %d, stderr %q", bad, code, errs)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		f, _ := startListener(t, []string{"--debug-addr", addr}, "udp:127.0.0.1:0")
		l := f.awaitName(f.l, "debug")
		url := l.URL
		if !strings.HasPrefix(url, "http://"+strings.TrimSuffix(addr, "0")) || !strings.HasSuffix(url, "/debug/pprof/") {
			f.fatalf("debug url %q for %s", url, addr)
		}
		get := func(path string) (int, string) {
			res, err := http.Get(url + path)
			if err != nil {
				f.fatalf("GET %s: %v", path, err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, body := get("goroutine?debug=1"); code != 200 || !goroutineTotal.MatchString(body) {
			f.fatalf("goroutine profile: %d %.200q", code, body)
		}
		if code, body := get(""); code != 200 || !regexp.MustCompile(`(?m)^goroutine \d+$`).MatchString(body) || !strings.Contains(body, "heap ") {
			f.fatalf("index: %d %q", code, body)
		}
		// The memory figures, without a collection: every line a
		// runtime/metrics name and a number, the live heap among them.
		code, body := get("../memory") // the client sends it as it is; the server's mux cleans it
		if code != 200 || len(strings.Split(strings.TrimSpace(body), "\n")) != len(memoryMetrics) {
			f.fatalf("memory figures: %d %q", code, body)
		}
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			name, v, _ := strings.Cut(line, " ")
			if n, err := strconv.ParseUint(v, 10, 64); !slices.Contains(memoryMetrics, name) || err != nil || (name == "/memory/classes/total:bytes" && n == 0) {
				f.fatalf("memory figures: line %q", line)
			}
		}
		// The SIP counters: every line a name and a number, the overload
		// control's among them.
		code, body = get("../sip")
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if code != 200 || len(lines) != len(sipFigures(engine.Stats{}, session.OverloadStats{}, 0)) {
			f.fatalf("SIP figures: %d %q", code, body)
		}
		for _, line := range lines {
			name, v, _ := strings.Cut(line, " ")
			if _, err := strconv.ParseUint(v, 10, 64); err != nil || !strings.HasPrefix(name, "engine.") && !strings.HasPrefix(name, "sessions.") {
				f.fatalf("SIP figures: line %q", line)
			}
		}
		if !strings.Contains(body, "\nsessions.setup_limit 64\n") {
			f.fatalf("SIP figures: no setup limit of 64 (the overload control's start): %q", body)
		}
		if code, _ := get("nosuch"); code != 404 {
			f.fatalf("an unknown profile: %d, want 404", code)
		}
		// A CPU profile: gzipped protobuf, as go tool pprof reads it.
		if code, body := get("profile?seconds=1"); code != 200 || !strings.HasPrefix(body, "\x1f\x8b") {
			f.fatalf("CPU profile: %d %.40q", code, body)
		}
		f.quit()
	}
}
