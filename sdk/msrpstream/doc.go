// Package msrpstream is the base MSRP media streams are built on: the Go
// counterpart of the reference's MSRPStreamBase, shared by chat, file
// transfer and desktop sharing, and open to vendors with MSRP streams of
// their own.
//
// # SDP
//
// [Media] is an MSRP media section (RFC 4975 §8 with the a=setup of
// RFC 6135): m=message with TCP/MSRP or TCP/TLS/MSRP and the format "*",
// c=, a=path, a=accept-types, a=accept-wrapped-types, a=setup,
// a=fingerprint (RFC 8122, [Fingerprint], [ParseFingerprint]), a=max-size,
// the direction and the stream type's own attributes. [Media.Build] and
// [Media.Marshal] write the local one; [FromSDP] and [ParseMediaAt] read the
// remote one; [Media.Validate] refuses an offer the reference refuses (another
// protocol than the account's msrp.transport, no a=path, a path URI of the
// other scheme) with an error wrapping sdk.ErrInvalidStream that names the
// reason. [Accepts] matches a content type against accept-types wildcards.
//
// # Connection roles
//
// Which end opens the TCP connection is decided in two steps, as in the
// reference: [DecideRole] at initialization, from the account (peer-to-peer
// or not, connection model, relay) and, when answering, the offer's a=setup;
// then, for the offerer, [ResolveAnswer] once the answer's a=setup is known.
// The result is a [Role]: [Dial], [Listen] or [Relay], with the a=setup to
// advertise.
//
// # Base
//
// [Base] implements sdk.Stream's lifecycle for an MSRP stream, as the
// reference's MSRPStreamBase does, so that a vendor writes only what is
// particular to its type. A vendor's NewFromSDP calls [NewFromSDP] (which
// checks the offer), its Create calls [New]; it passes a [Config] (media
// type, accept-types, direction, its own SDP attributes) with a [Handler]
// holding one hook per MSRP method, embeds the *Base in its stream, and adds
// Invoke and Attributes. Base.Send sends on the session once
// MediaStreamDidStart has been posted. A type that must do something
// long before its connection is set up (the file transfer hashes its
// file) gives Config.Prepare, run by Initialize on a goroutine of the
// stream; a quick setup of its own (desktop sharing's viewer port) goes
// in Config.PrepareLocked, run with the Base's lock held right before the
// connection setup; attributes known only then are given with
// Base.SetAttributes, and a failure of the type's own protocol is posted
// with Base.Fail.
//
// The Base owns at most one goroutine per stream, started by Start to
// connect (or wait for the peer) and then to watch the session; End stops it
// and waits for it, and closes the session and the listener.
//
// Settings read from the account: msrp.transport (tls|tcp, [TransportSetting]),
// msrp.connection_model (relay|acm), nat_traversal.msrp_relay,
// nat_traversal.use_msrp_relay_for_outbound, account.peer_to_peer, and
// the tls.* settings ([TLSSettings]: tls.certificate, tls.private_key,
// tls.ca_list, tls.verify_server yes|no, default yes), and auth.username /
// auth.password.
//
// # Raw mode
//
// [Raw] is a Base whose stream drives MSRP itself, the reference's MSRP
// streams without an MSRPSession (use_msrp_session=False, its desktop
// sharing): [Raw.Write] sends each buffer as one whole SEND with a fresh
// Message-ID, Byte-Range 1-n/n, Success-Report no and Failure-Report
// partial (msrp.RawSender), returning once it is in the socket, so a peer
// that does not read blocks the writer instead of growing a queue; incoming
// SENDs of the [RawConfig] accept-types reach RawConfig.Receive in order on
// the connection's reader (a slow Receive slows the peer down); other
// content types get 415 "Invalid Content-Type", other methods 501, and
// responses and REPORTs are dropped. [NewRawFromSDP] refuses, as not its
// own (sdk.ErrUnknownStream), an m-line whose accept-types have none of
// the raw type's. [Raw.Fail] fails the stream for the vendor's own reasons
// (a local socket that broke) with its notification first.
//
// # TLS and a=fingerprint
//
// Over TLS a stream presents one certificate, whichever side connects:
// tls.certificate, or a fresh self-signed one ([TLSSettings]). Its sha-256
// fingerprint goes into the SDP as a=fingerprint (RFC 8122), unless the
// stream waits behind a relay. When the remote SDP carries a=fingerprint
// and the connection is direct, the peer's certificate must match it
// ([CheckPeer]): the side that connects checks the server's during the
// TLS handshake, the side that accepts checks the client's when the
// binding SEND names the session (and answers 403 otherwise). A mismatch
// fails the stream (MediaStreamDidFail, context "start") with a reason
// that names both fingerprints ([FingerprintError], wrapping
// [ErrFingerprintMismatch]). This is how peer-to-peer accounts, with
// self-signed certificates, authenticate each other through the
// signalling. Without a=fingerprint the connecting side verifies the
// server's certificate against the system's roots plus tls.ca_list and the
// peer's address, unless tls.verify_server is no ([VerifyServer]).
//
// # Relays
//
// When the role is [Relay] (the relay connection model with
// nat_traversal.msrp_relay set, host[:port][;transport=tcp|tls], see
// [ParseRelay]), Initialize authenticates to the relay with the account's
// auth.username and auth.password (RFC 4976 AUTH, msrp.ConnectRelay); a
// refusal or an unreachable relay posts MediaStreamDidNotInitialize with a
// reason naming the relay. The local a=path is then the relay's Use-Path
// followed by our URI, and Start waits for the peer's binding SEND through
// the relay connection — or, for an actpass offer answered passive, binds
// through it. Without a relay the relay model listens, as [DecideRole]
// says. sdk/msrp/msrptest has a relay to test streams with.
package msrpstream
