// Package sdk is what a sipstreams stream vendor imports: the plugin
// contract between the host and a plugin binary, and the helpers that every
// stream type would otherwise write for itself.
//
// # The contract
//
// A vendor declares a Plugin (its stream types with their factories and
// match rules, and plugin-scope methods) and passes it to Serve from main.
// Each stream implements Stream, the Go form of the reference's
// IMediaStream (sipsimple.streams): Initialize, GetLocalMedia, Start,
// ValidateUpdate, Update, Hold, Unhold, Deactivate, End, Reset, Attributes
// and Invoke, with request and response structs, and embeds
// UnimplementedStream for forward compatibility. Outcomes are
// notifications posted through the stream's Env (MediaStreamDidInitialize,
// MediaStreamDidStart, …). The host drives a plugin through Provider,
// whether the plugin runs in-process (NewProvider, as tests do) or behind
// go-plugin's gRPC boundary; errors cross it intact (ErrInvalidStream,
// ErrIllegalState, …, with errors.Is).
//
// # Helpers for stream types
//
// What the reference's streams share, a stream type gets from the SDK:
//
//   - Lifecycle: the stream's state, the outcome notifications of
//     Initialize and Start, failures (a transport closing is one unless
//     Deactivate or End came first), the goroutines the stream owns, and
//     End's notifications: MediaStreamDidNotInitialize "Interrupted" before
//     initialization finished, else MediaStreamWillEnd then
//     MediaStreamDidEnd with the last failure, once.
//   - MediaDirection and HoldState: the SDP direction rules of reference
//     §3.5 (OfferDirection, AnswerDirection, NegotiatedDirection,
//     HoldFlags, old-style holds with RemoteDirection) and the hold flags
//     they imply, posted as HoldStateData on each change.
//   - SDP: MediaAt, OfferMediaAt (a NewFromSDP request's m-line, on the
//     provider's parse in NewFromSDPRequest.Offer: the offer is parsed once
//     in a plugin), ParseEndpoint (where a UDP-based remote sends from),
//     Connection, MarshalMedia and LocalMediaResponse.
//   - Methods: DecodeArgs (no arguments and JSON null give the zero value,
//     for every method), HandleInvoke for a stream's Invoke, Method for a
//     plugin-scope method; callers use Call.
//   - Attributes: HoldState.Attributes or NewAttributes build them,
//     ReadAttributes decodes a type's own on the caller's side.
//
// Package streamtest is the conformance suite every plugin runs, and holds
// the notification Recorder plugin tests wait on.
package sdk
