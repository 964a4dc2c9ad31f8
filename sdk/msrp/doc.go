// Package msrp implements the Message Session Relay Protocol: RFC 4975
// (MSRP) and the client side of RFC 4976 (relays).
//
// MSRP carries a session's messages over a TCP or TLS connection. Every
// message travels in one or more chunks, each a request that names its
// destination in To-Path and its origin in From-Path (lists of MSRP URIs,
// [URI]) and carries a Byte-Range locating its bytes in the whole message
// (RFC 4975 §5.1). A chunk ends with an end-line whose flag says whether
// the message is complete ($), continues (+) or was aborted (#).
//
// The package is layered:
//
//   - [URI], [ParseURI], [NewSessionID]: addressing (RFC 4975 §6).
//   - [Message], [Reader], [Message.WriteTo]: the wire format (RFC 4975 §7,
//     §9). The Reader streams bodies without buffering them, so a large
//     message costs constant memory.
//   - [Conn]: one connection carrying many sessions. It interleaves outgoing
//     chunks of several messages, matches transaction responses (with a
//     timeout that yields a local 408), answers incoming requests,
//     reassembles chunked messages and generates REPORTs (RFC 4975 §7.1.2).
//   - [Session], [Dial], [Listener]: the binding of one session to a
//     connection, active (the first request is an empty SEND, as the
//     reference SDK does) or passive (incoming connections are matched by
//     the session-id of the To-Path, RFC 4975 §5.4).
//   - [RelayClient]: AUTH with digest to an RFC 4976 relay; its Use-Path
//     is prepended to the local path.
//
// Vendors of chat, file transfer or desktop sharing streams implement
// [Handler] to receive messages and call [Session.Send] with an io.Reader.
package msrp
