package session

import "time"

// Notification names posted by a Session (sender: the *Session) and the
// SessionManager, verbatim from the reference (§2.6).
const (
	SIPSessionNewIncoming               = "SIPSessionNewIncoming"
	SIPSessionNewOutgoing               = "SIPSessionNewOutgoing"
	SIPSessionGotRingIndication         = "SIPSessionGotRingIndication"
	SIPSessionGotProvisionalResponse    = "SIPSessionGotProvisionalResponse"
	SIPSessionWillStart                 = "SIPSessionWillStart"
	SIPSessionDidStart                  = "SIPSessionDidStart"
	SIPSessionDidFail                   = "SIPSessionDidFail"
	SIPSessionWillEnd                   = "SIPSessionWillEnd"
	SIPSessionDidEnd                    = "SIPSessionDidEnd"
	SIPSessionDidProcessTransaction     = "SIPSessionDidProcessTransaction"
	SIPSessionNewProposal               = "SIPSessionNewProposal"
	SIPSessionProposalAccepted          = "SIPSessionProposalAccepted"
	SIPSessionProposalRejected          = "SIPSessionProposalRejected"
	SIPSessionHadProposalFailure        = "SIPSessionHadProposalFailure"
	SIPSessionDidRenegotiateStreams     = "SIPSessionDidRenegotiateStreams"
	SIPSessionDidChangeHoldState        = "SIPSessionDidChangeHoldState"
	SIPSessionManagerWillStart          = "SIPSessionManagerWillStart"
	SIPSessionManagerDidStart           = "SIPSessionManagerDidStart"
	SIPSessionManagerWillEnd            = "SIPSessionManagerWillEnd"
	SIPSessionManagerDidEnd             = "SIPSessionManagerDidEnd"
	SIPSessionNewIncomingFromTransfer   = "SIPSessionNewIncomingFromTransfer"
	SIPSessionTransferNewIncoming       = "SIPSessionTransferNewIncoming"
	SIPSessionTransferNewOutgoing       = "SIPSessionTransferNewOutgoing"
	SIPSessionTransferDidStart          = "SIPSessionTransferDidStart"
	SIPSessionTransferDidEnd            = "SIPSessionTransferDidEnd"
	SIPSessionTransferDidFail           = "SIPSessionTransferDidFail"
	SIPSessionTransferGotProgress       = "SIPSessionTransferGotProgress"
	SIPSessionGotConferenceInfo         = "SIPSessionGotConferenceInfo"
	SIPSessionNewIncomingTransferFailed = "SIPSessionNewIncomingFromTransferFailed"
)

// NewIncomingData is the data of SIPSessionNewIncoming.
type NewIncomingData struct {
	Streams        []Stream
	Headers        map[string][]string
	ReplacedDialog *DialogID
}

// NewOutgoingData is the data of SIPSessionNewOutgoing.
type NewOutgoingData struct {
	Streams []Stream
}

// ProvisionalResponseData is the data of SIPSessionGotProvisionalResponse.
type ProvisionalResponseData struct {
	Code   int
	Reason string
}

// DidStartData is the data of SIPSessionDidStart.
type DidStartData struct {
	Streams []Stream
}

// DidFailData is the data of SIPSessionDidFail.
type DidFailData struct {
	Originator    Originator
	Code          int
	Reason        string
	FailureReason string
	// RedirectIdentities are the Contact URIs of a 3xx answer, else nil.
	RedirectIdentities []string
}

// WillEndData is the data of SIPSessionWillEnd.
type WillEndData struct {
	Originator Originator
}

// DidEndData is the data of SIPSessionDidEnd.
type DidEndData struct {
	Originator Originator
	EndReason  string
}

// AckReceived is the ack_received field of SIPSessionDidProcessTransaction:
// true, false or unknown (a CANCELled INVITE).
type AckReceived string

// AckReceived values; empty for transactions other than INVITE server ones.
const (
	AckYes     AckReceived = "true"
	AckNo      AckReceived = "false"
	AckUnknown AckReceived = "unknown"
)

// ProcessTransactionData is the data of SIPSessionDidProcessTransaction.
type ProcessTransactionData struct {
	Originator  Originator // local: we sent the request
	Method      string
	Code        int
	Reason      string
	AckReceived AckReceived
}

// NewProposalData is the data of SIPSessionNewProposal.
type NewProposalData struct {
	Originator      Originator
	ProposedStreams []Stream
}

// ProposalAcceptedData is the data of SIPSessionProposalAccepted.
type ProposalAcceptedData struct {
	Originator      Originator
	AcceptedStreams []Stream
	ProposedStreams []Stream
}

// ProposalRejectedData is the data of SIPSessionProposalRejected.
type ProposalRejectedData struct {
	Originator      Originator
	Code            int
	Reason          string
	ProposedStreams []Stream
}

// ProposalFailureData is the data of SIPSessionHadProposalFailure.
type ProposalFailureData struct {
	Originator      Originator
	FailureReason   string
	ProposedStreams []Stream
}

// RenegotiateData is the data of SIPSessionDidRenegotiateStreams.
type RenegotiateData struct {
	Originator     Originator
	AddedStreams   []Stream
	RemovedStreams []Stream
}

// HoldStateData is the data of SIPSessionDidChangeHoldState.
type HoldStateData struct {
	Originator Originator
	OnHold     bool
	// Partial is true when only some hold-capable streams are held.
	Partial bool
}

// DialogID identifies a dialog (RFC 3261 §12): Call-ID and both tags.
type DialogID struct {
	CallID    string
	LocalTag  string
	RemoteTag string
}

// Timeouts of the reference (§2.2).
const (
	// MediaStreamTimeout bounds the wait for every MediaStreamDidStart.
	MediaStreamTimeout = 15 * time.Second
	// ShortReinviteTimeout bounds hold/unhold/remove re-INVITEs.
	ShortReinviteTimeout = 5 * time.Second
	// DefaultInviteTimeout is sip.invite_timeout's default: the initial
	// INVITE and add-stream proposals.
	DefaultInviteTimeout = 90 * time.Second
	// AckTimeout is how long reject() waits for the ACK and end() for the
	// disconnect.
	AckTimeout = time.Second
)
