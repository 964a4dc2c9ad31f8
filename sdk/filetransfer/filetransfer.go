package filetransfer

import (
	"context"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Type is the stream type name, Priority its dispatch priority and
// MediaType its m-line media (the reference's FileTransferStream). The
// priority is above chat's: both are m=message, and an m-line with
// a=file-selector is a file transfer (one without it is not, and falls
// through to chat).
const (
	Type      = "file-transfer"
	Priority  = 10
	MediaType = "message"
)

// AcceptTypes returns the stream's a=accept-types: any type, as the
// reference's; it has no accept-wrapped-types.
func AcceptTypes() []string { return []string{"*"} }

// SDP attributes of a file transfer m-line (RFC 5547 §6 and the
// reference's x-file-offset).
const (
	// AttrFileSelector describes the file (Selector).
	AttrFileSelector = "file-selector"
	// AttrFileTransferID names the transfer.
	AttrFileTransferID = "file-transfer-id"
	// AttrFileOffset, a flag, says "I take FILE_OFFSET": the sender asks
	// the receiver how much it has already before it sends.
	AttrFileOffset = "x-file-offset"
)

// MSRP extension of the reference for resuming: a FILE_OFFSET request
// (To-Path and From-Path only) is answered 200 with an Offset header
// giving the bytes the receiver already has.
const (
	MethodFileOffset = "FILE_OFFSET"
	HeaderOffset     = "Offset"
)

// Account settings read by the file transfer stream, besides those of
// the MSRP base (msrp.transport, msrp.connection_model, tls.*; see package
// msrpstream).
const (
	// SettingDirectory is where received files are saved; the default is
	// ~/Downloads, as the reference's.
	SettingDirectory = "file_transfer.directory"
	// SettingChunkSize is the size of the pieces a file is sent in, in
	// bytes (default DefaultChunkSize, the reference's file_part_size).
	SettingChunkSize = "file_transfer.chunk_size"
)

// DefaultChunkSize is the default of SettingChunkSize: 64 KiB.
const DefaultChunkSize = 64 << 10

// ResumeValidity is how long a partial file is kept for resuming: the
// reference's 7 days, counted from its last change.
const ResumeValidity = 7 * 24 * time.Hour

// PartialDir is the directory, inside the save directory, that holds the
// files being received and what is kept of interrupted ones (their data
// and metadata), so that they are renamed into place on the same file
// system once verified.
const PartialDir = ".sipstreams-partial"

// Params are the constructor parameters of a file transfer stream
// (sdk.CreateRequest.Params): the reference's FileTransferStream(
// file_selector, direction, transfer_id). Push builds those of a file to
// send, Pull those of a file to ask for.
type Params struct {
	// Direction is the local direction: sdk.SendOnly pushes the file at
	// Path, sdk.RecvOnly pulls the file Selector names (or receives it).
	Direction sdk.MediaDirection `json:"direction"`
	// Path is the file to send (sendonly).
	Path string `json:"path,omitempty"`
	// Selector describes the file. For a push, fields left empty are
	// filled in from the file (its name, size, type guessed from the name,
	// and its hash, computed during Initialize); for a pull it names the
	// file wanted (at least Name, or Hash).
	Selector Selector `json:"file_selector,omitzero"`
	// TransferID is a=file-transfer-id; empty means a fresh UUID.
	TransferID string `json:"transfer_id,omitempty"`
	// Directory is where a pulled file is saved (recvonly); empty means
	// SettingDirectory.
	Directory string `json:"directory,omitempty"`
}

// Push returns the parameters of a stream that sends the file at path.
func Push(path string) Params { return Params{Direction: sdk.SendOnly, Path: path} }

// Pull returns the parameters of a stream that asks the peer for the
// file named name and saves it in directory (empty: SettingDirectory).
func Pull(name, directory string) Params {
	return Params{Direction: sdk.RecvOnly, Selector: Selector{Name: name}, Directory: directory}
}

// Stream-scope methods (sdk.Stream.Invoke), for a stream built from an
// incoming offer, to be called before it is accepted (the session
// initializes it then).
const (
	// MethodSetFile gives the file a peer's pull asks for (FileArgs): the
	// reference's application sets the file selector's fd. Without it the
	// stream does not initialize ("file descriptor not specified").
	MethodSetFile = "set_file"
	// MethodSetSaveDirectory sets where a pushed file is saved
	// (DirectoryArgs): the reference's handler.save_directory.
	MethodSetSaveDirectory = "set_save_directory"
	// MethodSetEndReason tells the stream why its session ended before
	// the stream started (ReasonArgs): "Cancelled" for a 487, or the SIP
	// reason; FileTransferHandlerDidEnd then says it instead of
	// "Refused" (the reference learns it from SIPSessionDidFail).
	MethodSetEndReason = "set_end_reason"
)

// FileArgs are the arguments of MethodSetFile.
type FileArgs struct {
	Path string `json:"path"`
}

// DirectoryArgs are the arguments of MethodSetSaveDirectory.
type DirectoryArgs struct {
	Directory string `json:"directory"`
}

// ReasonArgs are the arguments of MethodSetEndReason.
type ReasonArgs struct {
	Reason string `json:"reason"`
}

// Notifications posted by a file transfer stream, besides the generic
// MediaStream* ones: the reference's FileTransferHandler notifications
// (there posted by stream.handler, here by the stream).
const (
	// HandlerDidInitialize: the file is ready (hashed, opened).
	HandlerDidInitialize = "FileTransferHandlerDidInitialize"
	// HandlerDidNotInitialize: it is not (ReasonData).
	HandlerDidNotInitialize = "FileTransferHandlerDidNotInitialize"
	// HandlerDidStart: the transfer began (the stream started).
	HandlerDidStart = "FileTransferHandlerDidStart"
	// HandlerProgress: bytes confirmed by the receiver's REPORTs, or
	// written by the receiver (ProgressData).
	HandlerProgress = "FileTransferHandlerProgress"
	// HandlerHashProgress: the sender hashing its file before the offer
	// (HashProgressData).
	HandlerHashProgress = "FileTransferHandlerHashProgress"
	// HandlerError: the transfer cannot go on (ErrorData); the stream
	// then fails (MediaStreamDidFail, context "transferring" or
	// "reading").
	HandlerError = "FileTransferHandlerError"
	// HandlerDidEnd: the transfer is over (DidEndData): each stream that
	// initialized posts it exactly once.
	HandlerDidEnd = "FileTransferHandlerDidEnd"
)

// Reasons of HandlerDidEnd and HandlerDidNotInitialize, the reference's
// words.
const (
	ReasonRefused             = "Refused"              // ended after initializing, never started
	ReasonCancelled           = "Cancelled"            // the session was cancelled (487) before it started
	ReasonIncompleteTransfer  = "Incomplete transfer"  // sender: everything sent, not everything confirmed
	ReasonInterruptedTransfer = "Interrupted transfer" // the stream ended, or the connection broke, mid-way
	ReasonIncompleteFile      = "Incomplete file"      // receiver: the message ended short of the size
	ReasonHashMismatch        = "File hash mismatch"   // receiver: the SHA-1 differs; nothing was kept
	ReasonNoFile              = "file descriptor not specified"
	ReasonEmptyFile           = "file is empty"
	ReasonCPIM                = "CPIM wrapper is not supported"
)

// ReasonData is the data of HandlerDidNotInitialize.
type ReasonData struct {
	Reason string `json:"reason"`
}

// ProgressData is the data of HandlerProgress: bytes of the file
// transferred so far (the end of the range confirmed or written) out of
// the total. The stream posts it at most every ProgressInterval, and
// always for the last byte.
type ProgressData struct {
	TransferredBytes int64 `json:"transferred_bytes"`
	TotalBytes       int64 `json:"total_bytes"`
}

// ProgressInterval bounds how often HandlerProgress and
// HandlerHashProgress are posted (the reference posts one per 64 KiB
// chunk: 16,384 for a gigabyte).
const ProgressInterval = 100 * time.Millisecond

// HashProgressData is the data of HandlerHashProgress.
type HashProgressData struct {
	Processed int64 `json:"processed"`
	Total     int64 `json:"total"`
}

// ErrorData is the data of HandlerError.
type ErrorData struct {
	Error string `json:"error"`
}

// DidEndData is the data of HandlerDidEnd: Error and Reason as the
// reference's, plus what a caller wants to know of the outcome.
type DidEndData struct {
	Error  bool   `json:"error"`
	Reason string `json:"reason,omitempty"`
	// Path is the file: the one sent, or the one a received file was
	// saved as (set only when it was).
	Path string `json:"path,omitempty"`
	// Hash is the SHA-1 of the file sent or received and verified.
	Hash Hash `json:"hash,omitzero"`
	// Verified is true when a received file's hash matched the
	// selector's (false when the offer had no hash to check against).
	Verified bool `json:"verified,omitempty"`
	// TransferredBytes counts the bytes of the file transferred (a
	// resumed transfer counts those it had already).
	TransferredBytes int64 `json:"transferred_bytes"`
	// ResumedFrom is where a resumed transfer went on from (0: from the
	// start).
	ResumedFrom int64 `json:"resumed_from,omitempty"`
}

// Attributes are the stream's own attributes, the JSON object in
// sdk.Attributes.Extra.
type Attributes struct {
	// Direction is the local direction: sendonly or recvonly.
	Direction sdk.MediaDirection `json:"direction"`
	// Selector is the local view of the file: for the receiver, completed
	// from the sender's once known.
	Selector   Selector `json:"file_selector"`
	TransferID string   `json:"transfer_id,omitempty"`
	// Path is the local file: the one sent, or the saved one once a
	// received file is verified and in place.
	Path             string `json:"path,omitempty"`
	TransferredBytes int64  `json:"transferred_bytes"`
	// ResumedFrom is where a resumed transfer went on from.
	ResumedFrom int64 `json:"resumed_from,omitempty"`
	// Finished is true once the transfer completed.
	Finished bool `json:"finished"`
	// LocalPath and RemotePath are the MSRP paths (a=path).
	LocalPath  string `json:"local_path,omitempty"`
	RemotePath string `json:"remote_path,omitempty"`
}

// SetFile gives the stream s, built from a peer's pull request, the file
// to send; call it before accepting the stream.
func SetFile(ctx context.Context, s sdk.Invoker, path string) error {
	_, err := sdk.Call[struct{}](ctx, s, MethodSetFile, FileArgs{Path: path})
	return err
}

// SetSaveDirectory sets where the stream s, built from a peer's push,
// saves the file; call it before accepting the stream.
func SetSaveDirectory(ctx context.Context, s sdk.Invoker, directory string) error {
	_, err := sdk.Call[struct{}](ctx, s, MethodSetSaveDirectory, DirectoryArgs{Directory: directory})
	return err
}

// SetEndReason tells s why its session ended before the stream started.
func SetEndReason(ctx context.Context, s sdk.Invoker, reason string) error {
	_, err := sdk.Call[struct{}](ctx, s, MethodSetEndReason, ReasonArgs{Reason: reason})
	return err
}

// ReadAttributes returns the stream's generic attributes and its own.
func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
	return sdk.ReadAttributes[Attributes](ctx, s)
}
