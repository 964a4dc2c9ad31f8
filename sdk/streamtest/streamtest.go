package streamtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.uber.org/goleak"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sipstreams/sipstreams/sdk"
)

// Run runs the suite against p twice, as subtests: "in-process" drives
// sdk.NewProvider(p) directly and checks for leaked goroutines once the
// provider is closed; "grpc" drives the same plugin through the real gRPC
// code path (go-plugin's in-memory test connection), so errors and
// notifications cross the contract's conversions.
//
// Do not call t.Parallel in a test that calls Run: the leak check would see
// the goroutines of the tests running beside it.
func Run(t *testing.T, p *sdk.Plugin, opts ...Option) {
	t.Helper()
	t.Run("in-process", func(t *testing.T) { runInProcess(testingRunner{t}, p, opts) })
	t.Run("grpc", func(t *testing.T) {
		lp, err := sdk.NewProvider(p)
		if err != nil {
			t.Fatalf("sdk.NewProvider(%s): %v", p.Name, err)
		}
		cfg := newConfig(opts)
		client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{sdk.PluginKey: sdk.NewGRPCPlugin(lp)})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
			defer cancel()
			if err := lp.Close(ctx); err != nil {
				t.Errorf("closing the provider: %v", err)
			}
			// Close asks the server to stop (go-plugin's controller
			// Shutdown); stopping it here as well would race with that.
			_ = client.Close()
			timer := time.NewTimer(cfg.timeout)
			defer timer.Stop()
			select {
			case <-server.DoneCh:
			case <-timer.C:
				server.Stop()
			}
		})
		prov, err := sdk.Dispense(client)
		if err != nil {
			t.Fatalf("dispense %q: %v", sdk.PluginKey, err)
		}
		RunProvider(t, prov, opts...)
	})
}

// runInProcess runs the suite against sdk.NewProvider(p), then closes the
// provider and checks that no goroutine started meanwhile is left.
func runInProcess(r runner, p *sdk.Plugin, opts []Option) {
	r.Helper()
	ignore := goleak.IgnoreCurrent()
	lp, err := sdk.NewProvider(p)
	if err != nil {
		r.Fatalf("sdk.NewProvider(%s): %v", p.Name, err)
	}
	cfg := newConfig(opts)
	// Registered first, so it runs last: after the suite's own cleanups
	// (the notification reader) have stopped.
	r.Cleanup(func() {
		if n := lp.Len(); n != 0 {
			r.Errorf("%d stream(s) still registered with the provider after the suite: every stream it made should have ended", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		defer cancel()
		if err := lp.Close(ctx); err != nil {
			r.Errorf("closing the provider: %v", err)
		}
		if err := goleak.Find(ignore); err != nil {
			r.Errorf("goroutines left once every stream has ended and the provider is closed: %v", err)
		}
	})
	runSuite(r, lp, cfg)
}

// RunBinary starts the plugin binary at path as a child process through
// go-plugin, exactly as a host does (sipstreams handshake, gRPC only,
// AutoMTLS, the contract's message limits, unix sockets in a short temporary
// directory), checks that it answers go-plugin's health check as the host's
// supervisor will, runs the suite against it and kills it when the test
// ends. The plugin's log is folded into the test log. The binary may be
// written in any language: a Python plugin packaged by sdk/python's
// sipstreams_plugin.package is one executable file like a Go plugin.
func RunBinary(t *testing.T, path string, opts ...Option) {
	t.Helper()
	runBinary(testingRunner{t}, path, opts)
}

// runBinary is RunBinary for any runner (CheckBinary records instead).
func runBinary(r runner, path string, opts []Option) {
	r.Helper()
	cfg := newConfig(opts)
	// go-plugin puts its unix sockets below this directory; a socket path
	// must stay short (about 100 bytes), which t.TempDir does not promise.
	dir, err := os.MkdirTemp("", "sps")
	if err != nil {
		r.Fatalf("temporary socket directory: %v", err)
	}
	r.Cleanup(func() { _ = os.RemoveAll(dir) })
	logs := &testLogWriter{logf: r.Logf}
	r.Cleanup(logs.close) // runs after client.Kill below
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: dir},
		StartTimeout:     cfg.timeout,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "plugin",
			Output: logs,
			Level:  hclog.Info,
		}),
	})
	r.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		r.Fatalf("starting plugin %s: the go-plugin handshake failed: %v\n"+
			"(a plugin prints exactly one line on stdout, %d|%d|unix|SOCKET|grpc|CERT, serves gRPC on that socket over TLS "+
			"with a certificate of its own for \"localhost\" accepting only the host's (PLUGIN_CLIENT_CERT), and writes nothing else "+
			"to stdout; sdk.Serve and sdk/python's sipstreams_plugin.serve do all of it)", path, err, plugin.CoreProtocolVersion, sdk.ContractMajor)
	}
	if err := ping(rpc, cfg.timeout); err != nil {
		if strings.Contains(err.Error(), "authentication handshake failed") {
			r.Fatalf("plugin %s: the TLS handshake of go-plugin's AutoMTLS failed: %v\n"+
				"(the plugin must serve TLS with a certificate of its own, sent base64 in the last field of its handshake line, "+
				"and accept only the host's, PLUGIN_CLIENT_CERT)", path, err)
		}
		r.Fatalf("plugin %s does not answer go-plugin's health check (grpc.health.v1.Health/Check for service %q): %v\n"+
			"(a host pings every plugin this way and restarts one that does not answer)", path, plugin.GRPCServiceName, err)
	}
	prov, err := sdk.Dispense(rpc)
	if err != nil {
		r.Fatalf("plugin %s: %v", path, err)
	}
	runSuite(r, prov, cfg)
}

// ping asks the plugin's gRPC health service about go-plugin's service
// name, as the host's supervisor does, bounded by timeout.
func ping(cp plugin.ClientProtocol, timeout time.Duration) error {
	gc, ok := cp.(*plugin.GRPCClient)
	if !ok {
		return cp.Ping()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := grpc_health_v1.NewHealthClient(gc.Conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return err
	}
	if res.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("status %s, want SERVING", res.GetStatus())
	}
	return nil
}

// RunProvider runs the suite against any Provider: an in-process one, the
// gRPC client of a running plugin, or a wrapper of either. Run and RunBinary
// call it.
func RunProvider(t *testing.T, prov sdk.Provider, opts ...Option) {
	t.Helper()
	runSuite(testingRunner{t}, prov, newConfig(opts))
}

// tb is the part of testing.TB the cases use. The suite is written against
// it (and runner) rather than *testing.T so that the package's own tests can
// run it with a recorder and check that it fails broken plugins.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// runner is a tb that can run a named case in its own scope (its own
// cleanups; a fatal failure ends only that case), as testing.T.Run does.
type runner interface {
	tb
	run(name string, fn func(runner)) bool
}

// testingRunner runs cases as subtests.
type testingRunner struct{ *testing.T }

func (r testingRunner) run(name string, fn func(runner)) bool {
	r.T.Helper()
	return r.T.Run(name, func(t *testing.T) { fn(testingRunner{t}) })
}

// testLogWriter turns the plugin log that go-plugin relays into test log
// lines, and drops what arrives once the test is over.
type testLogWriter struct {
	logf   func(format string, args ...any)
	mu     sync.Mutex
	closed bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.logf("%s", bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
