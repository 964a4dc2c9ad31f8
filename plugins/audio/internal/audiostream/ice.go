package audiostream

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v2"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/icetransport"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// iceTimeout bounds gathering and connectivity checks by default
// (WithICETimeout).
const iceTimeout = 15 * time.Second

// newICE creates the stream's ICE transport on ip's interfaces (only the
// loopback interface when ip is a loopback address).
func (s *stream) newICE(ip netip.Addr, controlling bool) (*icetransport.Transport, error) {
	cfg := icetransport.Config{
		Controlling:     controlling,
		STUNServers:     s.st.stunServers,
		IncludeLoopback: ip.IsLoopback(),
		IPv6:            ip.Is6(),
		PortMin:         uint16(s.st.portRange.Min),
		PortMax:         uint16(s.st.portRange.Max),
	}
	if ip.IsLoopback() {
		cfg.InterfaceFilter = func(name string) bool { return name == "lo" }
	}
	// Runs on pion's goroutines: it takes no lock of the stream's, only
	// its own. The transport calls it no more once its Close began (End
	// closes it before MediaStreamDidEnd, after which a stream posts
	// nothing: the conformance suite's quiet-after-end).
	var mu sync.Mutex
	prev := map[int]string{}
	cfg.OnStateChange = func(component int, state ice.ConnectionState) {
		mu.Lock()
		old := prev[component]
		prev[component] = state.String()
		mu.Unlock()
		if old == "" {
			old = ice.ConnectionStateNew.String()
		}
		data := sdkaudio.ICEStateData{Component: component, PrevState: old, State: state.String()}
		postAll(s.env, data, sdkaudio.ICENegotiationStateDidChange, sdkaudio.RTPICENegotiationStateDidChange)
	}
	return icetransport.New(cfg)
}

// gather runs on the stream's init goroutine (the lifecycle's): it
// gathers the candidates and posts the outcome of Initialize.
func (s *stream) gather(ctx context.Context, t *icetransport.Transport) {
	ctx, cancel := context.WithTimeout(ctx, s.plugin.iceTimeout)
	defer cancel()
	err := t.Gather(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.State() != sdk.StateInitializing {
		return // ended meanwhile: End posted the outcome and closes t
	}
	if err != nil {
		s.releaseLocked()
		s.life.NotInitialized("ICE gathering: " + err.Error())
		return
	}
	s.local.ice = t.Attributes()
	s.life.Initialized()
}

// connectICE runs on the stream's start goroutine (the lifecycle's): the connectivity checks,
// then the rest of Start over the ICE connections, or over the plain
// sockets when ICE fails (reference §3.6: MediaStreamDidStart follows
// either way).
func (s *stream) connectICE(ctx context.Context, t *icetransport.Transport, remote icetransport.Remote, n negotiation, index int) {
	ctx, cancel := context.WithTimeout(ctx, s.plugin.iceTimeout)
	defer cancel()
	began := time.Now()
	rtpConn, rtcpConn, err := t.Connect(ctx, remote)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.State() != sdk.StateStarting {
		return // ended meanwhile
	}
	var tr transports
	if err != nil {
		postAll(s.env, sdkaudio.ICEFailedData{Reason: err.Error()}, sdkaudio.ICENegotiationDidFail, sdkaudio.RTPICENegotiationDidFail)
		s.ice = nil
		_ = t.Close()
	} else {
		s.iceActive = true
		// Re-offers name the default candidates: the plain pair closes.
		if a, ok := t.DefaultAddress(icetransport.ComponentRTP); ok {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				s.local.addr, s.local.rtpPort = ip.Unmap(), a.Port
			}
		}
		if a, ok := t.DefaultAddress(icetransport.ComponentRTCP); ok {
			s.local.rtcpPort = a.Port
		}
		tr = transports{rtp: rtpsession.ConnTransport(rtpConn)}
		if rtcpConn != nil {
			tr.rtcp = rtpsession.ConnTransport(rtcpConn)
		}
		data := sdkaudio.ICESucceededData{DurationMillis: time.Since(began).Milliseconds()}
		for _, c := range t.Candidates() {
			data.LocalCandidates = append(data.LocalCandidates, c.String())
		}
		for _, c := range remote.Candidates {
			data.RemoteCandidates = append(data.RemoteCandidates, c.String())
		}
		for _, p := range t.Selected() {
			data.ValidList = append(data.ValidList, p.String())
		}
		postAll(s.env, data, sdkaudio.ICENegotiationDidSucceed, sdkaudio.RTPICENegotiationDidSucceed)
	}
	s.finishStartLocked(ctx, n, index, tr)
}

// transports are what RTP runs over: the ICE connections, or (zero) the
// plain port pair.
type transports struct {
	rtp, rtcp rtpsession.Transport
}

func (t transports) ice() bool { return t.rtp != nil }

// remoteICE parses the remote's ICE lines; ok is false when they do not
// allow ICE (no credentials or candidates, or malformed).
func remoteICE(lines []string) (icetransport.Remote, bool) {
	r, err := icetransport.ParseAttributes(lines)
	if err != nil || !r.HasICE() {
		return icetransport.Remote{}, false
	}
	return r, true
}

// closeICE closes the ICE transport, if any (outside the lock: it waits
// for pion's goroutines).
func closeICE(t *icetransport.Transport) {
	if t != nil {
		_ = t.Close()
	}
}

// selectedTypes returns the candidate types of the RTP component's pair.
func selectedTypes(t *icetransport.Transport) (local, remote string, addr *net.UDPAddr) {
	for _, p := range t.Selected() {
		if p.Component == icetransport.ComponentRTP {
			return p.LocalType, p.RemoteType, p.Remote
		}
	}
	return "", "", nil
}
