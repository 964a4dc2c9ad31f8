// Package outbox keeps a chat stream's outgoing messages from
// send_message to their outcome, and turns each step into the reference's
// notifications:
//
//   - [Outbox.Add] queues a message (send_message returns its ID at once),
//     [Outbox.AddAll] several at once (send_messages); the stream's sender
//     takes them in order with [Outbox.Take] once the stream has started,
//     waking on [Outbox.Ready]. It sends a message before the previous
//     ones have their outcome (pipelining), so the events below of
//     different messages interleave.
//   - [Outbox.Sent]: the message was handed to the MSRP connection, with
//     its size → ChatStreamDidSendMessage.
//   - [Outbox.Result]: the transaction response; a failure →
//     ChatStreamDidNotDeliverMessage with its code and comment (a local 408
//     on timeout included); 200 waits for the REPORTs.
//   - [Outbox.Report]: a REPORT on a byte range of the message. A failure
//     status → ChatStreamDidNotDeliverMessage with its code and comment;
//     Status 200 counts its bytes, and once success REPORTs have covered
//     every byte of the message → ChatStreamDidDeliverMessage. A peer that
//     confirms part of a message and refuses the rest has not received it.
//   - [Outbox.Close]: the stream ended or failed; every message still
//     queued or waiting for its outcome → ChatStreamDidNotDeliverMessage with
//     code 0 and the reason given ("Stream ended").
//
// Each tracked message gets exactly one final notification, whatever order
// the events come in. Messages added untracked (is-composing indications,
// sent without reports) get no notification at all. An Outbox is safe for
// concurrent use and starts no goroutine.
package outbox
