// Package session is the reference's Session and SessionManager
// (shared/reference/sipsimple-behaviour.md §2): SIP INVITE sessions whose
// media are stream plugins, driven through the registry's proxies.
//
// # Manager
//
// [NewManager] registers the INVITE, ACK and BYE handlers on the engine
// ([Config.Signalling]) before it starts. An incoming INVITE becomes a
// [Session] in the incoming state: its offer is dispatched to the stream
// plugins ([Config.Streams], the registry's NewFromSDP), and
// SIPSessionNewIncoming is posted with the streams that accepted an
// m-line. An offer nothing accepts is answered 488; malformed SDP 400; an
// in-dialog request for no dialog 481; a re-INVITE during another 491.
// [Manager.NewSession] makes an outgoing session; [Manager.Close] ends
// every session and waits for them (the reference's stop).
//
// # Session
//
// The methods are the reference's, Go-cased: [Session.Connect] (INVITE,
// provisional responses, 2xx with ACK, CANCEL on End before an answer,
// sip.invite_timeout), [Session.SendRingIndication], [Session.Accept],
// [Session.Reject], [Session.End]; re-INVITE proposals
// [Session.AddStreams], [Session.RemoveStreams], [Session.CancelProposal]
// (CANCEL, 487), [Session.AcceptProposal], [Session.RejectProposal]; and
// [Session.Hold] / [Session.Unhold], which re-INVITE with each stream's
// direction as §3.5 says. Its attributes (state, direction, transport,
// start and end time, on-hold, remote user agent, identities, streams,
// proposed streams, subject) have getters.
//
// Every SIPSession* notification of the reference is posted with the
// *Session as sender and a typed data struct (notifications.go), in the
// reference's order; the flows of cmd/host's TestFlows assert them.
//
// # Offer and answer
//
// RFC 3264: a session's o= line keeps its id and bumps its version per
// description sent; every media section's c= becomes the local address
// unless the stream uses ICE; an offered m-line no stream accepts is
// answered with a copy holding port 0; an answer must match the offer's
// m-lines. Streams get the SDP through sdk.Prepare (create, initialize and
// local media in one round trip) and are started once both descriptions
// are known.
//
// # Timers and failures
//
// The 2xx to an INVITE is retransmitted over UDP from T1 ([Config.TimerT1])
// until its ACK arrives; after 64·T1 without one the session sends a BYE
// with Reason "Missing ACK" and fails. Glare on a re-INVITE (491) is
// retried after RFC 3261's random back-off. An incoming re-INVITE without
// SDP resets the streams and re-offers. A stream that fails
// (MediaStreamDidFail, a crashed plugin) ends the session as the reference
// does.
package session
