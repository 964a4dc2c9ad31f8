// Package echostream is the reference stream type of the sipstreams SDK: a
// small but complete media stream that vendors can read, copy and run.
//
// An echo stream negotiates one UDP flow with an m-line of its own,
//
//	m=application 40000 UDP x-sipstreams-echo
//	c=IN IP4 192.0.2.10
//	a=sendrecv
//
// (the proto is written UDP: pion/sdp, which host and plugins parse SDP
// with, refuses RFC 4566's lower-case "udp"), and, once started, answers
// every "PING <seq> <payload>" datagram it receives with "PONG <seq>
// <payload>" (when its direction allows sending), so two hosts can measure
// the round trip of their media path. It supports hold with the SDP
// direction attribute exactly as the reference's audio stream does (RFC
// 3264 §8.4, reference §3.5): a held stream neither sends pings nor answers
// them.
//
// # Using the stream type
//
// Plugin returns the sdk.Plugin that declares the "echo" stream type, its
// plugin-scope method "tick", and its factories: pass it to sdk.Serve (see
// ../main.go), or to sdk.NewProvider to run it in-process. Callers reach
// the methods with the typed wrappers Send, Stats and Tick; notifications
// carry GotPingData, GotEchoData, HoldStateData and TickData (decode them
// with sdk.Notification.Decode); ReadAttributes returns Attributes.
//
// # Structure worth copying
//
//   - The factories only validate and allocate; Initialize binds the
//     socket, and outcomes are notifications, as the contract asks.
//   - What every stream does the same way comes from the SDK: sdk.Lifecycle
//     (states, outcome notifications, the reader goroutine, End),
//     sdk.HoldState (offer and answer directions, hold flags),
//     sdk.ParseEndpoint, sdk.HandleInvoke and sdk.Method (arguments).
//   - One mutex guards the stream's state, the SDK helpers included, since
//     the reader runs beside the SDK's serialised calls.
//   - Network input is parsed by ParseDatagram, which never panics and is
//     fuzzed (FuzzParseDatagram).
package echostream
