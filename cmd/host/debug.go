package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/session"
)

// The debug listener of `listen --debug-addr`: Go's runtime profiles
// (runtime/pprof's named profiles: goroutine, heap, allocs, threadcreate,
// block, mutex) over HTTP, on a loopback address only, for diagnosis:
//
//	curl 'http://127.0.0.1:PORT/debug/pprof/goroutine?debug=1'   # "goroutine profile: total N", then the stacks
//	go tool pprof http://127.0.0.1:PORT/debug/pprof/heap
//	curl 'http://127.0.0.1:PORT/debug/pprof/heap?gc=1&debug=1'       # after a garbage collection, with runtime.MemStats
//	go tool pprof 'http://127.0.0.1:PORT/debug/pprof/profile?seconds=10' # CPU, 10 s
//	curl http://127.0.0.1:PORT/debug/memory                           # runtime/metrics memory figures
//	curl http://127.0.0.1:PORT/debug/sip                              # the SIP engine's and the overload control's counters
//
// It is what the attack soak reads the host's goroutine count from. It
// serves the profiles of runtime/pprof itself, not net/http/pprof, so that
// nothing is registered on http.DefaultServeMux.

// errDebugAddr is a --debug-addr that is not a loopback ip:port.
var errDebugAddr = errors.New("--debug-addr must be a loopback ip:port (127.0.0.1:0, [::1]:6060)")

// checkDebugAddr refuses an address that is not a loopback IP and port.
func checkDebugAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", errDebugAddr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q is not a loopback IP address", errDebugAddr, host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%w: bad port %q", errDebugAddr, port)
	}
	return nil
}

// debugServer serves the profiles until Close.
type debugServer struct {
	srv  *http.Server
	url  string
	done chan struct{}
}

// serveDebug listens on addr (checked by checkDebugAddr) and serves the
// runtime profiles under /debug/pprof/NAME (?debug=1 or 2 for text), and
// sip's figures under /debug/sip.
func serveDebug(addr string, sip func() []figure) (*debugServer, error) {
	if err := checkDebugAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/memory", memoryFigures)
	mux.HandleFunc("/debug/sip", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, f := range sip() {
			fmt.Fprintf(w, "%s %d\n", f.name, f.value)
		}
	})
	mux.HandleFunc("/debug/pprof/profile", cpuProfile)
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/")
		if name == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			for _, p := range pprof.Profiles() {
				fmt.Fprintf(w, "%s %d\n", p.Name(), p.Count())
			}
			return
		}
		p := pprof.Lookup(name)
		if p == nil {
			http.NotFound(w, r)
			return
		}
		if gc, _ := strconv.Atoi(r.URL.Query().Get("gc")); gc > 0 && name == "heap" {
			runtime.GC() // as net/http/pprof's heap?gc=1
		}
		debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
		if debug > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		_ = p.WriteTo(w, debug)
	})
	d := &debugServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + ln.Addr().String() + "/debug/pprof/",
		done: make(chan struct{}),
	}
	go func() {
		defer close(d.done)
		_ = d.srv.Serve(ln)
	}()
	return d, nil
}

// memoryMetrics are the runtime/metrics /debug/memory serves, in order.
var memoryMetrics = []string{
	"/gc/heap/live:bytes", // the live heap, as marked by the last collection
	"/gc/heap/goal:bytes",
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/total:bytes",
	"/sched/goroutines:goroutines",
}

// memoryFigures serves memoryMetrics as text, a "NAME VALUE" line each.
// Unlike heap?gc=1 it forces no collection: a forced collection in the
// middle of a load stalls the host (sipload's reading at 30 s of 3,000
// calls/s was followed by a few hundred refusals), while the live heap
// of the last collection is there for free.
func memoryFigures(w http.ResponseWriter, _ *http.Request) {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, s := range samples { // every one of them a uint64
		if s.Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(w, "%s %d\n", s.Name, s.Value.Uint64())
		}
	}
}

// cpuProfile serves a CPU profile of ?seconds=N (default 30, at most
// 300), as net/http/pprof's /debug/pprof/profile: go tool pprof reads it.
// One at a time (the runtime has one CPU profiler): 409 while another runs.
func cpuProfile(w http.ResponseWriter, r *http.Request) {
	secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
	if err != nil || secs <= 0 {
		secs = 30
	}
	secs = min(secs, 300)
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := pprof.StartCPUProfile(w); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.Error(w, "cannot profile: "+err.Error(), http.StatusConflict)
		return
	}
	select {
	case <-time.After(time.Duration(secs) * time.Second):
	case <-r.Context().Done():
	}
	pprof.StopCPUProfile()
}

// Close stops serving and waits for the server's goroutine.
func (d *debugServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d.srv.Shutdown(ctx) != nil {
		_ = d.srv.Close()
	}
	<-d.done
}

// figure is one named counter of /debug/sip.
type figure struct {
	name  string
	value uint64
}

// sipFigures are the counters that tell what became of the SIP requests
// the host took in: the engine's (refused before any handler: Rejected,
// Overloaded …) and the session manager's overload control (Refused
// counts Overloaded, the INVITEs found over the setup limit after the
// engine took them, and the calls a stream plugin was too busy for, which
// Busy counts alone).
func sipFigures(es engine.Stats, os session.OverloadStats, alive int) []figure {
	return []figure{
		{"engine.rejected", es.Rejected},
		{"engine.dropped", es.Dropped},
		{"engine.handler_panics", es.HandlerPanics},
		{"engine.connections_refused", es.ConnectionsRefused},
		{"engine.connections_timed_out", es.ConnectionsTimedOut},
		{"engine.overloaded", es.Overloaded},
		{"engine.absorbed", es.Absorbed},
		{"sessions.admitted", os.Admitted},
		{"sessions.refused", os.Refused},
		{"sessions.refused_busy", os.Busy},
		{"sessions.in_setup", uint64(os.InSetup)},
		{"sessions.setup_limit", uint64(os.Limit)},
		{"sessions.peak_in_setup", uint64(os.PeakInSetup)},
		{"sessions.alive", uint64(alive)},
	}
}
