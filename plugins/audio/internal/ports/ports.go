package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// DefaultRange is the reference SDK's default rtp.port_range.
var DefaultRange = Range{Min: 50000, Max: 50500}

// Range is an inclusive range of UDP ports.
type Range struct {
	Min, Max int
}

// ParseRange parses the rtp.port_range syntax "MIN-MAX".
func ParseRange(s string) (Range, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Range{}, fmt.Errorf("%w: %q: want MIN-MAX", ErrInvalidRange, s)
	}
	min, err1 := strconv.Atoi(strings.TrimSpace(lo))
	max, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("%w: %q: not numbers", ErrInvalidRange, s)
	}
	r := Range{Min: min, Max: max}
	if err := r.Validate(); err != nil {
		return Range{}, err
	}
	return r, nil
}

// String formats r as "MIN-MAX".
func (r Range) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Validate reports whether r holds at least one even/odd pair of valid ports.
func (r Range) Validate() error {
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max {
		return fmt.Errorf("%w: %s", ErrInvalidRange, r)
	}
	if r.pairs() == 0 {
		return fmt.Errorf("%w: %s holds no even/odd pair", ErrInvalidRange, r)
	}
	return nil
}

// first returns the lowest even port of r.
func (r Range) first() int { return r.Min + r.Min%2 }

// pairs returns how many even/odd pairs fit in r.
func (r Range) pairs() int {
	f := r.first()
	if f+1 > r.Max {
		return 0
	}
	return (r.Max - f + 1) / 2
}

// Pair is a bound RTP socket and its RTCP companion on the next port.
type Pair struct {
	RTP  *net.UDPConn
	RTCP *net.UDPConn
}

// RTPPort returns the local RTP port.
func (p Pair) RTPPort() int { return p.RTP.LocalAddr().(*net.UDPAddr).Port }

// RTCPPort returns the local RTCP port.
func (p Pair) RTCPPort() int { return p.RTCP.LocalAddr().(*net.UDPAddr).Port }

// Close closes both sockets.
func (p Pair) Close() error {
	return errors.Join(p.RTP.Close(), p.RTCP.Close())
}

// Allocator hands out port pairs from a Range. It is safe for concurrent use.
type Allocator struct {
	r  Range
	lc net.ListenConfig

	mu   sync.Mutex
	next int // index of the next pair to try
}

// New returns an Allocator for r. An invalid r is replaced by DefaultRange;
// call r.Validate first to reject it instead.
func New(r Range) *Allocator {
	if r.Validate() != nil {
		r = DefaultRange
	}
	return &Allocator{r: r}
}

// Range returns the allocator's range.
func (a *Allocator) Range() Range { return a.r }

// Allocate binds the next free even/odd pair on ip and returns both sockets.
// Pairs where either port is in use are skipped; when the whole range has
// been tried it returns ErrExhausted. Errors other than "address in use"
// (such as an IP not configured on this host) stop the search at once.
func (a *Allocator) Allocate(ctx context.Context, ip net.IP) (Pair, error) {
	if ip == nil {
		ip = net.IPv4zero
	}
	n := a.r.pairs()
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return Pair{}, err
		}
		port := a.take()
		p, err := a.bind(ctx, ip, port)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return Pair{}, fmt.Errorf("ports: bind %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
		}
	}
	return Pair{}, fmt.Errorf("%w in %s on %s", ErrExhausted, a.r, ip)
}

// take returns the RTP port of the next pair and advances the rolling index.
func (a *Allocator) take() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	port := a.r.first() + 2*a.next
	a.next = (a.next + 1) % a.r.pairs()
	return port
}

func (a *Allocator) bind(ctx context.Context, ip net.IP, port int) (Pair, error) {
	rtp, err := a.listen(ctx, ip, port)
	if err != nil {
		return Pair{}, err
	}
	rtcp, err := a.listen(ctx, ip, port+1)
	if err != nil {
		rtp.Close()
		return Pair{}, err
	}
	return Pair{RTP: rtp, RTCP: rtcp}, nil
}

func (a *Allocator) listen(ctx context.Context, ip net.IP, port int) (*net.UDPConn, error) {
	network := "udp4"
	if ip.To4() == nil {
		network = "udp6"
	}
	c, err := a.lc.ListenPacket(ctx, network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}
