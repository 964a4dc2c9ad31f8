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
//   - [URI], [ParseURI], [NewSessionID]: addressing (RFC 4975 §6), with
//     §6.1 equality in [URI.Equal].
//   - [Message], [Reader], [Message.Marshal]: the wire format (RFC 4975 §7,
//     §9). The Reader streams bodies without buffering them, so a large
//     chunk costs constant memory; a malformed request leaves it usable
//     (the *ParseError carries the transaction id to answer 400 or 413).
//   - [Conn]: one TCP or TLS connection carrying many sessions. A writer
//     goroutine interleaves the chunks of outgoing messages (Config.ChunkSize,
//     2048 bytes by default as in the reference) with responses and
//     REPORTs; Send blocks once Config.MaxActiveSends messages are in
//     flight. Transactions time out after Config.ResponseTimeout (30 s) with
//     a local 408. Incoming requests are answered per RFC 4975 §7.2 (none
//     for Failure-Report: no, failures only for partial; REPORTs never),
//     chunks are reassembled by Message-ID and Byte-Range, and REPORTs are
//     generated when asked for (§7.1.2); a chunk refused after others of
//     its message were accepted gets a failure REPORT besides its
//     response. [Outgoing.SingleChunk] sends a message as one SEND, as the
//     reference's chat does; such messages leave in the order of their
//     Sends, so a sender can pipeline them without waiting for each
//     response. The writer buffers what it has to write at once (a burst
//     of responses, REPORTs or small messages goes out in one write)
//     and flushes before it waits. Idle sessions send the reference's
//     keep-alive empty SEND.
//   - [Session], [Dial], [Listener]: binding a session to a connection.
//     The active side sends an empty SEND first and waits for its 200 (the
//     reference SDK's behaviour); a refusal is a [BindError] naming the
//     peer and its status. The passive side matches the session-id of the
//     To-Path to a session registered with [Listener.Prepare] or
//     [Conn.Expect] and answers 481 to unknown ones (RFC 4975 §5.4).
//     [SessionOptions.VerifyPeer] authenticates the connection before a
//     session binds to it (an SDP a=fingerprint, RFC 8122, checked
//     against [Conn.ConnectionState]); the passive side answers a refused
//     peer 403.
//   - [ConnectRelay], [Relay]: AUTH with digest to an RFC 4976 relay; its
//     Use-Path is prepended to the local path and to outgoing To-Paths.
//     Package msrptest has a relay on loopback to test against.
//   - [Setup], [AnswerSetup], [OffererConnects]: who connects, from SDP
//     a=setup (RFC 4145, RFC 6135).
//   - [RawSender]: SENDs written straight to a session's connection, one
//     whole message each (Byte-Range 1-n/n, Success-Report no,
//     Failure-Report partial), nothing queued — for streams that drive
//     MSRP themselves, as the reference's desktop sharing does
//     (sdk/msrpstream.Raw). [Config.ReadBufferSize] lets such a stream
//     read the connection in larger pieces.
//
// Stream vendors (chat, file transfer, desktop sharing) implement
// [Handler] — or fill a [HandlerFuncs] — to receive chunks as streams and
// completed-message notifications, and call [Session.Send] with an
// io.Reader. A handler chooses the comment of the response or REPORT its
// status causes with [Chunk.ResponseComment] and [Completion.ReportComment]
// (the reference's chat says 413 "Unwanted Message"). [Session.Request]
// sends a bodiless request of another method — NICKNAME with Use-Nickname
// (RFC 7701, [QuoteString]) — and returns its response, or the local 408. Handlers run on the connection's reader goroutine, which
// gives natural back-pressure to a fast sender. [Config.Trace] sees every
// byte for MSRPTransportTrace-style logging.
//
// References:
//   - RFC 4975, The Message Session Relay Protocol: https://www.rfc-editor.org/rfc/rfc4975
//   - RFC 4976, Relay Extensions for MSRP: https://www.rfc-editor.org/rfc/rfc4976
//   - RFC 6135, An Alternative Connection Model for MSRP: https://www.rfc-editor.org/rfc/rfc6135
//   - RFC 7701, Multi-party Chat Using MSRP (NICKNAME): https://www.rfc-editor.org/rfc/rfc7701
package msrp
