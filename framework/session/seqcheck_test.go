package session

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// This file holds seqChecker: it groups the SIPSession* notifications of a
// notification center by session (their sender) and checks each session's
// sequence against the session state machine of the reference
// (../shared/reference/sipsimple-behaviour.md §2.1, flows §2.3–2.5 and
// §2.7, notification catalogue §2.6). It is written as a table, seqRules:
// from a state, a notification (with a guard on its data) leads to the next
// state; anything else is a violation. The torture test feeds it every
// session of a host under load.

// seqState is where a session's notification sequence stands.
type seqState int

const (
	stNew            seqState = iota // nothing seen yet
	stOutgoing                       // SIPSessionNewOutgoing
	stOutWillStart                   // outgoing, answer agreed
	stOutAnswered                    // outgoing, INVITE transaction posted
	stIncoming                       // SIPSessionNewIncoming
	stInRefused                      // incoming, refused or cancelled (its transaction posted)
	stInWillStart                    // incoming, 200 sent
	stInAnswered                     // incoming, INVITE transaction posted (ACK received)
	stConnected                      // SIPSessionDidStart, no proposal open
	stProposal                       // SIPSessionNewProposal open
	stAccepted                       // SIPSessionProposalAccepted, awaiting DidRenegotiateStreams
	stEnding                         // SIPSessionWillEnd
	stEndingProposal                 // SIPSessionWillEnd with a proposal still open
	stEnded                          // SIPSessionDidEnd (terminal)
	stFailed                         // SIPSessionDidFail (terminal)
)

var seqStateNames = [...]string{
	stNew: "new", stOutgoing: "outgoing", stOutWillStart: "outgoing/will-start", stOutAnswered: "outgoing/answered",
	stIncoming: "incoming", stInRefused: "incoming/refused", stInWillStart: "incoming/will-start",
	stInAnswered: "incoming/answered", stConnected: "connected", stProposal: "proposal-open",
	stAccepted: "proposal-accepted", stEnding: "ending", stEndingProposal: "ending/proposal-open",
	stEnded: "ended", stFailed: "failed",
}

func (s seqState) String() string { return seqStateNames[s] }

func (s seqState) terminal() bool { return s == stEnded || s == stFailed }

// seqAliases are the seed's names (../shared/seed/middleware-api.txt)
// that the session will post right after the reference name it stands for
// (issue 9): an alias is accepted only directly after its original, and
// changes nothing.
var seqAliases = map[string]string{
	"SIPSessionGotProposal":       SIPSessionNewProposal,
	"SIPSessionGotAcceptProposal": SIPSessionProposalAccepted,
	"SIPSessionGotRejectProposal": SIPSessionProposalRejected,
}

// seqTrack is one session's sequence and where it stands.
type seqTrack struct {
	sender    any
	state     seqState
	proposal  Originator // originator of the open proposal
	events    []notify.Notification
	violation string // the first one; checking stops there
	at        int    // index in events of the violating notification
	over      bool   // DidEnd or DidFail seen (violation or not)
}

// seqRule: in state from, notification name leads to state to when guard
// (if any) returns "". A guard returns why the notification is not legal.
type seqRule struct {
	from  seqState
	name  string
	to    seqState
	guard func(tr *seqTrack, n notify.Notification) string
}

// The guards.

func transaction(method string, orig Originator, codeOK func(int) bool) func(*seqTrack, notify.Notification) string {
	return func(_ *seqTrack, n notify.Notification) string {
		d, ok := n.Data.(ProcessTransactionData)
		switch {
		case !ok:
			return fmt.Sprintf("data %T", n.Data)
		case d.Method != method:
			return "method " + d.Method + ", want " + method
		case orig != "" && d.Originator != orig:
			return "originator " + string(d.Originator) + ", want " + string(orig)
		case codeOK != nil && !codeOK(d.Code):
			return fmt.Sprintf("code %d", d.Code)
		}
		return ""
	}
}

func success(c int) bool { return c >= 200 && c < 300 }
func failure(c int) bool { return c >= 300 }

