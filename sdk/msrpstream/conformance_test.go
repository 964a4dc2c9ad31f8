package msrpstream

import (
	"context"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// conformanceStream is the smallest vendor stream: a Base and nothing else.
type conformanceStream struct{ *Base }

var _ sdk.Stream = conformanceStream{}

func conformancePlugin() *sdk.Plugin {
	cfg := quietConfig(Config{AcceptTypes: []string{"text/plain"}})
	return &sdk.Plugin{
		Name:    "msrpstream-conformance",
		Version: "test",
		Types: []sdk.StreamType{{
			Type:     "msrp-test",
			Priority: 1,
			Match:    sdk.MatchRule{Media: []string{"message"}, Protos: []string{ProtoTCP, ProtoTLS}, Formats: []string{"*"}},
			NewFromSDP: func(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
				b, err := NewFromSDP(req, env, cfg)
				if err != nil {
					return nil, err
				}
				return conformanceStream{b}, nil
			},
			Create: func(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
				return conformanceStream{New(env, req.Account, cfg)}, nil
			},
		}},
	}
}

// TestConformance drives a stream made of a bare Base through the SDK's
// conformance suite, over TLS (the default transport) and over TCP, on
// IPv4 and IPv6 loopback.
func TestConformance(t *testing.T) {
	t.Run("tls", func(t *testing.T) { streamtest.Run(t, conformancePlugin()) })
	t.Run("tcp", func(t *testing.T) {
		streamtest.Run(t, conformancePlugin(), streamtest.WithAccount(&sdk.Account{
			ID: "streamtest", Settings: map[string]string{SettingTransport: "tcp", SettingConnectionModel: "acm"},
		}))
	})
	t.Run("tls-ipv6", func(t *testing.T) { streamtest.Run(t, conformancePlugin(), streamtest.WithLocalIP("::1")) })
}
