package dsstream

import (
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// conformanceOptions: the suite's streams carry no VNC peer, so both use
// the internal handler — the outgoing one by its parameters, the incoming
// one by the account's desktop_sharing.handler.
func conformanceOptions(transport string) []streamtest.Option {
	return []streamtest.Option{
		streamtest.WithAccount(&sdk.Account{ID: transport, URI: "sip:alice@example.com", Settings: map[string]string{
			"msrp.transport": transport, ds.SettingHandler: string(ds.HandlerInternal),
		}}),
		streamtest.WithCreateParams(ds.Type, ds.Params{Role: ds.RoleViewer, Handler: ds.HandlerInternal}),
	}
}

// TestConformance runs the contract's conformance suite against the
// plugin, in-process and over gRPC, with MSRP over TLS and over TCP.
func TestConformance(t *testing.T) {
	for _, transport := range []string{"tls", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			streamtest.Run(t, Plugin("test"), conformanceOptions(transport)...)
		})
	}
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it: a child process behind go-plugin.
func TestConformanceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	streamtest.RunBinary(t, streamtest.Build(t, "../..", "test"), conformanceOptions("tls")...)
}
