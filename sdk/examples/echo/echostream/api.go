package echostream

import (
	"context"

	"github.com/sipstreams/sipstreams/sdk"
)

// Names of the stream type, its SDP and its account setting.
const (
	// Type is the stream type name.
	Type = "echo"
	// Priority is the stream type's dispatch priority.
	Priority = 5
	// Format is the m-line format that marks an echo stream.
	Format = "x-sipstreams-echo"
	// SettingPort is the account setting that fixes the local UDP port
	// (default 0: any free port).
	SettingPort = "echo.port"
)

// Notifications posted by an echo stream (and, for TickNotification, by the
// plugin), besides the generic MediaStream* ones.
const (
	// GotPingNotification is posted for every ping received (GotPingData).
	GotPingNotification = "EchoStreamGotPing"
	// GotEchoNotification is posted when the echo of one of our pings
	// arrives (GotEchoData).
	GotEchoNotification = "EchoStreamGotEcho"
	// HoldStateNotification is posted when a hold flag changes
	// (HoldStateData), as the reference's RTPStreamDidChangeHoldState.
	HoldStateNotification = "EchoStreamDidChangeHoldState"
	// TickNotification is posted by the plugin-scope method "tick"
	// (TickData).
	TickNotification = "EchoTick"
)

// Methods served through Invoke.
const (
	// MethodSend sends a ping (stream scope; SendArgs → SendResult).
	MethodSend = "send"
	// MethodStats returns the stream's counters (stream scope; → Counters).
	MethodStats = "stats"
	// MethodTick posts TickNotification notifications (plugin scope;
	// TickArgs → TickResult).
	MethodTick = "tick"
)

// GotPingData is the data of GotPingNotification. Answered tells whether a
// pong was sent back (not while the stream is held, deactivated or
// receive-only).
type GotPingData struct {
	Seq      uint64 `json:"seq"`
	Payload  string `json:"payload"`
	From     string `json:"from"`
	Answered bool   `json:"answered"`
}

// GotEchoData is the data of GotEchoNotification. RTTNanos is the time
// between sending the ping and receiving its echo.
type GotEchoData struct {
	Seq      uint64 `json:"seq"`
	Payload  string `json:"payload"`
	From     string `json:"from"`
	RTTNanos int64  `json:"rtt_ns"`
}

// HoldStateData is the data of HoldStateNotification: the SDK's, posted by
// sdk.HoldState. Originator is "local" or "remote".
type HoldStateData = sdk.HoldStateData

// TickData is the data of TickNotification: its position in the series
// (from 1) and when it was posted, so the host can measure the latency of
// notifications.
type TickData struct {
	Seq          int   `json:"seq"`
	SentUnixNano int64 `json:"sent_unix_nano"`
}

// SendArgs are the arguments of MethodSend.
type SendArgs struct {
	Payload string `json:"payload"`
}

// SendResult is the result of MethodSend: the sequence number of the ping.
type SendResult struct {
	Seq uint64 `json:"seq"`
}

// TickArgs are the arguments of MethodTick: how many notifications to post,
// and how many per second (0: as fast as possible).
type TickArgs struct {
	Count int `json:"count"`
	Rate  int `json:"rate"`
}

// TickResult is the result of MethodTick.
type TickResult struct {
	Posted int `json:"posted"`
}

// Counters are the stream's traffic counters, the result of MethodStats.
// Every datagram received counts in PacketsReceived; those that are not
// valid echo datagrams, or echo a ping we did not send, also count in
// BadPackets.
type Counters struct {
	PacketsSent     uint64 `json:"packets_sent"`
	PacketsReceived uint64 `json:"packets_received"`
	BadPackets      uint64 `json:"bad_packets"`
	PingsSent       uint64 `json:"pings_sent"`
	PingsReceived   uint64 `json:"pings_received"`
	EchoesReceived  uint64 `json:"echoes_received"`
}

// Attributes are the echo stream's own attributes, the JSON object in
// sdk.Attributes.Extra. Addresses are "ip:port" ("[ip]:port" for IPv6) and
// empty while unknown; Direction is the last negotiated local direction.
type Attributes struct {
	LocalAddress  string             `json:"local_address"`
	RemoteAddress string             `json:"remote_address"`
	Direction     sdk.MediaDirection `json:"direction"`
	Counters
}

// Send sends a ping with payload to the stream's peer and returns its
// sequence number. It fails with sdk.ErrIllegalState when the stream is not
// started or may not send (held, receive-only, deactivated).
func Send(ctx context.Context, s sdk.Stream, payload string) (uint64, error) {
	r, err := sdk.Call[SendResult](ctx, s, MethodSend, SendArgs{Payload: payload})
	return r.Seq, err
}

// Stats returns the stream's counters.
func Stats(ctx context.Context, s sdk.Stream) (Counters, error) {
	return sdk.Call[Counters](ctx, s, MethodStats, nil)
}

// Tick asks the plugin to post count TickNotification notifications at
// rate per second (0: as fast as possible). It returns once all are posted,
// with their number.
func Tick(ctx context.Context, p sdk.Provider, count, rate int) (int, error) {
	r, err := sdk.Call[TickResult](ctx, p, MethodTick, TickArgs{Count: count, Rate: rate})
	return r.Posted, err
}

// ReadAttributes returns the stream's generic attributes and its own.
func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
	return sdk.ReadAttributes[Attributes](ctx, s)
}
