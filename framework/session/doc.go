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
// An INVITE without SDP is offered with no streams: the application
// accepts it with streams of its own, which make our offer in the 2xx
// (the ACK carries the answer). A request for a user no account serves
// ([Config.AccountFor] finds none) gets 404; beyond [Config.MaxSessions]
// live sessions 503 with Retry-After; an offer with more m-lines than
// [Config.MaxMediaLines] 488. Past its capacity the manager refuses new
// INVITEs 503 with Retry-After at once, judged by its own setup delay
// ([Config.MaxSetupDelay], overload.go; [Manager.OverloadStats]), and an
// offer whose streams are refused only because their plugin is at a
// resource limit (sdk.ErrBusy) gets 503 with Retry-After rather than 488.
// An in-dialog MESSAGE is answered 200 and posted as SIPSessionGotMessage.
// [Manager.NewSession] makes an outgoing session; [Manager.Close] ends
// every session and waits for them (the reference's stop).
//
// # One loop per session
//
// Each [Session] runs one goroutine, its loop, that owns its state. SIP
// requests and responses, transaction outcomes, timers, its streams'
// events and the calls of its methods are messages to that loop, handled
// one at a time; nothing decides an order with sleeps, polls, flags or
// barrier mutexes. Requests go out from goroutines of their own (a TCP
// connect must not stall the loop) whose responses come back as messages.
// The public methods return once the loop has acted on the call; their
// outcomes are notifications, as in the reference.
//
// What is in progress (the session's start, an offer/answer either way,
// its end) is the loop's current operation. A message that cannot be
// handled during it waits in order until it is over: a BYE or an in-dialog
// request that comes while the streams still start (the session starts,
// then acts on it), a hold asked during a proposal (§2.7: it is sent
// afterwards), a stream that fails while an offer/answer is in flight, a
// re-INVITE right behind the ACK of the previous one. A BYE or End during
// a re-INVITE ends the session at once, closing an open proposal with
// SIPSessionHadProposalFailure("session ended").
//
// A stream's own events (start, failure, end) reach its session directly
// through [Stream.Observe]; the notification center is for observers, not
// for control.
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
// reference's order; the flows of cmd/host's TestFlows assert them. The
// three proposal notifications the seed API names differently are posted
// under both names (see [SeedAlias]).
//
// # Conferences
//
// RFC 4579 and RFC 4575, reference §2.9. [AsFocus] (the seed's is_focus)
// given to [Session.Connect] or [Session.Accept] puts ;isfocus in our
// Contact: we say we are a conference focus. A peer whose Contact (in its
// INVITE or its answer) carries isfocus is a remote focus
// ([Session.RemoteFocus]); once such a session started it SUBSCRIBEs to
// the focus's Event: conference at the remote identity, refreshed within
// the account's sip.subscribe_interval ([DefaultSubscribeInterval]),
// retried after the reference's waits and given up on 405, 406 or 489.
// Each conference-info NOTIFY is applied to the state kept so far (full
// or partial, see framework/conference) and posted as
// SIPSessionGotConferenceInfo with the whole state
// ([Session.ConferenceInfo] returns it); one that cannot be read is
// answered 400 and posted as SIPSessionConferenceInfoDidFail, the state
// unchanged. [Session.AddParticipant] and [Session.RemoveParticipant]
// send the focus an out-of-dialog REFER with Refer-To ;method=INVITE or
// ;method=BYE; its NOTIFYs post SIPConferenceGot…ParticipantProgress per
// sipfrag below 300 and SIPConferenceDid…Participant when the
// subscription ends, a refusal or a failure sipfrag
// SIPConferenceDidNot…Participant with the code (0 when the remote is no
// focus or the session ended first). The chat stream learns from the
// sdk.SessionInfo its start carries that the peer is a focus.
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
// with Reason "Missing ACK" and fails. An unanswered INVITE is CANCELled
// after the account's sip.invite_timeout ([Config.InviteTimeout] when the
// account does not say), and abandoned if even the CANCEL gets no answer.
// Glare on a re-INVITE (491) is retried after RFC 3261's random back-off,
// the peer's own re-INVITE being served meanwhile. An incoming re-INVITE
// without SDP resets the streams and re-offers. A stream that fails
// (MediaStreamDidFail, a crashed plugin) ends the session, or is removed
// by re-INVITE when others remain, as the reference does (§2.5).
package session
