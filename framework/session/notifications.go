package session

import "time"

// Notification names posted by a Session (sender: the *Session) and the
// SessionManager, verbatim from the reference (§2.6).
//
// The seed API (shared/seed/middleware-api.txt) names three proposal
// notifications differently from the reference's later code; both are
// posted, the later name first and the seed's right after with the same
// data:
//
//	SIPSessionNewProposal       SIPSessionGotProposal
//	SIPSessionProposalAccepted  SIPSessionGotAcceptProposal
//	SIPSessionProposalRejected  SIPSessionGotRejectProposal
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
	SIPSessionGotMessage                = "SIPSessionGotMessage"

	// The seed's names of the proposal notifications (see above).
	SIPSessionGotProposal       = "SIPSessionGotProposal"
	SIPSessionGotAcceptProposal = "SIPSessionGotAcceptProposal"
	SIPSessionGotRejectProposal = "SIPSessionGotRejectProposal"
)

// seedAlias maps a proposal notification to the seed's name for it.
var seedAlias = map[string]string{
	SIPSessionNewProposal:      SIPSessionGotProposal,
	SIPSessionProposalAccepted: SIPSessionGotAcceptProposal,
	SIPSessionProposalRejected: SIPSessionGotRejectProposal,
}

// SeedAlias returns the seed API's name for a notification the session
// posts under the reference's later name ("" when they are the same).
func SeedAlias(name string) string { return seedAlias[name] }

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

// RenegotiateData is the data of SIPSessionDidRenegotiateStreams: the
// reference's added and removed streams, and the seed's action ("add" or
// "remove") with the streams it concerns.
type RenegotiateData struct {
	Originator     Originator
	AddedStreams   []Stream
	RemovedStreams []Stream
	Action         string
	Streams        []Stream
}

// GotMessageData is the data of SIPSessionGotMessage: an in-dialog MESSAGE
// of the peer.
type GotMessageData struct {
	ContentType string
	Body        string
	Headers     map[string][]string
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

// postRenegotiate posts SIPSessionDidRenegotiateStreams for streams added
// or removed (one of the two).
func (s *Session) postRenegotiate(orig Originator, added, removed []Stream) {
	d := RenegotiateData{Originator: orig, AddedStreams: added, RemovedStreams: removed, Action: "add", Streams: added}
	if len(removed) > 0 {
		d.Action, d.Streams = "remove", removed
	}
	s.post(SIPSessionDidRenegotiateStreams, d)
}
