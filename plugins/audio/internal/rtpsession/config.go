package rtpsession

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/pion/srtp/v2"
)

// Defaults used for zero Config fields.
const (
	DefaultClockRate    = 8000
	DefaultRTCPInterval = 5 * time.Second
	DefaultKeepAlive    = 5 * time.Second
	DefaultLatchAfter   = 5
)

// SRTP holds the negotiated SRTP parameters. Keys are the master key followed
// by the master salt, as carried in an SDES inline key (30 bytes for the
// AES_CM_128 suites).
type SRTP struct {
	Profile   srtp.ProtectionProfile
	LocalKey  []byte // protects what we send
	RemoteKey []byte // authenticates and decrypts what we receive
}

// Packet is a received RTP packet.
type Packet struct {
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	Marker         bool
	SSRC           uint32
	// Payload is valid only during the OnPacket call: the session reads
	// the next packet into the same memory (no allocation per packet).
	// Copy what must outlive the call.
	Payload []byte
	Arrival time.Time
}

// Config configures a Session.
type Config struct {
	// RTP is the transport for RTP (and RTCP with RTCPMux). Required.
	RTP Transport
	// RTCP is the transport for RTCP; nil with RTCPMux.
	RTCP Transport
	// RTCPMux multiplexes RTCP on the RTP transport (RFC 5761).
	RTCPMux bool
	// RemoteRTP and RemoteRTCP are the addresses from the remote SDP. They
	// may be nil for connected transports (ConnTransport). RemoteRTCP
	// defaults to RemoteRTP's port + 1 (or RemoteRTP with RTCPMux).
	RemoteRTP, RemoteRTCP net.Addr
	// Latch sends to the source address of received packets when it
	// differs from the SDP address (symmetric RTP behind NAT), once
	// LatchAfter packets of one SSRC in sequence came from it (default 5,
	// a probation so that a stray packet cannot divert the stream). Once
	// the peer's stream is known (packets from the current destination),
	// a new source must continue it: with plain RTP the same SSRC and the
	// next sequence numbers, with SRTP packets that authenticate. Without
	// rtcp-mux, RTCP follows its own source when it reports the peer's
	// SSRC from the peer's IP (or authenticates); with rtcp-mux it goes
	// where RTP goes.
	Latch      bool
	LatchAfter int
	// SRTP enables SRTP/SRTCP; nil means plain RTP.
	SRTP *SRTP
	// PayloadTypes, if not empty, are the only payload types delivered;
	// others are dropped and counted.
	PayloadTypes []uint8
	// KeepAlivePayloadType is the payload type of empty keep-alive packets
	// (default: the last one sent, else the first of PayloadTypes).
	KeepAlivePayloadType *uint8
	// SSRC is our synchronisation source; 0 picks a random one.
	SSRC uint32
	// ClockRate is the RTP clock rate in Hz (default 8000).
	ClockRate uint32
	// CNAME is the RTCP canonical name (default derived from the SSRC).
	CNAME string
	// RTCPInterval is the RTCP report interval (default 5 s; negative
	// disables RTCP reports).
	RTCPInterval time.Duration
	// KeepAlive is how often an empty RTP packet is sent while no media is
	// being sent (default 5 s; negative disables keep-alives).
	KeepAlive time.Duration
	// Timeout is the RTP timeout (0 disables it): OnTimeout is called after
	// each full Timeout period in which no RTP arrived, from the
	// session's timer: it must not block, nor call Close (which waits for
	// a running timer before its RTCP BYE).
	Timeout   time.Duration
	OnTimeout func()
	// OnPacket receives every accepted RTP packet with a payload, on the
	// session's receive goroutine; the payload is valid during the call
	// only (Packet.Payload).
	OnPacket func(Packet)
	// OnRemoteChange is called when latching switches the RTP destination.
	OnRemoteChange func(old, new net.Addr)
	// Logger receives debug logs (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.RTP == nil {
		return fmt.Errorf("%w: no RTP transport", ErrInvalidConfig)
	}
	if c.RTCPMux && c.RTCP != nil {
		return fmt.Errorf("%w: an RTCP transport with rtcp-mux", ErrInvalidConfig)
	}
	if !c.RTCPMux && c.RTCP == nil {
		return fmt.Errorf("%w: no RTCP transport and no rtcp-mux", ErrInvalidConfig)
	}
	if c.ClockRate == 0 {
		c.ClockRate = DefaultClockRate
	}
	if c.RTCPInterval == 0 {
		c.RTCPInterval = DefaultRTCPInterval
	}
	if c.LatchAfter <= 0 {
		c.LatchAfter = DefaultLatchAfter
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrInvalidConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SRTP != nil {
		if err := checkKey(c.SRTP.Profile, c.SRTP.LocalKey); err != nil {
			return fmt.Errorf("%w: local SRTP key: %w", ErrInvalidConfig, err)
		}
		if err := checkKey(c.SRTP.Profile, c.SRTP.RemoteKey); err != nil {
			return fmt.Errorf("%w: remote SRTP key: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

func checkKey(p srtp.ProtectionProfile, key []byte) error {
	kl, err := p.KeyLen()
	if err != nil {
		return err
	}
	sl, err := p.SaltLen()
	if err != nil {
		return err
	}
	if len(key) != kl+sl {
		return fmt.Errorf("%d bytes, want %d", len(key), kl+sl)
	}
	return nil
}

// rtcpAddr derives the RTCP destination from the RTP one.
func rtcpAddr(rtp, rtcp net.Addr, mux bool) net.Addr {
	if rtcp != nil || rtp == nil {
		return rtcp
	}
	if mux {
		return rtp
	}
	if u, ok := rtp.(*net.UDPAddr); ok {
		return &net.UDPAddr{IP: u.IP, Port: u.Port + 1, Zone: u.Zone}
	}
	return nil
}
