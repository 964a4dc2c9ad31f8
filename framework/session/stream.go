package session

import "github.com/sipstreams/sipstreams/sdk"

// Stream is a media stream as a Session drives it: the IMediaStream calls,
// its type, and the two things the host adds to a stream — the outcome of
// a fused preparation and the delivery of the stream's own events to its
// owner. The registry's host-side proxies (*registry.Stream) satisfy it,
// and so can an in-process stream wrapped by the application.
type Stream interface {
	sdk.Stream
	// Type is the stream type ("audio", "chat", "echo", …).
	Type() string
	// HoldSupported tells whether the type supports hold.
	HoldSupported() bool
	// Prepared is the outcome of sdk.Prepare (the zero value when the
	// stream was not built with it).
	Prepared() sdk.Prepared
	// Observe makes fn the receiver of the stream's own notifications
	// (MediaStreamDidStart, MediaStreamDidFail, …), in order, replaying
	// the generic ones posted before; nil stops the delivery. fn never
	// blocks: the session queues each event for its loop. This, not the
	// notification center, is how a session learns what its streams do.
	Observe(fn func(sdk.StreamEvent))
}
