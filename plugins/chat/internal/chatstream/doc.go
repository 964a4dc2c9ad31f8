// Package chatstream is the "chat" stream type of sipstreams-plugin-chat:
// the reference's ChatStream, session-based instant messaging over MSRP
// (RFC 4975), built on the MSRP stream base of package sdk/msrpstream.
//
// [Plugin] declares the type (m=message, TCP/MSRP or TCP/TLS/MSRP,
// priority 1). A stream embeds *msrpstream.Base, which runs SDP, the
// connection role, the MSRP connection and the generic lifecycle, and adds
// what is particular to chat:
//
//   - NewFromSDP refuses an m=message line that is not sendrecv or whose
//     accept-types do not overlap ours (sdk.ErrInvalidStream), as the
//     reference does.
//   - Invoke serves send_message, send_messages and
//     send_composing_indication (the arguments and results of package
//     sdk/chat). Messages are queued in an outbox ([outbox.Outbox]) and a
//     sender goroutine, started when the session is up, sends them in
//     order, each as one SEND (msrp.Outgoing.SingleChunk) of at most
//     chat.max_message_size bytes, pipelined: up to chat.send_window
//     messages await their transaction responses at once.
//     DidSendMessage, DidDeliverMessage and DidNotDeliverMessage follow the
//     transaction responses and REPORTs (delivered once success REPORTs
//     cover every byte).
//     When the stream fails or ends, every message still queued or
//     unacknowledged gets DidNotDeliverMessage (code 0, "Stream ended"):
//     the stream watches the base's own notifications for that, through the
//     Env it gives the base.
//   - Incoming SEND chunks of a content type outside our accept-types are
//     refused with 415 at once; others are reassembled by the stream's
//     inbox, with memory following the bytes received, never the offsets
//     claimed, up to chat.max_message_size per message and
//     chat.max_reassembly_memory for all the plugin's streams (beyond
//     either, 413), and
//     decoded by package payload: a message gives ChatStreamGotMessage, an
//     indication ChatStreamGotComposingIndication; an unwanted wrapped type
//     gives a 413 REPORT and a CPIM parse error a 400 REPORT, and the stream
//     keeps going, as the reference's does.
//
// The stream owns one goroutine besides the Base's: the sender. It hands
// the messages to the MSRP session one after another without waiting for
// their responses: msrp.Conn writes SingleChunk messages whole, in the
// order of their Sends, so they arrive in order (TCP keeps it), and their
// responses come back in that order, which the sender reads oldest first.
// A transaction that ends without a response means the connection is
// going: the sender stops and leaves the messages to the stream's failure
// or end. End stops it and waits for it.
package chatstream
