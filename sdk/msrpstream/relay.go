package msrpstream

import (
	"net"
	"strconv"
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Account settings holding the relay credentials: the reference
// authenticates to the MSRP relay with the SIP account's credentials, and
// the host passes them when a relay is set.
const (
	SettingAuthUsername = "auth.username"
	SettingAuthPassword = "auth.password"
)

// ParseRelay reads the nat_traversal.msrp_relay setting,
// host[:port][;transport=tcp|tls], into the relay's URI: the To-Path of
// AUTH (RFC 4976 §5.1), msrps when the transport is tls, port 2855 when
// absent. The relay's transport must be the account's MSRP transport, as
// the reference requires; without a transport parameter it is. Errors wrap
// sdk.ErrInvalidArgument.
func ParseRelay(setting string, transport Transport) (msrp.URI, error) {
	hostport, params, _ := strings.Cut(strings.TrimSpace(setting), ";")
	relayTransport := transport
	for p := range strings.SplitSeq(params, ";") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "transport") {
			return msrp.URI{}, sdk.Errorf(sdk.ErrInvalidArgument, "MSRP relay %q: unknown parameter %q", setting, p)
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "tls":
			relayTransport = TransportTLS
		case "tcp":
			relayTransport = TransportTCP
		default:
			return msrp.URI{}, sdk.Errorf(sdk.ErrInvalidArgument, "MSRP relay %q: transport must be tcp or tls", setting)
		}
	}
	if relayTransport != transport {
		return msrp.URI{}, sdk.Errorf(sdk.ErrInvalidArgument, "MSRP relay transport %s differs from msrp.transport %s", relayTransport, transport)
	}
	host, port := hostport, msrp.DefaultPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return msrp.URI{}, sdk.Errorf(sdk.ErrInvalidArgument, "MSRP relay %q: invalid port", setting)
		}
		host, port = h, n
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || strings.ContainsAny(host, " /@;:") && net.ParseIP(host) == nil {
		return msrp.URI{}, sdk.Errorf(sdk.ErrInvalidArgument, "MSRP relay %q: invalid host", setting)
	}
	return msrp.URI{Secure: transport.Secure(), Host: host, Port: port, Transport: "tcp"}, nil
}

// relayConfig is the relay and credentials of the account, as the
// reference's MSRPRelaySettings.
func relayConfig(a *sdk.Account, transport Transport) (msrp.RelayConfig, error) {
	uri, err := ParseRelay(a.Setting(SettingRelay, ""), transport)
	if err != nil {
		return msrp.RelayConfig{}, err
	}
	return msrp.RelayConfig{
		URI:      uri,
		Username: a.Setting(SettingAuthUsername, ""),
		Password: a.Setting(SettingAuthPassword, ""),
	}, nil
}
