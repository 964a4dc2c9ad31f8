package sdk

// Values of HoldStateData.Originator.
const (
	OriginatorLocal  = "local"
	OriginatorRemote = "remote"
)

// HoldStateData is the data of a hold-state notification, as the
// reference's RTPStreamDidChangeHoldState: which flag changed ("local" or
// "remote") and its new value.
type HoldStateData struct {
	Originator string `json:"originator"`
	OnHold     bool   `json:"on_hold"`
}

// HoldState is the hold bookkeeping of a stream that holds through the SDP
// direction attribute, as the reference's RTPStream does (reference §3.5,
// RFC 3264 §8.4): the local hold request, the last negotiated direction and
// the two hold flags derived from it. A stream keeps one, asks it which
// direction to offer or answer, and tells it the outcome of each exchange;
// it posts a notification for each flag that changes.
//
// A HoldState is not safe for concurrent use: guard it with the lock that
// guards the rest of the stream's state. Its zero value posts nothing; make
// one with NewHoldState.
type HoldState struct {
	notifier       Notifier
	names          []string
	requested      bool
	direction      MediaDirection
	onHoldByLocal  bool
	onHoldByRemote bool
}

// NewHoldState returns the hold state of a new stream: not held, nothing
// negotiated. Each flag change is posted to n under every one of names, in
// that order, with HoldStateData (a stream that documents two names for the
// event, as the reference's audio stream, gives both).
func NewHoldState(n Notifier, names ...string) HoldState {
	return HoldState{notifier: n, names: names}
}

// Request records a local hold request (on, sdk.Stream.Hold) or its
// withdrawal (sdk.Stream.Unhold). While a hold is requested MaySend is
// false and the next offer asks the remote to stop sending.
func (h *HoldState) Request(on bool) { h.requested = on }

// Requested reports whether a local hold is requested.
func (h *HoldState) Requested() bool { return h.requested }

// Direction returns the last negotiated local direction, "" before the
// first exchange.
func (h *HoldState) Direction() MediaDirection { return h.direction }

// OnHoldByLocal and OnHoldByRemote are the reference's hold flags as the
// last exchange left them.
func (h *HoldState) OnHoldByLocal() bool { return h.onHoldByLocal }

// OnHoldByRemote: see OnHoldByLocal.
func (h *HoldState) OnHoldByRemote() bool { return h.onHoldByRemote }

// Paused reports whether media should not flow: a local hold is requested,
// or either side holds the stream (the reference pauses the stream, taking
// it out of its audio bridge, in each of these cases).
func (h *HoldState) Paused() bool { return h.requested || h.onHoldByLocal || h.onHoldByRemote }

// MaySend reports whether the negotiated direction lets us send and no
// local hold is requested.
func (h *HoldState) MaySend() bool { return !h.requested && h.direction.Sends() }

// Offer is the direction to write into our next offer (OfferDirection).
func (h *HoldState) Offer() MediaDirection { return OfferDirection(h.direction, h.requested) }

// Answer is the direction to answer an offer of direction offered with
// (AnswerDirection).
func (h *HoldState) Answer(offered MediaDirection) MediaDirection {
	return AnswerDirection(h.direction, offered)
}

// Negotiated records our direction after an exchange (see
// NegotiatedDirection) and updates the hold flags (HoldFlags), posting the
// local flag's change first, then the remote's.
func (h *HoldState) Negotiated(dir MediaDirection) {
	local, remote := HoldFlags(dir, h.onHoldByLocal)
	h.direction = dir
	if local != h.onHoldByLocal {
		h.onHoldByLocal = local
		h.post(OriginatorLocal, local)
	}
	if remote != h.onHoldByRemote {
		h.onHoldByRemote = remote
		h.post(OriginatorRemote, remote)
	}
}

func (h *HoldState) post(originator string, on bool) {
	if h.notifier == nil {
		return
	}
	for _, name := range h.names {
		h.notifier.Post(name, HoldStateData{Originator: originator, OnHold: on})
	}
}

// Attributes returns the stream's attributes: hold supported, the hold
// flags, and own (the type's own attributes) marshalled into Extra.
func (h *HoldState) Attributes(own any) (*Attributes, error) {
	a, err := NewAttributes(own)
	if err != nil {
		return nil, err
	}
	a.HoldSupported, a.OnHoldByLocal, a.OnHoldByRemote = true, h.onHoldByLocal, h.onHoldByRemote
	return a, nil
}