// openProposal records the originator of a new proposal.
func openProposal(tr *seqTrack, n notify.Notification) string {
	d, ok := n.Data.(NewProposalData)
	if !ok {
		return fmt.Sprintf("data %T", n.Data)
	}
	tr.proposal = d.Originator
	return ""
}

// sameProposal checks that a proposal's outcome has the originator of its
// SIPSessionNewProposal.
func sameProposal(tr *seqTrack, n notify.Notification) string {
	var o Originator
	switch d := n.Data.(type) {
	case ProposalAcceptedData:
		o = d.Originator
	case ProposalRejectedData:
		o = d.Originator
	case ProposalFailureData:
		o = d.Originator
	case RenegotiateData:
		o = d.Originator
	default:
		return fmt.Sprintf("data %T", n.Data)
	}
	if o != tr.proposal {
		return "originator " + string(o) + " for a proposal of " + string(tr.proposal)
	}
	return ""
}

// seqRules is the state machine. Legal orders, per flow:
//
//	outgoing: NewOutgoing (GotRingIndication|GotProvisionalResponse)*
//	          WillStart DidProcessTransaction(INVITE local) DidStart connected…
//	          | … DidFail at any point before DidStart
//	incoming: NewIncoming WillStart DidProcessTransaction(INVITE remote 2xx) DidStart connected…
//	          | NewIncoming DidProcessTransaction(INVITE remote ≥300)? DidFail
//	          | NewIncoming WillStart DidFail (missing ACK, a stream that did not start)
//	connected: DidChangeHoldState | DidRenegotiateStreams | DidProcessTransaction(INVITE)
//	          | NewProposal, closed by exactly one of
//	            ProposalAccepted DidRenegotiateStreams | ProposalRejected | HadProposalFailure
//	            (same originator) before anything else happens
//	          | WillEnd DidProcessTransaction(BYE)? DidEnd
//	A proposal still open at WillEnd must be closed (ProposalRejected or
//	HadProposalFailure, the reference's "session ended") before DidEnd.
//	Nothing follows DidEnd or DidFail.
var seqRules = []seqRule{
	{stNew, SIPSessionNewOutgoing, stOutgoing, nil},
	{stNew, SIPSessionNewIncoming, stIncoming, nil},

	{stOutgoing, SIPSessionGotRingIndication, stOutgoing, nil},
	{stOutgoing, SIPSessionGotProvisionalResponse, stOutgoing, nil},
	{stOutgoing, SIPSessionWillStart, stOutWillStart, nil},
	{stOutgoing, SIPSessionDidFail, stFailed, nil},
	{stOutWillStart, SIPSessionDidProcessTransaction, stOutAnswered, transaction("INVITE", Local, success)},
	{stOutWillStart, SIPSessionDidFail, stFailed, nil},
	{stOutAnswered, SIPSessionDidStart, stConnected, nil},

	{stIncoming, SIPSessionWillStart, stInWillStart, nil},
	{stIncoming, SIPSessionDidProcessTransaction, stInRefused, transaction("INVITE", Remote, failure)},
	{stIncoming, SIPSessionDidFail, stFailed, nil},
	{stInRefused, SIPSessionDidFail, stFailed, nil},
	{stInWillStart, SIPSessionDidProcessTransaction, stInAnswered, transaction("INVITE", Remote, success)},
	{stInWillStart, SIPSessionDidFail, stFailed, nil},
	{stInAnswered, SIPSessionDidStart, stConnected, nil},

	{stConnected, SIPSessionDidChangeHoldState, stConnected, nil},
	{stConnected, SIPSessionDidRenegotiateStreams, stConnected, nil},
	{stConnected, SIPSessionDidProcessTransaction, stConnected, transaction("INVITE", "", nil)},
	{stConnected, SIPSessionNewProposal, stProposal, openProposal},
	{stConnected, SIPSessionWillEnd, stEnding, nil},

	{stProposal, SIPSessionProposalAccepted, stAccepted, sameProposal},
	{stProposal, SIPSessionProposalRejected, stConnected, sameProposal},
	{stProposal, SIPSessionHadProposalFailure, stConnected, sameProposal},
	{stProposal, SIPSessionWillEnd, stEndingProposal, nil},
	{stAccepted, SIPSessionDidRenegotiateStreams, stConnected, sameProposal},

	{stEnding, SIPSessionDidProcessTransaction, stEnding, transaction("BYE", "", nil)},
	{stEnding, SIPSessionDidEnd, stEnded, nil},
	{stEndingProposal, SIPSessionProposalRejected, stEnding, sameProposal},
	{stEndingProposal, SIPSessionHadProposalFailure, stEnding, sameProposal},
	{stEndingProposal, SIPSessionDidProcessTransaction, stEndingProposal, transaction("BYE", "", nil)},
}

