// Command sipstreams is the sipstreams host: it loads the stream plugins of a
// plugin directory and runs SIP accounts and sessions with them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/internal/gcpace"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	tuneMemProfile() // first: the setting is read at each allocation sampled
	// Before any transaction: sipgo then ends an INVITE's transaction
	// with its 2xx, the engine absorbing retransmissions (RFC 6026).
	engine.ReleaseAcceptedInvites()
	shareProcs()
	gcOpts := tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The heap goal comes down smoothly after a burst (internal/gcpace):
	// see goruntime.go.
	pacer := gcpace.New(gcOpts...)
	pacer.Start()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	pacer.Stop()
	stop()
	os.Exit(code)
}
