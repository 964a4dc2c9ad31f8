// Package chat is the caller's contract of the "chat" stream type: the
// reference's ChatStream (session-based instant messaging over MSRP,
// RFC 4975, with the Message/CPIM wrapper of RFC 3862 and the is-composing
// indications of RFC 3994), as served by the sipstreams-plugin-chat plugin.
//
// A host creates a chat stream like any other (sdk.Provider.Create with
// [Type], or NewFromSDP for an incoming m=message line), then talks to it
// with the typed wrappers here, which marshal their arguments onto
// sdk.Stream.Invoke:
//
//   - [SendMessage] sends a message and returns its MSRP Message-ID at once.
//     Messages sent before MediaStreamDidStart are queued and go out in
//     order when the stream starts. The stream sends them pipelined, up to
//     [SettingSendWindow] ahead of their transaction responses, and in
//     order.
//   - [SendMessages] does the same for many messages with one call across
//     the plugin boundary (send_messages): for an application that sends
//     thousands a second.
//   - [SendComposingIndication] sends an is-composing indication.
//   - [SetLocalNickname] asks a conference focus for a nickname (an MSRP
//     NICKNAME request, RFC 7701); allowed only when the remote is a focus
//     whose a=chatroom offers [CapabilityNickname], as in the reference.
//
// The stream answers with notifications, whose names and data structs are
// defined here: [GotMessage] ([GotMessageData]), [DidSendMessage]
// ([DidSendMessageData]), [DidDeliverMessage] and [DidNotDeliverMessage]
// ([DeliveryData]), [GotComposingIndication] ([ComposingData]),
// [DidSetNickname] and [DidNotSetNickname] ([NicknameData]). Every
// message handed to SendMessage or SendMessages ends with exactly one
// DidDeliverMessage or DidNotDeliverMessage, including those still queued,
// in flight or unacknowledged when the stream ends or fails (code 0,
// reason "Stream ended").
//
// Whether a message is wrapped in CPIM follows the reference: CPIM is
// required for metadata (recipients other than the remote party, courtesy
// recipients, subject, timestamp, required headers, additional headers) and
// for content types the remote does not accept bare; it is used anyway
// whenever both ends accept message/cpim. SendMessage fails with an error
// wrapping sdk.ErrInvalidArgument when the remote accepts the content type
// in neither form, or when metadata is given but CPIM is not negotiated.
//
// [Identity] is the reference's ChatIdentity: a SIP URI and a display
// name, written `"Display" <sip:user@host>`; two identities are equal when
// their user and host are.
package chat
