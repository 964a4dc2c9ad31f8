// Package notify is the notification center of the SIP SIMPLE client
// framework. It mirrors the NotificationCenter of the Python sipsimple
// reference implementation: components post notifications, identified by a
// name and a sender, and observers subscribe to the notifications they care
// about.
//
// # Concepts
//
// A [Notification] carries
//
//   - Name: what happened. Names are taken verbatim from the reference
//     implementation, for example "SIPSessionDidStart",
//     "SIPSessionDidEnd" or "MediaStreamDidFail", so that code and
//     documentation written against sipsimple translate directly.
//   - Sender: the object the event happened to (a session, a stream, an
//     account, ...). Senders are compared with ==, so they are normally
//     pointers. A nil Sender means "no particular sender".
//   - Time: when the notification was posted; [Center.Post] fills it in when
//     it is zero.
//   - Data: the notification's payload. Each notification name has its own
//     typed struct (defined by the package that posts it) instead of the
//     reference's untyped NotificationData; Data is nil for notifications
//     without a payload.
//
// An [Observer] subscribes to a [Center] with a name and a sender, each of
// which may be a wildcard:
//
//   - name "" matches every notification name;
//   - sender nil matches every sender.
//
// So Subscribe(o, "SIPSessionDidStart", nil) observes every session start,
// Subscribe(o, "", session) observes everything a particular session posts,
// Subscribe(o, "SIPSessionDidEnd", session) observes only that session's end
// and Subscribe(o, "", nil) observes everything.
//
// Sender matching uses ==. A sender whose dynamic type is not comparable
// (a map, a slice, a func, or a struct containing one) never panics: such a
// comparison is treated as "not equal". A notification with an uncomparable
// sender therefore reaches only subscriptions with a nil (wildcard) sender,
// and a subscription with an uncomparable sender matches nothing.
//
// # Delivery
//
// Delivery is asynchronous. Every subscription owns an unbounded FIFO queue
// and exactly one goroutine that delivers from it, so:
//
//   - [Center.Post] never blocks on observers and never drops a
//     notification;
//   - each subscription receives notifications in the order in which Post
//     calls were serialised (for one posting goroutine, the order of its
//     calls), and all subscriptions see the same relative order;
//   - a slow or blocked observer delays only its own subscription, never the
//     poster or other observers;
//   - a subscription only receives notifications posted after Subscribe
//     returned;
//   - an observer that panics is recovered, the panic is logged through the
//     logger given with [WithLogger], and delivery continues with the next
//     notification.
//
// Observers may call Post, Subscribe and the unsubscribe function from
// inside HandleNotification. They must not call [Center.Close] or
// [Center.Flush] on the center that is delivering to them: both wait for
// deliveries, including the one in progress.
//
// # API
//
//   - [New] creates a center; [Default] returns a process-wide instance,
//     created lazily (the singleton role NotificationCenter() plays in the
//     reference). Prefer explicit centers where possible; they are cheap.
//   - [Center.Post] posts a notification.
//   - [Center.Subscribe] registers an observer and returns its unsubscribe
//     function.
//   - [Center.Flush] waits until everything posted before it has been
//     delivered, which makes tests and orderly shutdown deterministic.
//   - [Center.Close] delivers what is already queued, stops all delivery
//     goroutines and turns Post into a no-op.
//   - [Recorder] is a ready-made Observer that records notifications and lets
//     tests wait for, and assert on, notification sequences.
package notify
