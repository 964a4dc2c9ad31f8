// Package streamtest is the conformance suite of the sipstreams plugin
// contract: every stream plugin, ours and vendors', runs it with one call
// and learns whether a host can drive its streams as the reference's
// IMediaStream is driven.
//
// The plugin talks to itself. For each stream type, stream A (made with
// Create, the outgoing side) offers and stream B (made with NewFromSDP on
// A's offer, the incoming side) answers; the suite plays both sessions,
// building the session descriptions (v=, o=, s=, c=, t=) around the media
// sections the streams return, and reads the plugin's notifications in one
// goroutine, keeping a log per stream.
//
// A vendor calls it from a test in the plugin's package:
//
//	func TestConformance(t *testing.T) {
//		streamtest.Run(t, myplugin.Plugin())
//	}
//
// and, to test the built binary as a host starts it:
//
//	func TestConformanceBinary(t *testing.T) {
//		bin := streamtest.Build(t, "..", "test") // the plugin's main package
//		streamtest.RunBinary(t, bin)
//	}
//
// Build compiles a plugin's main package; Exec runs a binary as a person
// would (without the host's handshake cookie); Describe checks what
// `PLUGIN describe` prints and that the binary refuses to run without a
// host, and returns the manifest for the vendor's own checks.
//
// Run runs the suite twice: "in-process" (sdk.NewProvider, then a goroutine
// leak check with go.uber.org/goleak once the provider is closed) and "grpc"
// (the same plugin behind the real gRPC client and server, so errors and
// notifications cross the contract's conversions). RunBinary starts a plugin
// binary through go-plugin, written in any language (a Python plugin made
// with sdk/python is one executable file too), after checking the handshake
// and the health service a host relies on; CheckBinary does the same outside
// `go test` and returns a Report (`sipstreams plugins check` prints it).
// RunProvider runs the suite against any
// sdk.Provider. Options set the account, the local address (IPv4 or IPv6),
// Create parameters per type (a file transfer needs a file selector), the
// timeout of each wait and call, and which types to test.
//
// # What the suite checks
//
// Plugin-wide:
//
//   - manifest: Describe answers, Manifest.Validate accepts the manifest and
//     every type has a media in its match rule.
//   - malformed-sdp: NewFromSDP refuses garbage, a truncated description, an
//     empty one and an m-line index out of range with sdk.ErrInvalidStream,
//     and an m-line that no type of the plugin claims with
//     sdk.ErrUnknownStream (testdata/*.sdp, embedded in the package).
//   - errors: Create of an unknown type gives sdk.ErrUnknownStream, a
//     plugin-scope Invoke of an unknown method sdk.ErrUnknownMethod.
//
// Per stream type, each case with fresh streams:
//
//   - end-before-initialize: End right after Create gives either
//     MediaStreamWillEnd, MediaStreamDidEnd or a single
//     MediaStreamDidNotInitialize with a reason. A type whose Create returns
//     sdk.ErrNotImplemented (an incoming-only type) is logged and its other
//     cases are skipped.
//   - end-during-initialize: End right after Initialize gives either
//     DidInitialize, WillEnd, DidEnd or a single DidNotInitialize with a
//     reason (reference §1.1).
//   - lifecycle: Create, Initialize, GetLocalMedia (offer), NewFromSDP,
//     Initialize, GetLocalMedia (answer), Start on both, Attributes, then
//     Deactivate and End on both. Each stream posts exactly
//     DidInitialize, DidStart, WillEnd, DidEnd; every media section parses
//     with sdk.ParseMedia and is admitted by the type's own match rule; after
//     End every call gives sdk.ErrStreamNotFound.
//   - hold (types with HoldSupported): A holds, B holds, A unholds, B
//     unholds, each by a re-offer from the side that changed; the offer and
//     answer directions of reference §3.5 (sendonly/recvonly, inactive both
//     ways, recvonly/sendonly, sendrecv), ValidateUpdate accepting each
//     re-offer without changing the hold flags, and on_hold_by_local and
//     on_hold_by_remote on both sides after each step.
//   - reinvite-add-remove: a second pair, C and D, is added to a running
//     call by a two-m-line re-offer and removed by another one with its
//     m-line at port 0; A and B accept both updates and keep working, C and
//     D start and end cleanly.
//   - reset: B is reset as for a re-INVITE without SDP, offers afresh, A
//     answers, both update and keep working.
//   - errors: a stream's Invoke of an unknown method gives
//     sdk.ErrUnknownMethod.
//   - end-during-start: A is ended right after Start; it posts WillEnd then
//     DidEnd (DidStart or DidFail may come first) and nothing afterwards.
//   - quiet-after-end: no stream the cases made posted anything, of any
//     name, after its MediaStreamDidEnd (or an "Interrupted"
//     MediaStreamDidNotInitialize): the host forgets a stream's handle there.
//
// No case posts MediaStreamDidFail unless it says so. A type may post its own
// notifications anywhere: sequences are checked on the generic
// MediaStream* notifications only. Every call into the plugin and every wait
// for a notification is bounded by the timeout (10 s by default); a call
// that ignores its context fails the case instead of hanging the test.
//
// # Waiting for notifications in a plugin's own tests
//
// Recorder is the suite's record of notifications, for a plugin's own
// tests: Record subscribes to a provider, or a Recorder is given directly
// to a stream as its Notifier. WaitFor, WaitCount and Wait wait for what a
// test expects, with the timeout as a deadline and without sleeping, and
// fail with the notifications recorded so far; a Cursor reads them in
// order, as a test that consumes them one by one does.
//
// Do not mark a test that calls Run with t.Parallel: the leak check would
// count the goroutines of the tests running beside it.
package streamtest
