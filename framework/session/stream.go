package session

import "github.com/sipstreams/sipstreams/sdk"

// Stream is a media stream as a Session drives it: the IMediaStream calls
// plus its type. The registry's host-side proxies (*registry.Stream) satisfy
// it, and so can an in-process stream wrapped by the application.
type Stream interface {
	sdk.Stream
	// Type is the stream type ("audio", "chat", "echo", …).
	Type() string
	// HoldSupported tells whether the type supports hold.
	HoldSupported() bool
}
