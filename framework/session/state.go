package session

import "fmt"

// State is a Session's state, as in the reference's Session.state.
type State int

// Session states (reference §2.1). There is no "outgoing" state: an outgoing
// session is "connecting" until it is connected or fails.
const (
	StateNone State = iota
	StateConnecting
	StateIncoming
	StateAccepting
	StateConnected
	StateSendingProposal
	StateCancellingProposal
	StateReceivedProposal
	StateAcceptingProposal
	StateRejectingProposal
	StateReceivedProposalRequest
	StateTerminating
	StateTerminated
)

var stateNames = [...]string{
	StateNone:                    "none",
	StateConnecting:              "connecting",
	StateIncoming:                "incoming",
	StateAccepting:               "accepting",
	StateConnected:               "connected",
	StateSendingProposal:         "sending_proposal",
	StateCancellingProposal:      "cancelling_proposal",
	StateReceivedProposal:        "received_proposal",
	StateAcceptingProposal:       "accepting_proposal",
	StateRejectingProposal:       "rejecting_proposal",
	StateReceivedProposalRequest: "received_proposal_request",
	StateTerminating:             "terminating",
	StateTerminated:              "terminated",
}

// String returns the reference's name of the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Originator says which side did something: the local party or the remote.
type Originator string

// Originators.
const (
	Local  Originator = "local"
	Remote Originator = "remote"
)

// Direction of a session: who sent the initial INVITE.
type Direction string

// Session directions.
const (
	Incoming Direction = "incoming"
	Outgoing Direction = "outgoing"
)

// established is true in the states of a confirmed dialog, where BYE ends
// the session (any offer/answer in progress is abandoned).
func (s State) established() bool {
	switch s {
	case StateConnected, StateSendingProposal, StateCancellingProposal, StateReceivedProposal,
		StateAcceptingProposal, StateRejectingProposal, StateReceivedProposalRequest:
		return true
	}
	return false
}
