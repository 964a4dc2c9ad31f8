package engine

import (
	"cmp"
	"context"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Route is one place to send a request to: an IP address, a port and a
// transport (the reference's Route). [Engine.Lookup] returns them in the
// order they should be tried.
type Route struct {
	// Address is an IP address, without brackets.
	Address string
	// Port is the destination port.
	Port int
	// Transport is the transport to use.
	Transport Transport
	// Host is the domain the route was resolved from, "" for an IP
	// literal. It is the name a TLS server certificate is verified against
	// (RFC 5922); without it the IP address is.
	Host string
}

// String returns "transport:address:port", for example "tcp:1.2.3.4:5060"
// or "udp:[::1]:5060".
func (r Route) String() string {
	return string(r.Transport) + ":" + r.hostPort()
}

func (r Route) hostPort() string {
	return net.JoinHostPort(r.Address, strconv.Itoa(r.Port))
}

// serverName is the TLS server name for the route.
func (r Route) serverName() string {
	if r.Host != "" {
		return r.Host
	}
	return r.Address
}

// srvService maps a transport to the SRV service and protocol labels of
// RFC 3263 §4.1 ("_sips._tcp" for TLS).
func srvService(t Transport) (service, proto string) {
	switch t {
	case TransportTLS:
		return "sips", "tcp"
	case TransportTCP:
		return "sip", "tcp"
	default:
		return "sip", "udp"
	}
}

// Lookup finds the routes for uri as RFC 3263 §4 describes, the way the
// reference's DNSLookup.lookup_sip_proxy does, limited to the transports
// the engine listens on (and, if transports are given, to those, in that
// order; otherwise in the order UDP, TCP, TLS):
//
//   - a "transport" URI parameter selects the transport; a sips: URI
//     selects TLS (RFC 3261 §26.2.2: sips over TCP means TLS);
//   - an IP address gives one route, to the URI's port or the default port
//     (5060, 5061 for TLS), over the selected transport or else the first
//     allowed one, UDP preferred for sip: URIs;
//   - a domain with a port is resolved to its A/AAAA addresses, on that
//     port, with the same choice of transport;
//   - a domain without a port is looked up with SRV for every allowed
//     transport (_sips._tcp, _sip._tcp, _sip._udp), each answer ordered by
//     priority (lowest first) then weight (highest first) and each target
//     resolved to A/AAAA; only if no SRV record exists at all are the
//     domain's own A/AAAA addresses used, with the default port (UDP for
//     sip:, TLS for sips:).
//
// NAPTR (RFC 3263 §4.1's first step) is not consulted: Go's resolver has
// no NAPTR lookup. Addresses of a family the engine has no listener for
// (IPv6 without an IPv6 listener, say) are left out.
//
// The caller tries the routes in order until one succeeds. When nothing is
// found the error is a *NoRouteError matching [ErrNoRoute] and wrapping the
// resolver's error (a *net.DNSError) or [ErrUnsupportedTransport].
func (e *Engine) Lookup(ctx context.Context, uri sip.Uri, transports ...Transport) ([]Route, error) {
	target := uri.String()
	host := strings.Trim(uri.Host, "[]")
	if host == "" {
		return nil, &NoRouteError{Target: target, Reason: "no host"}
	}
	candidates, err := e.candidates(uri, transports)
	if err != nil {
		err.Target = target
		return nil, err
	}
	secure := uri.IsEncrypted()
	preferred := candidates[0]
	if !secure && slices.Contains(candidates, TransportUDP) {
		preferred = TransportUDP
	}

	if ip := net.ParseIP(host); ip != nil {
		// An IP literal: the first candidate transport that has a listener
		// of the address's family, UDP first for sip:.
		order := append([]Transport{preferred}, candidates...)
		for _, t := range order {
			if e.hasFamily(t, ip) {
				port := cmp.Or(uri.Port, t.defaultPort())
				return []Route{{Address: ip.String(), Port: port, Transport: t}}, nil
			}
		}
		return nil, &NoRouteError{Target: target, Reason: "no listener for the address family", Err: ErrUnsupportedTransport}
	}

	if uri.Port != 0 {
		routes, err := e.resolve(ctx, host, uri.Port, preferred, host)
		if err != nil {
			return nil, &NoRouteError{Target: target, Err: err}
		}
		if len(routes) == 0 {
			return nil, &NoRouteError{Target: target, Reason: "no address of a family the engine listens on", Err: ErrUnsupportedTransport}
		}
		return routes, nil
	}

	var routes []Route
	var lastErr error
	found := false // some SRV record exists: no A/AAAA fallback (§4.2)
	for _, t := range candidates {
		service, proto := srvService(t)
		_, srvs, err := e.resolver.LookupSRV(ctx, service, proto, host)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &NoRouteError{Target: target, Err: ctx.Err()}
			}
			lastErr = err
			continue
		}
		// Go orders by priority and shuffles by weight (RFC 2782); the
		// reference sorts by priority, then weight, highest first.
		found = found || len(srvs) > 0
		slices.SortStableFunc(srvs, func(a, b *net.SRV) int {
			return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Weight, a.Weight))
		})
		for _, s := range srvs {
			name := strings.TrimSuffix(s.Target, ".")
			if name == "" {
				continue // "." means the service is not offered here
			}
			rs, err := e.resolve(ctx, name, int(s.Port), t, host)
			if err != nil {
				lastErr = err
				continue
			}
			routes = append(routes, rs...)
		}
	}
	if len(routes) > 0 {
		return routes, nil
	}
	if found {
		if lastErr == nil {
			lastErr = ErrUnsupportedTransport
		}
		return nil, &NoRouteError{Target: target, Reason: "no usable SRV target", Err: lastErr}
	}

	routes, err2 := e.resolve(ctx, host, preferred.defaultPort(), preferred, host)
	if err2 != nil {
		return nil, &NoRouteError{Target: target, Err: err2}
	}
	if len(routes) == 0 {
		if lastErr == nil {
			lastErr = ErrUnsupportedTransport
		}
		return nil, &NoRouteError{Target: target, Reason: "no usable address", Err: lastErr}
	}
	return routes, nil
}

