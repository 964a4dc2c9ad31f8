// Package iscomposing implements the message composition indication of
// RFC 3994: the application/im-iscomposing+xml document a chat peer sends
// to say the user is typing ("active") or has stopped ("idle"), and the
// timing rules both ends follow.
//
// # Documents
//
// [Document] is one indication (RFC 3994 §4): State, LastActive, ContentType
// and the Refresh interval in seconds. [Parse] reads one, checking the root
// element and namespace (urn:ietf:params:xml:ns:im-iscomposing) and the state
// value; [Document.Marshal] writes the children in the order state,
// lastactive, contenttype, refresh, as the reference SDK does.
//
// # Timing
//
// The rules of RFC 3994 §3 are two small state machines with an injected
// clock ([WithClock]); neither starts a goroutine. The owner calls a method
// when something happens and calls Tick at the time Next returns:
//
//   - [Sender] is the local user's side: [Sender.Typed] on every keystroke
//     goes active (and returns the document to send), Tick goes idle after
//     15 s without typing (§3.2) and refreshes an active state every refresh
//     interval (120 s by default), and [Sender.Sent] returns to idle silently
//     when the message itself is sent.
//   - [Receiver] is the remote user's side: [Receiver.Received] applies an
//     indication, an active state expires after its refresh interval (120 s
//     when the document has none, §3.3), and [Receiver.MessageReceived] goes
//     idle when the content arrives.
package iscomposing
