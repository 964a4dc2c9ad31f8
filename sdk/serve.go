package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/sipstreams/sipstreams/internal/gcpace"
	"github.com/sipstreams/sipstreams/internal/idletrim"
)

// ServeOption configures Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	level        slog.Level
	parentPoll   time.Duration
	drainTimeout time.Duration
}

// WithLogLevel sets the level of the plugin's log (JSON on stderr, which the
// host folds into its own log). Default: info.
func WithLogLevel(l slog.Level) ServeOption { return func(c *serveConfig) { c.level = l } }

// Serve runs p as a plugin process and never returns. Call it from main.
//
// Run as `PLUGIN describe`, it prints the manifest as JSON and exits without a
// handshake. Started by a sipstreams host, it serves the contract over gRPC
// through go-plugin: gRPC only, 64 MiB message limits, logs as hclog JSON on
// stderr, AutoMTLS when the host asks for it. It exits when the host dies
// (its parent process changes), after ending its live streams. Once the
// plugin has had no stream, and opened none, for ten seconds after being
// busy, it returns its free memory to the kernel (a few times, ten seconds
// apart); while busy, it lets its garbage collector's heap goal come down
// only slowly after a burst (halved every ten seconds, never under the
// GOGC in effect), so that the next burst does not fault in again the
// memory the last one needed.
func Serve(p *Plugin, opts ...ServeOption) {
	os.Exit(serve(p, os.Args[1:], os.Stdout, os.Stderr, opts...))
}

func serve(p *Plugin, args []string, stdout, stderr io.Writer, opts ...ServeOption) int {
	cfg := serveConfig{level: slog.LevelInfo, parentPoll: 200 * time.Millisecond, drainTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if len(args) > 0 {
		switch args[0] {
		case "describe":
			return describe(p, stdout, stderr)
		case "version":
			fmt.Fprintf(stdout, "%s %s (contract %d.%d)\n", p.Name, p.Version, ContractMajor, ContractMinor)
			return 0
		default:
			fmt.Fprintf(stderr, "%s: unknown command %q (commands: describe, version)\n", p.Name, args[0])
			return 2
		}
	}
	hs := Handshake()
	if os.Getenv(hs.MagicCookieKey) != hs.MagicCookieValue {
		fmt.Fprintf(stderr, "%s is a sipstreams stream plugin: put it in the host's plugin directory, or run `%s describe`.\n", p.Name, os.Args[0])
		return 1
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.level, ReplaceAttr: hclogKeys}))
	lp, err := NewProvider(p, WithProviderLogger(logger))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Memory a load left behind goes back to the kernel once the plugin
	// has no stream and opened none for a while (internal/idletrim): the
	// host starts its plugins at a high GOGC, which leaves a large heap
	// behind a burst of calls.
	var trimmer sync.WaitGroup
	trimmer.Go(func() { newIdleTrimmer(lp, nil).Run(ctx, idletrim.Tick) })
	defer func() {
		cancel()
		trimmer.Wait()
	}()
	// And while it is busy, its heap goal comes down smoothly after a
	// burst instead of at once (internal/gcpace): memory given back
	// between two bursts is faulted in again by the second.
	pacer := gcpace.New()
	pacer.Start()
	defer pacer.Stop()
	go watchParent(ctx, os.Getppid(), cfg.parentPoll, func() {
		logger.Warn("host process went away; ending streams and exiting")
		dctx, dcancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
		_ = lp.Close(dctx)
		dcancel()
		os.Exit(3)
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{ContractMajor: {PluginKey: NewGRPCPlugin(lp)}},
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(o, grpcServerOptions()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: p.Name, Output: stderr, JSONFormat: true, Level: hclog.Info}),
	})
	// The host stopped the plugin: end what is left, release what the
	// streams shared.
	dctx, dcancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
	defer dcancel()
	if err := lp.Close(dctx); err != nil {
		logger.Warn("closing the plugin", "error", err)
	}
	return 0
}

func describe(p *Plugin, stdout, stderr io.Writer) int {
	m := p.Manifest()
	if err := m.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: invalid manifest: %v\n", p.Name, err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
		return 1
	}
	return 0
}

// newIdleTrimmer releases memory (release; nil: debug.FreeOSMemory) once
// lp has had no stream, and opened none, for a tick after being busy.
func newIdleTrimmer(lp *LocalProvider, release func()) *idletrim.Trimmer {
	return &idletrim.Trimmer{Active: lp.Len, Activity: lp.opened, Release: release}
}

// watchParent calls gone when the parent process changes (the host died and
// the plugin was re-parented). Pdeathsig alone is not enough: it follows the
// host thread that started the plugin, not the host process.
func watchParent(ctx context.Context, ppid int, every time.Duration, gone func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != ppid {
				gone()
				return
			}
		}
	}
}

// hclogKeys renames slog's JSON keys to hclog's, so go-plugin on the host
// side parses the plugin's log lines into structured entries.
func hclogKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "@message"
	case slog.LevelKey:
		a.Key = "@level"
		a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
	case slog.TimeKey:
		a.Key = "@timestamp"
	}
	return a
}