// seqTable indexes seqRules by state and name.
type seqKey struct {
	from seqState
	name string
}

var seqTable = func() map[seqKey]seqRule {
	m := map[seqKey]seqRule{}
	for _, r := range seqRules {
		k := seqKey{r.from, r.name}
		if _, dup := m[k]; dup {
			panic(fmt.Sprintf("seqRules: two rules from %v on %s", r.from, r.name))
		}
		m[k] = r
	}
	return m
}()

// step feeds one notification of the track's session.
func (tr *seqTrack) step(n notify.Notification) {
	tr.events = append(tr.events, n)
	if tr.violation != "" {
		return
	}
	fail := func(why string) {
		tr.violation, tr.at = why, len(tr.events)-1
	}
	if orig, ok := seqAliases[n.Name]; ok {
		if len(tr.events) < 2 || tr.events[len(tr.events)-2].Name != orig {
			fail(fmt.Sprintf("%s is not right after %s", short(n.Name), short(orig)))
		}
		return
	}
	if tr.state.terminal() {
		fail(fmt.Sprintf("%s after the session %s", short(n.Name), tr.state))
		return
	}
	r, ok := seqTable[seqKey{tr.state, n.Name}]
	if !ok {
		fail(fmt.Sprintf("%s in state %s", short(n.Name), tr.state))
		return
	}
	if r.guard != nil {
		if why := r.guard(tr, n); why != "" {
			fail(fmt.Sprintf("%s in state %s: %s", short(n.Name), tr.state, why))
			return
		}
	}
	tr.state = r.to
}

// finish checks the end of a sequence: every session ended or failed.
func (tr *seqTrack) finish() {
	if tr.violation == "" && !tr.state.terminal() {
		tr.violation, tr.at = fmt.Sprintf("never ended (state %s)", tr.state), len(tr.events)
	}
}

// seqChecker is a notify.Observer that checks every session's sequence.
type seqChecker struct {
	mu     sync.Mutex
	tracks map[any]*seqTrack
	order  []*seqTrack
	live   int // sessions seen and not yet ended or failed
	most   int // the most live at once
}

func newSeqChecker() *seqChecker { return &seqChecker{tracks: map[any]*seqTrack{}} }

// HandleNotification takes the SIPSession* notifications of sessions
// (the manager's own, SIPSessionManager*, are not a session's).
func (c *seqChecker) HandleNotification(n notify.Notification) {
	if !strings.HasPrefix(n.Name, "SIPSession") || strings.HasPrefix(n.Name, "SIPSessionManager") || n.Sender == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tr := c.tracks[n.Sender]
	if tr == nil {
		tr = &seqTrack{sender: n.Sender}
		c.tracks[n.Sender] = tr
		c.order = append(c.order, tr)
		c.live++
		c.most = max(c.most, c.live)
	}
	tr.step(n)
	if !tr.over && (n.Name == SIPSessionDidEnd || n.Name == SIPSessionDidFail) {
		tr.over = true
		c.live--
	}
}

// maxLive is the most sessions that were up at once.
func (c *seqChecker) maxLive() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.most
}

