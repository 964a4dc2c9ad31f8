package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sipstreams/sipstreams/internal/gcpace"
	"github.com/sipstreams/sipstreams/registry"
)

// The host and each of its plugin processes are separate Go runtimes on the
// same cores. Left to itself each takes a P (GOMAXPROCS) per CPU, and when
// work arrives while others are idle it wakes a thread to look for more:
// on a small machine those wake-ups, against each other's and the peer's
// threads, cost more than the work they find (BENCHMARKS.md, "Half the
// processors": on 2 cores a SIP call took 0.83 ms of CPU with a P per
// CPU, 0.56 ms with one). So the host takes half of what Go would give it,
// at least one, and starts its plugins with the same. A GOMAXPROCS in the
// host's environment is left as it is: the host's runtime has applied it,
// and the plugin processes inherit it.

// procsEnv is the variable the Go runtime reads its number of Ps from.
const procsEnv = "GOMAXPROCS"

// shareProcs applies sharedProcs to the host's runtime.
func shareProcs() {
	if n, ok := sharedProcs(os.LookupEnv, runtime.GOMAXPROCS(0)); ok {
		runtime.GOMAXPROCS(n)
	}
}

// sharedProcs is the number of Ps for a host whose runtime chose procs
// (one per CPU it may use) and whether to apply it: half, at least one,
// unless lookup finds GOMAXPROCS set.
func sharedProcs(lookup func(string) (string, bool), procs int) (int, bool) {
	if _, set := lookup(procsEnv); set {
		return procs, false
	}
	return max(1, procs/2), true
}

// procsOptions start plugin processes with the host's number of Ps, unless
// GOMAXPROCS is set (then they inherit it).
func procsOptions(lookup func(string) (string, bool), procs int) []registry.Option {
	return pluginEnv(lookup, procsEnv, procs)
}

// pluginEnv starts plugin processes with name=value, unless lookup finds
// name set: the plugins then inherit the host's.
func pluginEnv(lookup func(string) (string, bool), name string, value int) []registry.Option {
	if _, set := lookup(name); set {
		return nil
	}
	return []registry.Option{registry.WithEnv(name + "=" + strconv.Itoa(value))}
}

// The host's garbage collector. Its live heap is a few MB, so at Go's
// default (GOGC=100: a collection whenever the heap has doubled) a host
// under load collects dozens of times a second, each time scanning every
// goroutine's stack — with one P, on the path of every call. The host
// collects at GOGC=400 instead (a heap up to five times what is live,
// still tens of MB at most) and gives the memory back once idle (the idle
// trimmer, memory.go). Its plugin processes get the same through their
// environment (the audio plugin's CPU per call fell by a tenth;
// sdk.Serve's idle trimmer gives their memory back). A GOGC in the
// environment is left as it is, and the plugins inherit it. While busy,
// the host and sdk.Serve let the heap goal come down only slowly after a
// burst (internal/gcpace, over whatever GOGC is in effect): the live heap
// under load swings by two or more between collections, and memory the
// runtime gave back when the goal fell was faulted in again page by page
// by the next burst — 0.44–0.57 page faults a call at 3,000 calls/s
// against 0.15–0.26 with the pacer, at 15 µs a fault on the test VM,
// in the bursts where the host is busiest (BENCHMARKS.md).
//
// GOGC=400 is for a small live heap. Under an overload the live heap
// grows (calls in setup, their goroutines' stacks) and five times it was
// 60–80 MB at 4,000 calls/s; the runtime keeps metadata for every span
// of its heap's peak (mark and allocation bits, span structures) and a
// structure for every goroutine there was, for good: a minute after such
// a load the host still held 5 MB more than idle (BENCHMARKS.md). So the
// host's own GOGC comes with a ceiling on the heap goal,
// hostHeapCeiling: over it the pacer lowers GOGC, down to Go's default
// 100 at the least (a collection when the heap has doubled, never more
// often), which a steady load under the clean rate hardly meets (its goals
// are 16–40 MB). With GOGC in the environment, there is no ceiling
// (GOMEMLIMIT is Go's own).
const (
	gcEnv           = "GOGC"
	hostGCPercent   = 400
	hostHeapCeiling = 32 << 20
)

// tuneGC applies gcPercent to the host's runtime and returns the pacer's
// options that go with it.
func tuneGC() []gcpace.Option {
	p, opts, ok := gcPercent(os.LookupEnv)
	if ok {
		debug.SetGCPercent(p)
	}
	return opts
}

// gcPercent is the host's GOGC and its pacer's options (the ceiling),
// and whether to apply them: hostGCPercent and hostHeapCeiling, unless
// lookup finds GOGC set.
func gcPercent(lookup func(string) (string, bool)) (int, []gcpace.Option, bool) {
	if _, set := lookup(gcEnv); set {
		return 0, nil, false
	}
	return hostGCPercent, []gcpace.Option{gcpace.WithCeiling(hostHeapCeiling, 100)}, true
}

// Memory profiling. Go samples an allocation every 512 KB by default and
// files each sample under its call stack in a table that only grows: a
// host that ran thousands of calls a second kept 2–3 MB more resident
// memory a minute after the load than without it (BENCHMARKS.md), a fifth
// of an idle host's. The host CLI therefore does not profile memory
// unless asked to with GODEBUG=memprofilerate=N (Go's default is 524288),
// which its runtime has applied already; the debug listener's heap
// profile still reports the runtime's memory figures.
const (
	godebugEnv        = "GODEBUG"
	memProfileSetting = "memprofilerate"
)

// tuneMemProfile applies memProfileRate to the host's runtime.
func tuneMemProfile() {
	if r, ok := memProfileRate(os.LookupEnv); ok {
		runtime.MemProfileRate = r
	}
}

// memProfileRate is the host's runtime.MemProfileRate and whether to
// apply it: 0 (no profiling), unless GODEBUG sets memprofilerate.
func memProfileRate(lookup func(string) (string, bool)) (int, bool) {
	v, _ := lookup(godebugEnv)
	for kv := range strings.SplitSeq(v, ",") {
		if k, _, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == memProfileSetting {
			return 0, false
		}
	}
	return 0, true
}

// gcOptions start plugin processes with the host's GOGC, unless GOGC is
// set (then they inherit it).
func gcOptions(lookup func(string) (string, bool)) []registry.Option {
	return pluginEnv(lookup, gcEnv, hostGCPercent)
}
