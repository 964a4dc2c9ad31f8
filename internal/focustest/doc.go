// Package focustest is a conference focus (RFC 4579) for tests: a real
// SIP endpoint on loopback, written with sipgo and sdk/msrp, that the
// host's conference client (framework/session, reference §2.9) and chat
// stream are tested against.
//
// # What it does
//
// The focus mixes nothing; it keeps the conference's state and speaks
// every protocol a participant sees:
//
//   - INVITE: it answers with Contact ;isfocus (RFC 4579 §5.1), taking an
//     audio stream (RTP/AVP with PCMU or PCMA; the packets are read and
//     dropped) and a chat stream (MSRP over TCP or TLS, with a=fingerprint
//     for TLS), and refuses other m-lines with port 0; a caller with no
//     stream it takes gets 488. A BYE ends the participation.
//   - Chat: it is a real MSRP endpoint whose answer offers CPIM
//     (a=accept-types:message/cpim text/plain), a=accept-wrapped-types and
//     a=chatroom:nickname private-messages (RFC 7701 §7). NICKNAME gets 200
//     and the nickname is kept (425 when another participant has it, 400
//     when empty); it becomes the user's display-text in the conference
//     state and the From display name of what the participant says. A
//     message whose CPIM To names a participant (not the focus) is private:
//     it is relayed to that participant only, with its To kept; any other
//     message is relayed to every other chat participant.
//   - SUBSCRIBE Event: conference (RFC 4575): 200, then a full
//     conference-info NOTIFY, then partial ones as participants join,
//     change (dialing-out, alerting, connected, nickname) and leave
//     (state="deleted"). Versions count per subscription. Expires: 0 ends
//     the subscription with a terminated NOTIFY.
//   - Out-of-dialog REFER (RFC 4579 §5.5, §5.7): 202, then NOTIFYs of
//     message/sipfrag on the implicit refer subscription. Refer-To
//     ;method=INVITE dials the target out with an audio offer (sipfrag 100,
//     each provisional, then the final code, terminated); ;method=BYE sends
//     the participant a BYE (sipfrag 200, or 404 for someone not in the
//     conference, terminated). [Focus.RefuseRefers] makes it answer REFERs
//     with a failure code instead, [Focus.GarbleReferProgress] send one
//     NOTIFY with any body instead of their progress.
//
// # API for tests
//
// [Start] binds UDP (SIP), TCP and TLS (MSRP) on loopback and returns the
// running focus; [Focus.URI] is what to call. Everything the focus sees is
// recorded as an [Event] ([Focus.Events]); [Focus.Await] waits for one
// with a deadline, so a test never sleeps. [Focus.State] is the conference
// state it publishes; [Focus.NotifyRaw] sends a NOTIFY with any body on
// every conference subscription (a garbage one, to test a subscriber's
// refusal) and returns the subscribers' answers; [Focus.NotifyState] with
// any Subscription-State (a terminated one, to test re-subscribing). [Focus.Close] ends every
// dialog and waits for the goroutines it started.
//
// The focus is a test peer: it trusts what it is sent to be well formed
// enough, keeps one conference, and answers re-INVITEs 488.
package focustest
