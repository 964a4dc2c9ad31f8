package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/internal/gcpace"
)

func TestSharedProcs(t *testing.T) {
	unset := func(string) (string, bool) { return "", false }
	set := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == procsEnv }
	}
	for _, tc := range []struct {
		name   string
		lookup func(string) (string, bool)
		procs  int
		want   int
		apply  bool
	}{
		{"one CPU", unset, 1, 1, true},
		{"two CPUs", unset, 2, 1, true},
		{"three CPUs", unset, 3, 1, true},
		{"eight CPUs", unset, 8, 4, true},
		{"GOMAXPROCS set", set("3"), 3, 3, false},
		{"GOMAXPROCS set but empty", set(""), 8, 8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, apply := sharedProcs(tc.lookup, tc.procs)
			if n != tc.want || apply != tc.apply {
				t.Errorf("sharedProcs(%d) = %d, %v; want %d, %v", tc.procs, n, apply, tc.want, tc.apply)
			}
			opts := procsOptions(tc.lookup, n)
			if (len(opts) == 1) != tc.apply || len(opts) > 1 {
				t.Errorf("procsOptions: %d options, want one exactly when the host applies its own", len(opts))
			}
		})
	}
}

func TestGCPercent(t *testing.T) {
	p, opts, ok := gcPercent(func(string) (string, bool) { return "", false })
	if !ok || p != hostGCPercent {
		t.Errorf("without GOGC: %d, %v; want %d, true", p, ok, hostGCPercent)
	}
	var policy gcpace.Policy
	for _, o := range opts {
		o(&policy)
	}
	if policy.Ceiling != hostHeapCeiling || policy.Floor != 100 {
		t.Errorf("without GOGC: the pacer's ceiling %d and floor %d, want %d and 100", policy.Ceiling, policy.Floor, hostHeapCeiling)
	}
	if n := len(gcOptions(func(string) (string, bool) { return "", false })); n != 1 {
		t.Errorf("without GOGC: %d plugin options, want 1", n)
	}
	if _, opts, ok := gcPercent(func(k string) (string, bool) { return "100", k == gcEnv }); ok || len(opts) != 0 {
		t.Errorf("with GOGC set: the host applies its own (%v) or a ceiling (%d options)", ok, len(opts))
	}
	if n := len(gcOptions(func(k string) (string, bool) { return "100", k == gcEnv })); n != 0 {
		t.Errorf("with GOGC set: %d plugin options, want none (they inherit it)", n)
	}
}

// TestPluginProcs runs the host binary and reads the environment of its
// plugin process: the Ps and the GOGC the plugin's Go runtime starts
// with. Without GOMAXPROCS the host halves its own and gives the plugins
// the same, without GOGC it gives them its own 400; with either set, both
// keep the value given.
func TestPluginProcs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc: Linux only")
	}
	if _, set := os.LookupEnv(procsEnv); set {
		t.Fatalf("run this test without %s in the environment: it compares with the runtime's own choice", procsEnv)
	}
	_, plugins := flowBinary(t)
	env := environWithout(procsEnv)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, gcEnv+"=") })
	with := func(kv ...string) []string { return append(env[:len(env):len(env)], kv...) }
	procs, gc := strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/2)), strconv.Itoa(hostGCPercent)
	for _, tc := range []struct {
		name string
		env  []string
		want map[string]string // variable: value
	}{
		{"default", env, map[string]string{procsEnv: procs, gcEnv: gc}},
		{"GOMAXPROCS=3", with(procsEnv + "=3"), map[string]string{procsEnv: "3", gcEnv: gc}},
		{"GOGC=150", with(gcEnv + "=150"), map[string]string{procsEnv: procs, gcEnv: "150"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flow{t: t}
			f.l = startProcEnv(t, "listener", tc.env, "listen", "--json", "--plugin-dir", plugins, "--listen", "udp:127.0.0.1:0", "--user", "bob")
			// The listening line comes after the plugins have started.
			f.awaitName(f.l, "listening")
			kids := pluginChildren(t, f.l.cmd.Process.Pid)
			if len(kids) != 1 || kids[0].name != "echo" {
				f.fatalf("the host's plugin processes: %+v, want the echo plugin's alone", kids)
			}
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", kids[0].pid))
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				var got []string
				for kv := range bytes.SplitSeq(raw, []byte{0}) {
					if v, ok := bytes.CutPrefix(kv, []byte(name+"=")); ok {
						got = append(got, string(v))
					}
				}
				if len(got) != 1 || got[0] != want {
					t.Errorf("the plugin process's %s: %q, want exactly %q", name, got, want)
				}
			}
		})
	}
}

