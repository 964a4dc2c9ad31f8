package msrpstream

import (
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
)

// Transport is how MSRP connections of a stream are carried: plain TCP or
// TLS (the msrp.transport setting).
type Transport int

// Transports.
const (
	TransportTLS Transport = iota + 1 // TCP/TLS/MSRP, msrps URIs (the default)
	TransportTCP                      // TCP/MSRP, msrp URIs
)

// SDP protocol identifiers of the m-line (RFC 4975 §8.1).
const (
	ProtoTCP = "TCP/MSRP"
	ProtoTLS = "TCP/TLS/MSRP"
)

// String returns the setting value: "tls" or "tcp".
func (t Transport) String() string {
	switch t {
	case TransportTLS:
		return "tls"
	case TransportTCP:
		return "tcp"
	}
	return "invalid"
}

// Proto returns the m-line protocol identifier.
func (t Transport) Proto() string {
	if t == TransportTLS {
		return ProtoTLS
	}
	return ProtoTCP
}

// Secure reports whether the transport is TLS (msrps URIs).
func (t Transport) Secure() bool { return t == TransportTLS }

// TransportOf returns the transport an m-line protocol names; ok is false
// for anything but TCP/MSRP and TCP/TLS/MSRP.
func TransportOf(proto string) (Transport, bool) {
	switch {
	case strings.EqualFold(proto, ProtoTLS):
		return TransportTLS, true
	case strings.EqualFold(proto, ProtoTCP):
		return TransportTCP, true
	}
	return 0, false
}

// Names of the account settings this package reads.
const (
	SettingTransport        = "msrp.transport"                            // tls (default) | tcp
	SettingConnectionModel  = "msrp.connection_model"                     // relay (default) | acm
	SettingRelay            = "nat_traversal.msrp_relay"                  // host[:port][;transport=tls|tcp]
	SettingRelayForOutbound = "nat_traversal.use_msrp_relay_for_outbound" // false (default) | true
	SettingPeerToPeer       = "account.peer_to_peer"                      // true for the peer-to-peer account
)

// TransportSetting reads msrp.transport: "tls" (the default when unset) or
// "tcp". Another value gives an error wrapping sdk.ErrInvalidArgument.
func TransportSetting(a *sdk.Account) (Transport, error) {
	switch v := strings.ToLower(strings.TrimSpace(a.Setting(SettingTransport, "tls"))); v {
	case "tls", "":
		return TransportTLS, nil
	case "tcp":
		return TransportTCP, nil
	default:
		return 0, sdk.Errorf(sdk.ErrInvalidArgument, "%s must be tls or tcp, not %q", SettingTransport, v)
	}
}
