package sdk

import "context"

// Stream mirrors the reference's IMediaStream. A plugin implements it for
// each stream instance; the host drives the same interface whether the stream
// lives in-process or behind the gRPC boundary.
//
// Calls to one stream are serialised by the SDK. Methods must return
// promptly: Initialize and Start report their outcome asynchronously through
// notifications (MediaStreamDidInitialize / MediaStreamDidNotInitialize,
// MediaStreamDidStart / MediaStreamDidFail), as in the reference.
type Stream interface {
	// Initialize joins the stream to a session; post MediaStreamDidInitialize
	// or MediaStreamDidNotInitialize.
	Initialize(ctx context.Context, req *InitializeRequest) error
	// GetLocalMedia returns the local m-line: an offer or an answer.
	GetLocalMedia(ctx context.Context, req *GetLocalMediaRequest) (*GetLocalMediaResponse, error)
	// Start starts the media after negotiation; post MediaStreamDidStart or
	// MediaStreamDidFail.
	Start(ctx context.Context, req *StartRequest) error
	// ValidateUpdate tells whether a re-INVITE's SDP is acceptable, without
	// changing any state.
	ValidateUpdate(ctx context.Context, req *ValidateUpdateRequest) (*ValidateUpdateResponse, error)
	// Update applies renegotiated SDP (hold, unhold, address change).
	Update(ctx context.Context, req *UpdateRequest) error
	// Hold puts the stream on hold locally; the next GetLocalMedia reflects it.
	Hold(ctx context.Context) error
	// Unhold takes the stream off local hold.
	Unhold(ctx context.Context) error
	// Deactivate is the first phase of teardown: the transport closing is
	// from now on normal, not an error.
	Deactivate(ctx context.Context) error
	// End closes the stream; post MediaStreamWillEnd then MediaStreamDidEnd
	// (or MediaStreamDidNotInitialize with reason "Interrupted" if called
	// before initialization finished).
	End(ctx context.Context) error
	// Reset is called when the remote re-INVITEs without SDP.
	Reset(ctx context.Context, req *ResetRequest) error
	// Attributes returns the hold flags and the type's own attributes.
	Attributes(ctx context.Context) (*Attributes, error)
	// Invoke calls a type-specific method (send_message, send_dtmf, …).
	Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error)
}

// DeactivateEnder is an optional interface of a Stream: DeactivateAndEnd
// does what Deactivate followed by End does (Deactivate's error ignored),
// in one step. The host's stream of a plugin of contract 1.3 or later
// implements it with one call instead of two; DeactivateAndEnd uses it.
type DeactivateEnder interface {
	DeactivateAndEnd(ctx context.Context) error
}

// DeactivateAndEnd deactivates st, then ends it: in one step when st is a
// DeactivateEnder. Deactivate's error is ignored (the stream is ended
// anyway); End's is returned.
func DeactivateAndEnd(ctx context.Context, st Stream) error {
	if de, ok := st.(DeactivateEnder); ok {
		return de.DeactivateAndEnd(ctx)
	}
	_ = st.Deactivate(ctx)
	return st.End(ctx)
}

// PrepareDeferrer is an optional interface of a stream built by
// NewFromSDP. When DeferPrepare reports true, a NewFromSDP asked to
// prepare the stream (NewFromSDPRequest.Prepare) leaves it unprepared (a
// zero Prepared): the session initializes it only when the application
// accepts it, after the application has seen it and given it what it needs
// — as the reference's file transfer is initialized by accept, once the
// application has named the file a peer asks for, or the directory to
// save one in.
type PrepareDeferrer interface {
	DeferPrepare() bool
}

// UnimplementedStream is embedded by stream implementations for forward
// compatibility. Mandatory methods return ErrNotImplemented; the others
// behave as the reference's streams without the feature do (hold is a no-op,
// every update is acceptable).
type UnimplementedStream struct{}

var _ Stream = UnimplementedStream{}

// Initialize returns ErrNotImplemented.
func (UnimplementedStream) Initialize(context.Context, *InitializeRequest) error {
	return Errorf(ErrNotImplemented, "Initialize")
}

// GetLocalMedia returns ErrNotImplemented.
func (UnimplementedStream) GetLocalMedia(context.Context, *GetLocalMediaRequest) (*GetLocalMediaResponse, error) {
	return nil, Errorf(ErrNotImplemented, "GetLocalMedia")
}

// Start returns ErrNotImplemented.
func (UnimplementedStream) Start(context.Context, *StartRequest) error {
	return Errorf(ErrNotImplemented, "Start")
}

// ValidateUpdate accepts every update.
func (UnimplementedStream) ValidateUpdate(context.Context, *ValidateUpdateRequest) (*ValidateUpdateResponse, error) {
	return &ValidateUpdateResponse{OK: true}, nil
}

// Update does nothing.
func (UnimplementedStream) Update(context.Context, *UpdateRequest) error { return nil }

// Hold does nothing (hold not supported).
func (UnimplementedStream) Hold(context.Context) error { return nil }

// Unhold does nothing (hold not supported).
func (UnimplementedStream) Unhold(context.Context) error { return nil }

// Deactivate does nothing.
func (UnimplementedStream) Deactivate(context.Context) error { return nil }

// End returns ErrNotImplemented.
func (UnimplementedStream) End(context.Context) error { return Errorf(ErrNotImplemented, "End") }

// Reset does nothing.
func (UnimplementedStream) Reset(context.Context, *ResetRequest) error { return nil }

// Attributes reports a stream without hold support and no attributes of its own.
func (UnimplementedStream) Attributes(context.Context) (*Attributes, error) {
	return &Attributes{}, nil
}

// Invoke returns ErrUnknownMethod.
func (UnimplementedStream) Invoke(_ context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	return nil, Errorf(ErrUnknownMethod, "%q", req.Method)
}
