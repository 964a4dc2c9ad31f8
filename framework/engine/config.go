package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// Transport is a SIP transport protocol name, lower case as in a URI's
// transport parameter.
type Transport string

// The SIP transports the engine serves.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	TransportTLS Transport = "tls"
)

// transportOrder is the canonical preference order: UDP first for sip:
// URIs (RFC 3263 §4.1), then TCP, then TLS.
var transportOrder = [...]Transport{TransportUDP, TransportTCP, TransportTLS}

// String returns the transport name.
func (t Transport) String() string { return string(t) }

func (t Transport) valid() bool {
	return t == TransportUDP || t == TransportTCP || t == TransportTLS
}

// network is sipgo's name for the transport ("UDP", "TCP", "TLS").
func (t Transport) network() string { return strings.ToUpper(string(t)) }

// defaultPort is the port of RFC 3261 §19.1.2: 5061 for TLS, 5060 else.
func (t Transport) defaultPort() int {
	if t == TransportTLS {
		return 5061
	}
	return 5060
}

// reliable reports whether the transport is a stream (TCP or TLS).
func (t Transport) reliable() bool { return t != TransportUDP }

// Listen is one listening socket: a transport and a local "ip:port"
// address such as "127.0.0.1:0", "[::1]:5060" or "0.0.0.0:5060". Port 0
// picks a free port; [Engine.Addrs] reports it after [Engine.Start]. An
// empty host means "0.0.0.0".
type Listen struct {
	Transport Transport
	Address   string
}

// String returns "transport:address".
func (l Listen) String() string { return string(l.Transport) + ":" + l.Address }

// Config configures an [Engine]. The zero value is usable: it listens on
// UDP and TCP on 127.0.0.1 with ephemeral ports, sends no User-Agent and
// traces nothing.
type Config struct {
	// UserAgent is the User-Agent header put on every request and response
	// the engine sends. "" sends none.
	UserAgent string

	// Listen lists the listening sockets. Empty means UDP and TCP on
	// 127.0.0.1:0. The engine sends with the transports it listens on only.
	Listen []Listen

	// TLSCertFile and TLSKeyFile name PEM files with the server certificate
	// chain and key for the "tls" listeners (the key may be in the
	// certificate file: leave TLSKeyFile empty). They are read by
	// [Engine.Start]; a missing or unusable certificate makes Start fail
	// with a *TLSError.
	TLSCertFile, TLSKeyFile string
	// TLSConfig is an alternative to the files: a ready server
	// configuration with at least one certificate (or GetCertificate). It
	// takes precedence over the files.
	TLSConfig *tls.Config
	// ClientTLSConfig configures outgoing TLS connections (RootCAs,
	// InsecureSkipVerify in tests). nil verifies servers against the
	// system's roots. Its ServerName, if empty, is set per connection to the
	// domain the route was resolved from, or to the destination IP.
	ClientTLSConfig *tls.Config

	// Resolver serves the RFC 3263 lookups of [Engine.Lookup]. nil means
	// net.DefaultResolver. Tests pass one whose Dial reaches a local DNS
	// server.
	Resolver *net.Resolver

	// Center receives the "SIPEngineSIPTrace" notifications when Trace is
	// true. nil disables tracing.
	Center *notify.Center
	// Trace posts a notification for every SIP message sent and received.
	Trace bool

	// TraceKeys keeps the keys in the trace: without it the SRTP master
	// keys of SDP bodies (a=crypto inline keys, RFC 4568; a=key-mgmt,
	// RFC 4567) are masked in every "SIPEngineSIPTrace" notification.
	TraceKeys bool

	// Logger receives the engine's and sipgo's logs. nil discards them.
	Logger *slog.Logger

	// IdleTimeout closes a TCP or TLS connection on which no message has
	// arrived for this long while no transaction sent or received on it
	// is in progress, and one on which a message has been arriving for
	// this long without being complete (a slowloris). 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// TLSHandshakeTimeout closes an accepted TLS connection whose
	// handshake has not completed within it. 0 means
	// DefaultTLSHandshakeTimeout.
	TLSHandshakeTimeout time.Duration
	// MaxConnectionsPerAddress bounds the TCP and TLS connections accepted
	// from one IP address; a connection beyond it is closed at once. The
	// connections the engine opens itself do not count. 0 means
	// DefaultMaxConnectionsPerAddress.
	MaxConnectionsPerAddress int

	// Supported lists the SIP option tags (RFC 3261 §19.2) the handlers
	// support: a request whose Require names another is answered 420 Bad
	// Extension with Unsupported (RFC 3261 §8.2.2.3).
	Supported []string

	// WaitReady holds the requests that arrive after [Engine.Start] until
	// [Engine.Ready] is called: an application that registers its
	// handlers once the engine listens (it needs the bound addresses)
	// calls Ready when they are in place, so that no request meets a
	// half-started application (405 to an INVITE). A request held longer
	// than DefaultReadyWait is answered 503 Service Unavailable with
	// Retry-After. false serves from Start on.
	WaitReady bool
}

