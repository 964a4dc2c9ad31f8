package icetransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/pion/ice/v2"
	"github.com/pion/logging"
	"github.com/pion/randutil"
	"github.com/pion/stun"
)

// Component numbers (RFC 5245 §4.1.1.1).
const (
	ComponentRTP  = 1
	ComponentRTCP = 2
)

// Config configures a Transport.
type Config struct {
	// Controlling is true for the offerer (RFC 5245 §5.1.2: a full agent
	// that sends the offer takes the controlling role).
	Controlling bool
	// RTCPMux leaves one component for RTP and RTCP.
	RTCPMux bool
	// STUNServers are "stun:host[:port]" URIs for server-reflexive
	// candidates (account.nat_traversal.stun_server_list).
	STUNServers []string
	// IncludeLoopback offers loopback host candidates (needed for tests on
	// 127.0.0.1; pion leaves them out by default).
	IncludeLoopback bool
	// IPv6 also gathers IPv6 candidates.
	IPv6 bool
	// InterfaceFilter, if set, restricts host candidates to matching
	// interface names.
	InterfaceFilter func(string) bool
	// PortMin and PortMax bound the local candidate ports (0: any).
	PortMin, PortMax uint16
	// Ufrag and Pwd are the local credentials (random when empty).
	Ufrag, Pwd string
	// OnStateChange follows each component's connection state. It runs
	// on a pion goroutine and must not block. It is not called once Close
	// has begun (so neither for the Closed state Close brings): pion runs
	// it on goroutines of its own that Close does not wait for.
	OnStateChange func(component int, state ice.ConnectionState)
}

// Transport is the ICE negotiation of one media stream.
type Transport struct {
	cfg    Config
	ufrag  string
	pwd    string
	agents []*ice.Agent // index component-1

	mu         sync.Mutex
	candidates [][]ice.Candidate // local candidates per component
	gathered   []chan struct{}
	closed     bool

	// stateMu is held while OnStateChange runs; quiet is set under it
	// when Close begins.
	stateMu sync.Mutex
	quiet   bool
}

const (
	ufragRunes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
)

// New creates the agents. Call Gather next.
func New(cfg Config) (*Transport, error) {
	t := &Transport{cfg: cfg, ufrag: cfg.Ufrag, pwd: cfg.Pwd}
	var err error
	if t.ufrag == "" {
		if t.ufrag, err = randutil.GenerateCryptoRandomString(8, ufragRunes); err != nil {
			return nil, fmt.Errorf("icetransport: ufrag: %w", err)
		}
	}
	if t.pwd == "" {
		if t.pwd, err = randutil.GenerateCryptoRandomString(24, ufragRunes); err != nil {
			return nil, fmt.Errorf("icetransport: pwd: %w", err)
		}
	}
	var urls []*stun.URI
	for _, s := range cfg.STUNServers {
		u, err := stun.ParseURI(s)
		if err != nil {
			return nil, fmt.Errorf("icetransport: STUN server %q: %w", s, err)
		}
		urls = append(urls, u)
	}
	networks := []ice.NetworkType{ice.NetworkTypeUDP4}
	if cfg.IPv6 {
		networks = append(networks, ice.NetworkTypeUDP6)
	}
	types := []ice.CandidateType{ice.CandidateTypeHost}
	if len(urls) > 0 {
		types = append(types, ice.CandidateTypeServerReflexive)
	}
	logs := logging.NewDefaultLoggerFactory()
	logs.Writer = io.Discard // plugins must not write to stdout
	logs.DefaultLogLevel = logging.LogLevelDisabled
	n := 2
	if cfg.RTCPMux {
		n = 1
	}
	for c := 1; c <= n; c++ {
		a, err := ice.NewAgent(&ice.AgentConfig{
			Urls:             urls,
			PortMin:          cfg.PortMin,
			PortMax:          cfg.PortMax,
			LocalUfrag:       t.ufrag,
			LocalPwd:         t.pwd,
			MulticastDNSMode: ice.MulticastDNSModeDisabled,
			NetworkTypes:     networks,
			CandidateTypes:   types,
			LoggerFactory:    logs,
			IncludeLoopback:  cfg.IncludeLoopback,
			InterfaceFilter:  cfg.InterfaceFilter,
		})
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("icetransport: agent for component %d: %w", c, err)
		}
		t.agents = append(t.agents, a)
		t.candidates = append(t.candidates, nil)
		t.gathered = append(t.gathered, make(chan struct{}))
		comp := c
		if err := a.OnCandidate(func(cand ice.Candidate) { t.onCandidate(comp, cand) }); err != nil {
			t.Close()
			return nil, err
		}
		if cfg.OnStateChange != nil {
			if err := a.OnConnectionStateChange(func(s ice.ConnectionState) { t.stateChanged(comp, s) }); err != nil {
				t.Close()
				return nil, err
			}
		}
	}
	return t, nil
}

// stateChanged passes a component's new state to Config.OnStateChange
// until Close begins.
func (t *Transport) stateChanged(comp int, s ice.ConnectionState) {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	if !t.quiet {
		t.cfg.OnStateChange(comp, s)
	}
}

func (t *Transport) onCandidate(comp int, c ice.Candidate) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c == nil {
		close(t.gathered[comp-1])
		return
	}
	t.candidates[comp-1] = append(t.candidates[comp-1], c)
}

// Components returns 1 with rtcp-mux, else 2.
func (t *Transport) Components() int { return len(t.agents) }

