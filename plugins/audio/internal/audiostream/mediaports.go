package audiostream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpmux"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
)

// mediaPorts are a stream's RTP and RTCP transports until its RTP session
// owns them: a socket pair of its own (kept bound for the next stream once
// released: ports.Pool), or its endpoints on shared pairs
// (rtp.shared_sockets), which also fix the SSRC the stream says in a=ssrc.
type mediaPorts struct {
	rtp, rtcp         rtpsession.Transport
	rtpPort, rtcpPort int
	ssrc              uint32 // 0: the RTP session picks one, unsaid
	cname             string
}

// Close closes both transports.
func (p mediaPorts) Close() error {
	return errors.Join(p.rtp.Close(), p.rtcp.Close())
}

// expect tells shared endpoints the peer's SSRC (its a=ssrc), so that
// calls with one peer address are told apart from their first packet.
func (p mediaPorts) expect(ssrc uint32) {
	for _, t := range []rtpsession.Transport{p.rtp, p.rtcp} {
		if e, ok := t.(*rtpmux.Endpoint); ok {
			e.SetRemoteSSRC(ssrc)
		}
	}
}

// openPortsLocked binds the stream's pair from rtp.port_range, or takes
// endpoints on the shared pairs.
func (s *stream) openPortsLocked(ctx context.Context, ip netip.Addr) (mediaPorts, error) {
	if s.st.sharedSockets == 0 {
		rtp, rtcp, err := s.plugin.engine.allocate(ctx, s.st.portRange, ip.AsSlice())
		if err != nil {
			return mediaPorts{}, err
		}
		return mediaPorts{rtp: rtp, rtcp: rtcp, rtpPort: rtp.LocalPort(), rtcpPort: rtcp.LocalPort()}, nil
	}
	m, err := s.plugin.engine.acquireShared(ctx, s.st.portRange, ip, s.st.sharedSockets)
	if err != nil {
		return mediaPorts{}, err
	}
	rtp, rtcp, err := m.Endpoints()
	if err != nil {
		s.plugin.engine.releaseShared(m)
		return mediaPorts{}, fmt.Errorf("shared RTP ports: %w", err)
	}
	s.shared = m
	ssrc := rand.Uint32()
	for ssrc == 0 {
		ssrc = rand.Uint32()
	}
	return mediaPorts{
		rtp: rtp, rtcp: rtcp, rtpPort: rtp.LocalPort(), rtcpPort: rtcp.LocalPort(),
		ssrc: ssrc, cname: rtpsession.DefaultCNAME(ssrc), // said in a=ssrc before the session exists
	}, nil
}