// candidates returns the transports Lookup may use for uri, in order.
func (e *Engine) candidates(uri sip.Uri, transports []Transport) ([]Transport, *NoRouteError) {
	listening := e.transports()
	var allowed []Transport
	if len(transports) == 0 {
		allowed = listening
	} else {
		for _, t := range transports {
			if slices.Contains(listening, t) && !slices.Contains(allowed, t) {
				allowed = append(allowed, t)
			}
		}
	}
	var want Transport
	if v, ok := uri.UriParams.Get("transport"); ok && v != "" {
		want = Transport(strings.ToLower(v))
	}
	if uri.IsEncrypted() {
		if want != "" && want != TransportTCP && want != TransportTLS {
			return nil, &NoRouteError{Reason: "sips: URI with transport " + string(want), Err: ErrUnsupportedTransport}
		}
		want = TransportTLS
	}
	if want != "" {
		if !slices.Contains(allowed, want) {
			return nil, &NoRouteError{Reason: "transport " + string(want) + " is not available", Err: ErrUnsupportedTransport}
		}
		return []Transport{want}, nil
	}
	if len(allowed) == 0 {
		return nil, &NoRouteError{Reason: "no transport available", Err: ErrUnsupportedTransport}
	}
	return allowed, nil
}

// resolve returns a route per A/AAAA address of host that the engine can
// reach over t.
func (e *Engine) resolve(ctx context.Context, host string, port int, t Transport, domain string) ([]Route, error) {
	addrs, err := e.resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	var routes []Route
	for _, a := range addrs {
		if !e.hasFamily(t, a.IP) {
			continue
		}
		routes = append(routes, Route{Address: a.IP.String(), Port: port, Transport: t, Host: domain})
	}
	return routes, nil
}