// TestHostGC reads the host's runtime.MemStats from its debug listener
// right after a collection: at GOGC=400 the next collection is due at
// 16 MB at least (Go's 4 MB minimum heap scaled by GOGC/100), at the
// default at 4 MB plus what is live — an idle host's 2 MB or so.
func TestHostGC(t *testing.T) {
	if _, set := os.LookupEnv(gcEnv); set {
		t.Fatalf("run this test without %s in the environment", gcEnv)
	}
	f, _ := startListener(t, []string{"--debug-addr", "127.0.0.1:0"}, "udp:127.0.0.1:0")
	body := f.debugGet(f.awaitName(f.l, "debug").URL + "heap?gc=1&debug=1")
	m := regexp.MustCompile(`(?m)^# NextGC = (\d+)$`).FindSubmatch(body)
	if m == nil {
		f.fatalf("no NextGC in the heap profile: %.300q", body)
	}
	next, _ := strconv.Atoi(string(m[1]))
	if next < 16<<20 {
		f.fatalf("the host's next collection is due at %d bytes, want 16 MiB at least (GOGC=%d)", next, hostGCPercent)
	}
	f.quit()
}

// TestMemProfileRate: the host does not profile memory unless GODEBUG
// sets memprofilerate (then the runtime's value stands).
func TestMemProfileRate(t *testing.T) {
	for _, tc := range []struct {
		godebug string
		set     bool // GODEBUG present
		want    bool // apply 0
	}{
		{"", false, true},
		{"", true, true},
		{"madvdontneed=1", true, true},
		{"memprofilerate=524288", true, false},
		{"madvdontneed=1, memprofilerate=1", true, false},
		{"memprofilerate=0", true, false},
		{"xmemprofilerate=1", true, true},
	} {
		lookup := func(k string) (string, bool) {
			if k == godebugEnv && tc.set {
				return tc.godebug, true
			}
			return "", false
		}
		rate, apply := memProfileRate(lookup)
		if apply != tc.want || rate != 0 {
			t.Errorf("GODEBUG %q (set %v): rate %d, apply %v; want 0, %v", tc.godebug, tc.set, rate, apply, tc.want)
		}
	}
}

// TestHostMemProfile reads the sampling rate the host's heap profile was
// taken at (its header's "@ heap/N", N twice runtime.MemProfileRate) from
// its debug listener: 0 by default, Go's own with
// GODEBUG=memprofilerate=524288.
func TestHostMemProfile(t *testing.T) {
	_, plugins := flowBinary(t)
	env := environWithout(godebugEnv)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"default", env, "heap/0"},
		{"GODEBUG", append(env[:len(env):len(env)], godebugEnv+"="+memProfileSetting+"=524288"), "heap/1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flow{t: t}
			f.l = startProcEnv(t, "listener", tc.env, "listen", "--json", "--plugin-dir", plugins, "--listen", "udp:127.0.0.1:0", "--user", "bob", "--debug-addr", "127.0.0.1:0")
			body := f.debugGet(f.awaitName(f.l, "debug").URL + "heap?debug=1")
			head, _, _ := bytes.Cut(body, []byte("\n"))
			if _, rate, _ := bytes.Cut(head, []byte(" @ ")); string(rate) != tc.want {
				f.fatalf("heap profile header %q, want it taken at %s", head, tc.want)
			}
			if !bytes.Contains(body, []byte("\n# HeapAlloc = ")) {
				f.fatalf("no memory figures in the heap profile: %.300q", body)
			}
			f.quit()
		})
	}
}

// environWithout is the test's environment without the variable name.
func environWithout(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// debugGet reads url from the host's debug listener; anything but a 200
// fails the test.
func (f *flow) debugGet(url string) []byte {
	res, err := http.Get(url)
	if err != nil {
		f.fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		f.fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return body
}
