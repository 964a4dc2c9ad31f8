package engine

import (
	"net"
	"slices"

	"github.com/emiago/sipgo/sip"
)

// transports returns the transports the engine listens on, UDP, TCP, TLS
// order.
func (e *Engine) transports() []Transport {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Transport
	for _, t := range transportOrder {
		if slices.ContainsFunc(e.listeners, func(l *listener) bool { return l.conf.Transport == t }) {
			out = append(out, t)
		}
	}
	return out
}

// hasFamily reports whether the engine listens on t with ip's family.
func (e *Engine) hasFamily(t Transport, ip net.IP) bool {
	return e.listenerFor(t, ip) != nil
}

// listenerFor picks the listener to send to dst over t from: same address
// family; a specific address of the same scope (loopback or not) first,
// then an unspecified one, then any.
func (e *Engine) listenerFor(t Transport, dst net.IP) *listener {
	e.mu.Lock()
	defer e.mu.Unlock()
	v6 := dst.To4() == nil
	var best *listener
	bestScore := 0
	for _, l := range e.listeners {
		if l.conf.Transport != t || (l.addr.IP.To4() == nil) != v6 {
			continue
		}
		score := 1
		switch {
		case l.addr.IP.IsUnspecified():
			score = 2
		case l.addr.IP.IsLoopback() == dst.IsLoopback():
			score = 3
		}
		if score > bestScore {
			best, bestScore = l, score
		}
	}
	return best
}

// localIP is the address l sends to dst from.
func localIP(l *listener, dst net.IP) net.IP {
	if !l.addr.IP.IsUnspecified() {
		return l.addr.IP
	}
	if dst != nil {
		// Connecting a UDP socket sends nothing: it only asks the routing
		// table for the source address.
		if c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: dst, Port: 9}); err == nil {
			ip := c.LocalAddr().(*net.UDPAddr).IP
			_ = c.Close()
			return ip
		}
	}
	return defaultLocalIP(l.addr.IP.To4() == nil)
}

// defaultLocalIP returns the first global unicast address of the family,
// or the loopback address.
func defaultLocalIP(v6 bool) net.IP {
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if ok && n.IP.IsGlobalUnicast() && (n.IP.To4() == nil) == v6 {
				return n.IP
			}
		}
	}
	if v6 {
		return net.IPv6loopback
	}
	return net.IPv4(127, 0, 0, 1)
}

// uriHost writes an IP for a URI host: IPv6 in brackets, as sipgo's parser
// stores it.
func uriHost(ip net.IP) string {
	if ip.To4() == nil {
		return "[" + ip.String() + "]"
	}
	return ip.String()
}

// contactURI builds sip:user@ip:port;transport=t ("sips:" if secure).
// UDP gets no transport parameter.
func contactURI(t Transport, user string, ip net.IP, port int, secure bool) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: user, Host: uriHost(ip), Port: port, UriParams: sip.NewParams(), Headers: sip.NewParams()}
	if secure {
		u.Scheme = "sips"
	} else if t != TransportUDP {
		u.UriParams.Add("transport", string(t))
	}
	return u
}

// Contact returns a contact URI for user on the address the engine listens
// on with transport: "sip:user@ip:port" for UDP,
// "sip:user@ip:port;transport=tcp" (or tls) otherwise, as the reference
// writes them. A listener bound to an unspecified address contributes the
// host's first global address (see [Engine.ContactFor] for a per-peer
// choice). The zero Uri is returned if the engine does not listen on
// transport.
func (e *Engine) Contact(transport Transport, user string) sip.Uri {
	e.mu.Lock()
	var l *listener
	for _, c := range e.listeners {
		if c.conf.Transport == transport {
			l = c
			break
		}
	}
	e.mu.Unlock()
	if l == nil {
		return sip.Uri{}
	}
	return contactURI(transport, user, localIP(l, nil), l.addr.Port, false)
}

// ContactFor returns the contact URI for user to give a peer reached over
// r: the listener [Engine.Request] sends r from, with the local address
// that reaches r.Address when the listener is bound to an unspecified one.
// The zero Uri is returned if no listener can reach r.
func (e *Engine) ContactFor(r Route, user string) sip.Uri {
	ip := net.ParseIP(r.Address)
	if ip == nil {
		return sip.Uri{}
	}
	l := e.listenerFor(r.Transport, ip)
	if l == nil {
		return sip.Uri{}
	}
	return contactURI(r.Transport, user, localIP(l, ip), l.addr.Port, false)
}
