package sdk

import (
	"context"
	"fmt"
	"runtime"

	"github.com/hashicorp/go-plugin"
	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/grpc"
)

// PluginKey is the name under which a plugin process serves its Provider.
const PluginKey = "mediastream"

// MaxMessageSize is the gRPC message limit on both sides of the contract
// (gRPC's default receive limit is 4 MiB).
const MaxMessageSize = 64 << 20

// Handshake returns the go-plugin handshake that sipstreams hosts and
// plugins share. Its cookie keeps a plugin binary from being run by hand or
// by another go-plugin host by mistake.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ContractMajor,
		MagicCookieKey:   "SIPSTREAMS_PLUGIN",
		MagicCookieValue: "media-stream-contract-4f1c2a8e",
	}
}

// GRPCPlugin adapts a LocalProvider to go-plugin. A host obtains the
// Provider of a started plugin with Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	provider *LocalProvider
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// NewGRPCPlugin returns the go-plugin Plugin serving lp (nil on the host side).
func NewGRPCPlugin(lp *LocalProvider) *GRPCPlugin { return &GRPCPlugin{provider: lp} }

// GRPCServer registers the contract service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.provider == nil {
		return fmt.Errorf("sdk: GRPCPlugin has no provider to serve")
	}
	pb.RegisterMediaStreamServer(s, &grpcServer{lp: p.provider})
	return nil
}

// GRPCClient returns the host-side Provider.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return newGRPCProvider(cc), nil
}

// VersionedPlugins returns the plugin sets a host passes to
// plugin.ClientConfig.VersionedPlugins.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ContractMajor: {PluginKey: &GRPCPlugin{}}}
}

// windowSize is the HTTP/2 flow-control window on both sides. Setting it
// turns off gRPC's BDP estimator, whose pings cost latency on every call;
// the contract carries small control messages over a local socket.
const windowSize = 4 << 20

// GRPCDialOptions are the dial options a host passes to
// plugin.ClientConfig.GRPCDialOptions.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithInitialWindowSize(windowSize),
		grpc.WithInitialConnWindowSize(windowSize),
	}
}

// grpcServerOptions are the plugin side's gRPC options: raised message
// limits, fixed windows, and a worker pool instead of a goroutine per call.
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(windowSize),
		grpc.InitialConnWindowSize(windowSize),
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
	}
}

// Dispense returns the Provider of a started plugin client.
func Dispense(c plugin.ClientProtocol) (Provider, error) {
	raw, err := c.Dispense(PluginKey)
	if err != nil {
		return nil, Errorf(ErrPluginUnavailable, "dispense: %v", err)
	}
	p, ok := raw.(Provider)
	if !ok {
		return nil, Errorf(ErrInternal, "dispensed %T, not a Provider", raw)
	}
	return p, nil
}