// Gather collects local candidates for every component and returns when
// gathering is complete or ctx ends.
func (t *Transport) Gather(ctx context.Context) error {
	for i, a := range t.agents {
		if err := a.GatherCandidates(); err != nil {
			return fmt.Errorf("icetransport: gather component %d: %w", i+1, err)
		}
	}
	for _, ch := range t.gathered {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Credentials returns the local ice-ufrag and ice-pwd.
func (t *Transport) Credentials() (ufrag, pwd string) { return t.ufrag, t.pwd }

// Candidates returns the gathered local candidates.
func (t *Transport) Candidates() []Candidate {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Candidate
	for i, cs := range t.candidates {
		for _, c := range cs {
			out = append(out, fromICE(c, i+1))
		}
	}
	return out
}

// Attributes returns the local SDP attribute values (without "a="):
// ice-ufrag, ice-pwd and one candidate line per local candidate.
func (t *Transport) Attributes() []string {
	out := []string{"ice-ufrag:" + t.ufrag, "ice-pwd:" + t.pwd}
	for _, c := range t.Candidates() {
		out = append(out, "candidate:"+c.String())
	}
	return out
}

// DefaultAddress returns the address to put in c= and m= for component
// (RFC 5245 §4.3: the default candidate; here the highest-priority one).
func (t *Transport) DefaultAddress(component int) (*net.UDPAddr, bool) {
	var best *Candidate
	for _, c := range t.Candidates() {
		if c.Component == component && (best == nil || c.Priority > best.Priority) {
			c := c
			best = &c
		}
	}
	if best == nil {
		return nil, false
	}
	return &net.UDPAddr{IP: net.ParseIP(best.Address), Port: best.Port}, true
}

func fromICE(c ice.Candidate, component int) Candidate {
	out := Candidate{
		Foundation: c.Foundation(),
		Component:  component,
		Transport:  "UDP",
		Priority:   c.Priority(),
		Address:    c.Address(),
		Port:       c.Port(),
		Type:       c.Type().String(),
	}
	if r := c.RelatedAddress(); r != nil && r.Address != "" {
		out.RelAddr, out.RelPort = r.Address, r.Port
	}
	return out
}

// toICE converts a remote candidate for the agent of its component (pion
// agents are single-component, so the component is rewritten to 1).
func toICE(c Candidate) (ice.Candidate, error) {
	c.Component = 1
	c.Extensions = nil
	c.Transport = strings.ToLower(c.Transport)
	return ice.UnmarshalCandidate(c.String())
}

// Connect runs the connectivity checks against remote and returns one
// connection per component: rtcp is nil with rtcp-mux. Canceling ctx aborts
// the checks.
func (t *Transport) Connect(ctx context.Context, remote Remote) (rtp, rtcp net.Conn, err error) {
	if remote.Ufrag == "" || remote.Pwd == "" {
		return nil, nil, ErrNoCredentials
	}
	for i, a := range t.agents {
		n := 0
		for _, c := range remote.Candidates {
			if c.Component != i+1 || !strings.EqualFold(c.Transport, "udp") {
				continue
			}
			ic, err := toICE(c)
			if err != nil {
				continue // e.g. an mDNS name pion cannot take: skip it
			}
			if err := a.AddRemoteCandidate(ic); err != nil {
				return nil, nil, fmt.Errorf("icetransport: add remote candidate %q: %w", c, err)
			}
			n++
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("%w for component %d", ErrNoCandidates, i+1)
		}
	}
	conns := make([]net.Conn, len(t.agents))
	errs := make([]error, len(t.agents))
	var wg sync.WaitGroup
	for i, a := range t.agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *ice.Conn
			var err error
			if t.cfg.Controlling {
				c, err = a.Dial(ctx, remote.Ufrag, remote.Pwd)
			} else {
				c, err = a.Accept(ctx, remote.Ufrag, remote.Pwd)
			}
			if err != nil {
				errs[i] = fmt.Errorf("icetransport: component %d: %w", i+1, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, nil, err
	}
	rtp = conns[0]
	if len(conns) > 1 {
		rtcp = conns[1]
	}
	return rtp, rtcp, nil
}

// Pair describes the selected candidate pair of one component.
type Pair struct {
	Component             int
	LocalType, RemoteType string // host, srflx, prflx, relay
	Local, Remote         *net.UDPAddr
}

// Selected returns the selected pair of each connected component.
func (t *Transport) Selected() []Pair {
	var out []Pair
	for i, a := range t.agents {
		p, err := a.GetSelectedCandidatePair()
		if err != nil || p == nil {
			continue
		}
		out = append(out, Pair{
			Component:  i + 1,
			LocalType:  p.Local.Type().String(),
			RemoteType: p.Remote.Type().String(),
			Local:      &net.UDPAddr{IP: net.ParseIP(p.Local.Address()), Port: p.Local.Port()},
			Remote:     &net.UDPAddr{IP: net.ParseIP(p.Remote.Address()), Port: p.Remote.Port()},
		})
	}
	return out
}

// Close closes every agent (and so every connection Connect returned).
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.stateMu.Lock()
	t.quiet = true
	t.stateMu.Unlock()
	var errs []error
	for _, a := range t.agents {
		if err := a.Close(); err != nil && !errors.Is(err, ice.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// String returns a short description for logs.
func (p Pair) String() string {
	return strconv.Itoa(p.Component) + ": " + p.LocalType + " " + p.Local.String() + " -> " + p.RemoteType + " " + p.Remote.String()
}
