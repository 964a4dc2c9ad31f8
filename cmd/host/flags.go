package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/engine"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseInterspersed parses fs over args, letting positional arguments
// appear among the flags ("call URI --stream echo"); it returns them.
// Everything after "--" is positional ("message URI -- -1").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// callFlags are the flags call and message share: the application's and
// where and how the call goes.
type callFlags struct {
	common  commonFlags
	app     appFlags
	route   string
	account string
	subject string
	timeout time.Duration
}

func (f *callFlags) register(fs *flag.FlagSet) {
	f.common.register(fs)
	f.app.register(fs)
	fs.StringVar(&f.route, "route", "", "send to `transport:ip:port` instead of the URI's address")
	fs.StringVar(&f.account, "account", "", "call from this configured `account` (its AOR, credentials and outbound proxy; default: the peer-to-peer account)")
	fs.StringVar(&f.subject, "subject", "", "Subject of the call")
	fs.DurationVar(&f.timeout, "timeout", 0, "give up (CANCEL) when not answered within this (0: the invite timeout)")
}

// callSpec is a call to make: call's or message's flags, read.
type callSpec struct {
	callFlags
	target           sip.Uri
	routes           []engine.Route // --route; empty: found from the target
	streams          []string       // a stream of each type
	media            mediaFlags
	files            fileFlags
	untilDelivered   bool           // end once every message got its report
	untilTransferred bool           // end once every file transfer ended
	hangupAfter      time.Duration  // end this long after the start (0: never)
	acceptTransfers  bool           // accept the transfers the peer asks for
	console          bool           // stdin carries commands
	params           map[string]any // constructor parameters by stream type
	screen           *screenFlags   // desktop sharing: watch the stream, run --viewer
}

// resolve reads the target and --route into c; the error is a usage
// error.
func (c *callSpec) resolve(uri string) error {
	var err error
	if c.target, err = parseTarget(uri); err != nil {
		return err
	}
	if c.route != "" {
		r, err := parseRoute(c.route)
		if err != nil {
			return err
		}
		c.routes = []engine.Route{r}
	}
	return nil
}

// callOptions are the embedding API's options for the call.
func (c *callSpec) callOptions() []application.CallOption {
	opts := []application.CallOption{application.WithSubject(c.subject), application.WithRoutes(c.routes...)}
	if c.account != "" {
		opts = append(opts, application.WithAccount(c.account))
	}
	return opts
}

// listen is where the caller listens when --listen is not given: UDP and
// TCP, ephemeral ports, on loopback for a loopback target (or --route)
// and on every address of the target's family otherwise.
func (c *callSpec) listen() []engine.Listen {
	host := c.target.Host
	if len(c.routes) > 0 {
		host = c.routes[0].Address
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	addr := "0.0.0.0"
	switch {
	case ip != nil && ip.IsLoopback() && ip.To4() == nil:
		addr = "::1"
	case ip != nil && ip.IsLoopback():
		addr = "127.0.0.1"
	case ip != nil && ip.To4() == nil:
		addr = "::"
	}
	a := net.JoinHostPort(addr, "0")
	return []engine.Listen{{Transport: engine.TransportUDP, Address: a}, {Transport: engine.TransportTCP, Address: a}}
}

// newApplication builds the call's application.
func (c *callSpec) newApplication(stderr io.Writer) *application.Application {
	return newApplication(&c.common, &c.app, stderr, c.listen())
}

// parseRoute reads "udp:127.0.0.1:5060", "tcp:[::1]:5070".
func parseRoute(v string) (engine.Route, error) {
	l, err := parseListen(v)
	if err != nil {
		return engine.Route{}, err
	}
	host, port, err := net.SplitHostPort(l.Address)
	if err != nil {
		return engine.Route{}, fmt.Errorf("route %q: %v", v, err)
	}
	p, err := strconv.Atoi(port)
	if ip := net.ParseIP(host); ip == nil || err != nil || p <= 0 || p > 65535 {
		return engine.Route{}, fmt.Errorf("route %q is not transport:ip:port", v)
	}
	return engine.Route{Address: host, Port: p, Transport: l.Transport}, nil
}

// parseTarget reads a SIP URI; "bob@host" gets the sip: scheme.
func parseTarget(v string) (sip.Uri, error) {
	if !strings.HasPrefix(v, "sip:") && !strings.HasPrefix(v, "sips:") {
		v = "sip:" + v
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil {
		return u, fmt.Errorf("%q is not a SIP URI: %v", v, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("%q has no host", v)
	}
	return u, nil
}
