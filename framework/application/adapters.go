package application

import (
	"context"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// The registry depends on no framework package: it is handed a
// registry.Notifier, and sessions are handed a session.StreamSource. These
// two adapters connect them to the framework; the application uses them,
// and so does a program that runs a registry of its own.

// RegistryNotifier posts every notification of a registry to c as it is
// (name, sender, time, data): registry.WithNotifier(RegistryNotifier(c)).
func RegistryNotifier(c *notify.Center) registry.Notifier {
	return registry.NotifierFunc(func(n registry.Notification) { c.Post(notify.Notification(n)) })
}

// StreamSource is reg as the sessions' source of streams for incoming
// offers (session.Config.Streams).
func StreamSource(reg *registry.Registry) session.StreamSource {
	return session.StreamSourceFunc(func(ctx context.Context, req *sdk.NewFromSDPRequest) (session.Stream, error) {
		// A wait for a plugin's (re)start is not the host's queueing
		// delay: the overload control leaves it out.
		setupCtx := ctx
		st, err := reg.NewFromSDP(registry.WithWaitHook(ctx, func() func() { session.SetupWait(setupCtx); return nil }), req)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return st, nil
	})
}
