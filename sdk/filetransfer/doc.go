// Package filetransfer is the caller's contract of the "file-transfer"
// stream type: the reference's FileTransferStream, a file pushed or
// pulled over MSRP (RFC 4975) as RFC 5547 describes it, served by the
// sipstreams-plugin-filetransfer plugin.
//
// A host creates a file transfer like any other stream, with [Params] as
// the constructor parameters (sdk.CreateRequest.Params): [Push] sends a
// file (the stream is sendonly; it hashes the file before the offer,
// posting [HandlerHashProgress]), [Pull] asks the peer for one (recvonly).
// An incoming m=message line with a=file-selector is a file transfer (the
// type's priority, 10, is above chat's); the host gives such a stream what
// it needs before accepting it — [SetSaveDirectory] for a file pushed to
// us, [SetFile] for a file a peer pulls from us — and tells it why its
// session failed with [SetEndReason].
//
// [Selector] is a=file-selector ([ParseSelector], Selector.String): name,
// MIME type ([GuessType]), size and SHA-1 [Hash], written in the
// reference's order with only the fields present.
//
// The stream answers with the reference's FileTransferHandler
// notifications, whose names and data structs are defined here:
// [HandlerDidInitialize], [HandlerDidNotInitialize] ([ReasonData]),
// [HandlerDidStart], [HandlerProgress] ([ProgressData], at most every
// [ProgressInterval]), [HandlerHashProgress] ([HashProgressData]),
// [HandlerError] ([ErrorData]) and [HandlerDidEnd] ([DidEndData]), which
// every stream that initialized posts exactly once: with Error false when
// the receiver confirmed every byte (sender) or the file is saved with the
// announced hash (receiver), else with the reason ([ReasonRefused],
// [ReasonHashMismatch], [ReasonInterruptedTransfer], …).
//
// A transfer interrupted part-way is resumed: the receiver keeps what it
// has (under [PartialDir] of its directory, for [ResumeValidity]) and
// answers the sender's FILE_OFFSET ([MethodFileOffset]) with the bytes it
// has, from which a new session's transfer of the same file (same hash)
// goes on.
package filetransfer