// sessions returns every session seen, in order of first notification.
func (c *seqChecker) sessions() []*seqTrack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.order)
}

// seqReport is the outcome of a check: the violations, grouped by what
// went wrong and the sequence it went wrong in.
type seqReport struct {
	Sessions   int
	Violations int
	Groups     []seqGroup // most frequent first
}

// seqGroup is one kind of violation.
type seqGroup struct {
	Why      string
	Sequence string // the session's notifications, the violating one marked
	At       int    // index of the violating notification (len: the end)
	Count    int
	Example  string // a Call-ID (or the sender) that shows it
}

// finish checks the ends of all sequences and reports.
func (c *seqChecker) finish() seqReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	groups := map[string]*seqGroup{}
	rep := seqReport{Sessions: len(c.order)}
	for _, tr := range c.order {
		tr.finish()
		if tr.violation == "" {
			continue
		}
		rep.Violations++
		seq := describe(tr.events, tr.at)
		k := tr.violation + "\x00" + seq
		g := groups[k]
		if g == nil {
			g = &seqGroup{Why: tr.violation, Sequence: seq, At: tr.at, Example: senderName(tr.sender)}
			groups[k] = g
		}
		g.Count++
	}
	for _, g := range groups {
		rep.Groups = append(rep.Groups, *g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool {
		if rep.Groups[i].Count != rep.Groups[j].Count {
			return rep.Groups[i].Count > rep.Groups[j].Count
		}
		return rep.Groups[i].Why+rep.Groups[i].Sequence < rep.Groups[j].Why+rep.Groups[j].Sequence
	})
	return rep
}

func (r seqReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d sessions broke the state machine of reference §2.1:\n", r.Violations, r.Sessions)
	for _, g := range r.Groups {
		fmt.Fprintf(&b, "  %d× %s\n     %s\n     (e.g. %s)\n", g.Count, g.Why, g.Sequence, g.Example)
	}
	return b.String()
}

func senderName(s any) string {
	if s, ok := s.(*Session); ok {
		return "Call-ID " + s.CallID()
	}
	return fmt.Sprint(s)
}

// short drops the SIPSession prefix.
func short(name string) string { return strings.TrimPrefix(name, "SIPSession") }

// describe writes a sequence compactly, with the data that the state
// machine looks at; the notification at mark (if in range) is bracketed.
func describe(ns []notify.Notification, mark int) string {
	parts := make([]string, 0, len(ns)+1)
	for i, n := range ns {
		s := short(n.Name) + detail(n.Data)
		if i == mark {
			s = ">>" + s + "<<"
		}
		parts = append(parts, s)
	}
	if mark >= len(ns) {
		parts = append(parts, ">>(end)<<")
	}
	return strings.Join(parts, " ")
}

func detail(data any) string {
	switch d := data.(type) {
	case ProcessTransactionData:
		return fmt.Sprintf("(%s %s %d)", d.Method, d.Originator, d.Code)
	case DidFailData:
		return fmt.Sprintf("(%s %d %q)", d.Originator, d.Code, d.FailureReason)
	case WillEndData:
		return fmt.Sprintf("(%s)", d.Originator)
	case DidEndData:
		return fmt.Sprintf("(%s %q)", d.Originator, d.EndReason)
	case NewProposalData:
		return fmt.Sprintf("(%s)", d.Originator)
	case ProposalAcceptedData:
		return fmt.Sprintf("(%s)", d.Originator)
	case ProposalRejectedData:
		return fmt.Sprintf("(%s %d)", d.Originator, d.Code)
	case ProposalFailureData:
		return fmt.Sprintf("(%s %q)", d.Originator, d.FailureReason)
	case RenegotiateData:
		return fmt.Sprintf("(%s +%d -%d)", d.Originator, len(d.AddedStreams), len(d.RemovedStreams))
	case HoldStateData:
		return fmt.Sprintf("(%s %s)", d.Originator, map[bool]string{true: "on", false: "off"}[d.OnHold])
	}
	return ""
}
