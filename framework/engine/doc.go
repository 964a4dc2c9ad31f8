// Package engine is the SIP user agent of the sipstreams host: the part of
// the reference's Engine (sipsimple.core) that sends and receives SIP
// messages. It is a thin layer over github.com/emiago/sipgo, which
// provides the message parser and the transport and transaction layers of
// RFC 3261 §17-18; the engine adds what the framework needs around them:
//
//   - listening sockets for UDP, TCP and TLS (RFC 3261 §18, §26.2), IPv4
//     and IPv6, owned by the engine, bound by Start and released by Close;
//   - RFC 3263 §4 server location ("routes"): [Engine.Lookup] turns a SIP
//     URI into an ordered list of [Route]s with SRV and A/AAAA lookups,
//     the way the reference's DNSLookup.lookup_sip_proxy does;
//   - sending a request over a chosen route, from the listening socket of
//     its transport, with a User-Agent header and Via sent-by set to the
//     listening address (RFC 3261 §18.1.1, RFC 3581 rport); a request
//     routed over UDP that is larger than 1300 bytes goes over TCP to the
//     same address and port when the engine listens on TCP (§18.1.1; over
//     UDP after all if no TCP connection can be made), and its CANCEL
//     follows it; a response goes back over UDP whatever its size (the
//     engine lifts sipgo's 1300-byte limit on sending, sip.UDPMTUSize);
//   - building responses from requests, with a stable To tag per
//     transaction and a Contact on dialog-creating responses (RFC 3261
//     §8.2.6, §12.1.1);
//   - a SIP trace: with Config.Trace, every message sent or received is
//     posted to the notification center as "SIPEngineSIPTrace" with a
//     [TraceData], as the reference does with logs.trace_sip, SRTP keys
//     masked unless Config.TraceKeys;
//   - the checks of every inbound message and the bounds on connections
//     described below.
//
// # What the engine refuses before any handler
//
// Every message read is checked before sipgo's transaction layer sees it
// (RFC 3261 §8.2, §18.3, §20; the RFC 4475 torture messages are in
// testdata). A request that breaks the rules is answered statelessly by
// the engine and goes no further:
//
//   - 400 Bad Request, with a Warning saying why: a malformed Request-Line;
//     a missing, repeated or malformed Call-ID, CSeq, From, To or
//     Max-Forwards (above 255); a CSeq method other than the request's; a
//     From without tag; a Content-Length larger than the datagram, or
//     repeated; a Request-URI with headers; an addr-spec with headers
//     outside <>; a malformed Date; a header line that is not one; a
//     message sipgo cannot parse;
//   - 505 Version Not Supported for a SIP version other than 2.0 (always
//     answered in SIP/2.0);
//   - 416 Unsupported URI Scheme for a Request-URI other than sip: or sips:;
//   - 420 Bad Extension, with Unsupported, for a Require naming an option
//     tag not in Config.Supported (except on ACK and CANCEL);
//   - for an INVITE: 415 Unsupported Media Type (with Accept or
//     Accept-Encoding) for a body that is not plain application/sdp, 406
//     Not Acceptable for an Accept without application/sdp.
//
// A message that cannot be answered is dropped: a response or ACK that
// breaks the rules, a request without Via. Over UDP the answer goes to the
// source address, at the source port when the top Via has rport, else at
// the Via's port (RFC 3261 §18.2.2, RFC 3581). On TCP and TLS the engine
// frames the stream itself by Content-Length: a message without one, with
// two, with one that is not a number (400) or larger than 65535 bytes
// (413) is answered and the connection closed, since the next message
// cannot be found. White space around ';' and '=' in the parameters of
// From, To, Via and Contact, which RFC 3261 allows and sipgo's parser
// keeps in the names, is removed before sipgo sees the request.
//
// A request nobody handles gets the defaults of [Engine.OnRequest]; a
// method the engine does not know is answered 501 Not Implemented. A
// handler that panics is recovered: the request is answered 500, the
// panic logged with the request and counted in [Engine.Stats].
//
// # Bounds on connections
//
// A TCP or TLS connection is closed when nothing arrived on it for
// Config.IdleTimeout while no transaction sent or received on it is in
// progress, or when a message has been arriving for that long without
// being complete; an accepted TLS connection that has not finished its
// handshake within Config.TLSHandshakeTimeout is closed; an address that
// has Config.MaxConnectionsPerAddress accepted connections open has the
// next one closed at once. A write that the peer does not take within 10
// s fails. [Engine.Stats] counts what was refused.
//
// With Config.WaitReady, requests that arrive after Start wait for
// [Engine.Ready] (503 with Retry-After after 10 s), so that an application
// that registers its handlers once the engine listens never has a request
// meet the defaults.
//
// [Engine.SetAdmission] installs an admission function asked about every
// new INVITE, by its Call-ID, before the engine parses it: an INVITE it
// refuses is answered 503 with Retry-After at once, statelessly, from the
// header fields as written, and the ACK of that 503 is dropped as soon as
// it is read (the session manager's overload control; Stats.Overloaded
// counts the refusals). [Engine.SetAdmitted] installs a function told of
// each INVITE the admission function took once it has also passed the
// engine's checks, as it goes on to the transaction layer: the session
// manager counts it against its limit until its handler sees it.
//
// Sessions, dialogs, registration and subscriptions live above it, in the
// session and account packages.
//
// # API
//
// [New] takes a [Config] (the zero value listens on UDP and TCP on
// 127.0.0.1 with ephemeral ports). Handlers are registered per method with
// [Engine.OnRequest]; [Engine.Start] binds every [Listen] before it
// returns (so [Engine.Addrs] reports the real ports of ":0" listeners) and
// fails as a whole: a *ListenError naming the listener that could not be
// bound, or a *TLSError ([ErrTLS]) when "tls" listeners have no usable
// certificate, in which case the application posts
// SIPApplicationFailedToStartTLS and may start with [Config.WithoutTLS].
// [Engine.Close] stops everything and waits for it.
//
// Requests go out with [Engine.Request] (a client transaction) or
// [Engine.Write] (stateless: the ACK for a 2xx), each over a [Route] from
// [Engine.Lookup]; the caller tries the routes in order. [Engine.Client]
// returns the sipgo client for sipgo's dialog helpers: its requests take
// the same path, routed by Request-URI or top Route header. Incoming
// requests are answered with [Engine.Respond]. [Engine.Contact] and
// [Engine.ContactFor] give contact URIs on the listening addresses.
//
// # How the trace taps the wire
//
// sipgo has no per-message hook for both directions, and its debug switch
// (sip.SIPDebug) is a package-level global that logs. The engine instead
// owns every socket sipgo uses: it hands sipgo wrapped listeners (a
// net.PacketConn for UDP, a net.Listener whose connections are wrapped
// for TCP and TLS), sends UDP requests from the listening socket, and dials
// outgoing TCP and TLS connections itself, passing them to sipgo through a
// second listener that sipgo serves like the first. The wrappers see the
// plain bytes of every message (above TLS), post the trace, and add the
// User-Agent header to the messages sipgo writes on its own (100 Trying,
// the 200 to CANCEL and the 487 to the cancelled INVITE, the ACK for a
// non-2xx final response) so that every message carries it.
//
// # sipgo behaviour the session layer must know
//
//   - A request handler runs in a goroutine of its own, and sipgo
//     terminates its server transaction when the handler returns. An
//     INVITE handler must stay until it has sent its final response, and
//     every handler must return once tx.Done() is closed ([Engine.Close]
//     waits for handlers).
//   - Every incoming message is handed to the transaction layer in a new
//     goroutine, so two messages that arrive back to back can be
//     processed out of order: a 180 immediately followed by a 200 may be
//     overtaken and then dropped by the client transaction, and an ACK may
//     race a BYE. Do not rely on arrival order between transactions.
//   - The ACK for a 2xx is a transaction of its own (RFC 3261 §13.2.2.4,
//     §17.1.1.3): the UAC sends it with [Engine.Write]; the UAS receives it
//     through the handler registered for ACK (tx.Acks() only sees the ACK
//     of a non-2xx response, which sipgo sends and absorbs by itself). A
//     UAS that answers with [Engine.Respond] retransmits its 2xx until the
//     ACK arrives (RFC 3261 §13.3.1.4, RFC 6026): sipgo's transaction
//     layer does not (its DialogServerSession does).
//   - The UAC's INVITE transaction passes 2xx retransmissions to
//     tx.OnRetransmission, where the session re-sends its ACK.
//   - sipgo keeps an INVITE server transaction 64·T1 after its 2xx (RFC
//     6026's Accepted state, Timer L), with its request and response, to
//     absorb retransmissions of the INVITE. The engine keeps that state
//     itself, as a hash per INVITE answered 2xx through [Engine.Respond],
//     and drops such a retransmission before any handler
//     (Stats.Absorbed), so that a program may end the transaction with
//     its 2xx: [ReleaseAcceptedInvites], which the host calls. A CANCEL
//     after the 2xx then matches no transaction and gets 481 (RFC 3261
//     §9.2) where sipgo's Accepted state answered 200.
//   - A CANCEL matching a pending INVITE server transaction is answered by
//     sipgo itself (200 to the CANCEL, then 487 to the INVITE); the INVITE
//     handler learns it through tx.OnCancel and tx.Done() and must not
//     answer the INVITE afterwards. The 487 carries a To tag of sipgo's
//     choosing, not [Engine.LocalTag]. A CANCEL matching nothing gets 481.
//     A UAC builds its CANCEL with the INVITE's Via (same branch) and sends
//     it with [Engine.Request] over the INVITE's route.
//   - If the INVITE handler has not answered within 200 ms, sipgo sends
//     100 Trying.
//   - sipgo does no dialog matching for requests: in-dialog requests reach
//     the method's handler like any other, and requests for unknown
//     dialogs must be answered 481 by the session layer.
//   - A client transaction delivers responses on an unbuffered channel:
//     read tx.Responses() until the final response, and call
//     tx.Terminate() when done.
//   - Timers are sipgo's package-level values (sip.T1 = 500 ms, Timer B
//     and F = 32 s, ...). The engine changes none of them, except Timer L
//     through [ReleaseAcceptedInvites] when the program asks; a test that
//     needs shorter ones must not run in parallel with others.
//   - sip.NewResponseFromRequest draws a new To tag for every response;
//     [Engine.Respond] replaces it with [Engine.LocalTag] so that the 18x
//     and the 2xx of one transaction agree.
//   - A few debug lines of sipgo's connection reference counting go to
//     sip.DefaultLogger, that is slog.Default(), whatever Config.Logger is.
package engine