// Defaults of the zero Config fields.
const (
	DefaultIdleTimeout              = 2 * time.Minute
	DefaultTLSHandshakeTimeout      = 10 * time.Second
	DefaultMaxConnectionsPerAddress = 64
	DefaultReadyWait                = 10 * time.Second
)

// defaultListen is used when Config.Listen is empty.
func defaultListen() []Listen {
	return []Listen{
		{Transport: TransportUDP, Address: "127.0.0.1:0"},
		{Transport: TransportTCP, Address: "127.0.0.1:0"},
	}
}

// Validate reports every invalid field, joined with errors.Join; each
// error is a *ConfigError matching [ErrInvalidConfig]. It does not read the
// TLS files: that happens in [Engine.Start].
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, reason string) {
		errs = append(errs, &ConfigError{Field: field, Reason: reason})
	}
	if strings.ContainsFunc(c.UserAgent, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		bad("UserAgent", "contains control characters")
	}
	if c.IdleTimeout < 0 {
		bad("IdleTimeout", "must not be negative")
	}
	if c.TLSHandshakeTimeout < 0 {
		bad("TLSHandshakeTimeout", "must not be negative")
	}
	if c.MaxConnectionsPerAddress < 0 {
		bad("MaxConnectionsPerAddress", "must not be negative")
	}
	for i, tag := range c.Supported {
		if !isToken([]byte(tag)) {
			bad("Supported["+strconv.Itoa(i)+"]", fmt.Sprintf("%q is not an option tag", tag))
		}
	}
	for i, l := range c.Listen {
		field := "Listen[" + strconv.Itoa(i) + "]"
		if !l.Transport.valid() {
			bad(field+".Transport", fmt.Sprintf("%q is not one of udp, tcp, tls", l.Transport))
		}
		if _, _, err := parseListenAddress(l.Address); err != nil {
			bad(field+".Address", err.Error())
		}
	}
	return errors.Join(errs...)
}

// WithoutTLS returns a copy of c without its "tls" listeners, for starting
// again after [Engine.Start] failed with [ErrTLS] (the reference goes on
// without TLS after SIPApplicationFailedToStartTLS).
func (c Config) WithoutTLS() Config {
	c.Listen = slices.DeleteFunc(slices.Clone(c.listen()), func(l Listen) bool {
		return l.Transport == TransportTLS
	})
	if len(c.Listen) == 0 {
		c.Listen = defaultListen()
	}
	return c
}

func (c *Config) listen() []Listen {
	if len(c.Listen) == 0 {
		return defaultListen()
	}
	return c.Listen
}

// parseListenAddress splits "ip:port"; an empty host is 0.0.0.0.
func parseListenAddress(addr string) (net.IP, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, 0, fmt.Errorf("%q: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, 0, fmt.Errorf("%q: bad port", addr)
	}
	if host == "" {
		return net.IPv4zero, port, nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("%q: host must be an IP address", addr)
	}
	return ip, port, nil
}
