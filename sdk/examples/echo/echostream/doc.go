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
// with, refuses RFC 4566's lower-case "udp"), and, once started, answers every "PING <seq> <payload>" datagram it
// receives with "PONG <seq> <payload>" (when its direction allows sending),
// so two hosts can measure the round trip of their media path. It supports
// hold with the SDP direction attribute exactly as the reference's audio
// stream does (RFC 3264 §8.4; sipsimple's RTPStream, see the reference
// notes §3.5): a held stream neither sends pings nor answers them.
//
// # Using the stream type
//
// Plugin returns the sdk.Plugin that declares the "echo" stream type, its
// plugin-scope method "tick", and its factories. A plugin binary passes it to
// sdk.Serve (see ../main.go); a test passes it to sdk.NewProvider to run it
// in-process.
//
// The type-specific methods are reached through sdk.Stream.Invoke and
// sdk.Provider.Invoke; callers use the typed wrappers Send, Stats and Tick
// instead of building JSON by hand. The notifications the stream posts carry
// the typed data GotPingData, GotEchoData, HoldStateData and TickData;
// decode them with sdk.Notification.Decode. The stream's own attributes
// (sdk.Attributes.Extra) decode into Attributes.
//
// # Structure worth copying
//
//   - The factories (NewFromSDP, Create) only validate and allocate; the
//     socket is bound in Initialize and the outcome is posted as a
//     notification, as the contract asks.
//   - The SDK serialises calls to one stream, but the stream's reader
//     goroutine runs concurrently with them: a mutex guards every field the
//     two share. End closes the socket and waits for the reader, so no
//     goroutine outlives the stream.
//   - Network input is parsed by ParseDatagram, which never panics and is
//     fuzzed (FuzzParseDatagram).
//   - Direction and hold rules are small pure functions with table tests.
package echostream
