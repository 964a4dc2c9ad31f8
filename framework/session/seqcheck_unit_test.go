package session

import (
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// Notifications for the checker's tests, by what the state machine reads.
func qNn(name string, data any) notify.Notification {
	return notify.Notification{Name: name, Data: data}
}

var (
	qNewOut  = qNn(SIPSessionNewOutgoing, NewOutgoingData{})
	qNewIn   = qNn(SIPSessionNewIncoming, NewIncomingData{})
	qRing    = qNn(SIPSessionGotRingIndication, nil)
	qProv    = qNn(SIPSessionGotProvisionalResponse, ProvisionalResponseData{Code: 180})
	qWillSt  = qNn(SIPSessionWillStart, nil)
	qDidSt   = qNn(SIPSessionDidStart, DidStartData{})
	qFailN   = qNn(SIPSessionDidFail, DidFailData{Originator: Remote, Code: 487})
	qInv     = func(o Originator, code int) notify.Notification { return qPt("INVITE", o, code) }
	qByeT    = func(o Originator) notify.Notification { return qPt("BYE", o, 200) }
	qWillEnd = func(o Originator) notify.Notification { return qNn(SIPSessionWillEnd, WillEndData{Originator: o}) }
	qDidEnd  = func(o Originator) notify.Notification { return qNn(SIPSessionDidEnd, DidEndData{Originator: o}) }
	qHold    = func(o Originator, on bool) notify.Notification {
		return qNn(SIPSessionDidChangeHoldState, HoldStateData{Originator: o, OnHold: on})
	}
	qProposal = func(o Originator) notify.Notification {
		return qNn(SIPSessionNewProposal, NewProposalData{Originator: o})
	}
	qAccepted = func(o Originator) notify.Notification {
		return qNn(SIPSessionProposalAccepted, ProposalAcceptedData{Originator: o})
	}
	qRejected = func(o Originator) notify.Notification {
		return qNn(SIPSessionProposalRejected, ProposalRejectedData{Originator: o, Code: 488})
	}
	qPfail = func(o Originator) notify.Notification {
		return qNn(SIPSessionHadProposalFailure, ProposalFailureData{Originator: o})
	}
	qReneg = func(o Originator) notify.Notification {
		return qNn(SIPSessionDidRenegotiateStreams, RenegotiateData{Originator: o})
	}
	qAlias = func(name string) notify.Notification { return qNn(name, nil) }
)

func qPt(method string, o Originator, code int) notify.Notification {
	return qNn(SIPSessionDidProcessTransaction, ProcessTransactionData{Method: method, Originator: o, Code: code})
}

func qSeq(parts ...[]notify.Notification) []notify.Notification {
	var out []notify.Notification
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func qs(n ...notify.Notification) []notify.Notification { return n }

var (
	qOutStart = qs(qNewOut, qRing, qProv, qWillSt, qInv(Local, 200), qDidSt)
	qInStart  = qs(qNewIn, qWillSt, qInv(Remote, 200), qDidSt)
	qEndLocal = qs(qWillEnd(Local), qByeT(Local), qDidEnd(Local))
	qEndRem   = qs(qWillEnd(Remote), qByeT(Remote), qDidEnd(Remote))
)

// TestSeqCheckerLegal: sequences of the reference's flows pass.
func TestSeqCheckerLegal(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  []notify.Notification
	}{
		{"outgoing, ended locally", qSeq(qOutStart, qEndLocal)},
		{"incoming, ended by the peer", qSeq(qInStart, qEndRem)},
		{"outgoing rejected", qs(qNewOut, qProv, qFailN)},
		{"outgoing failing after the answer", qs(qNewOut, qWillSt, qFailN)},
		{"incoming rejected", qs(qNewIn, qInv(Remote, 603), qFailN)},
		{"incoming cancelled", qs(qNewIn, qInv(Remote, 487), qFailN)},
		{"incoming, accept failing", qs(qNewIn, qFailN)},
		{"incoming, missing ACK", qs(qNewIn, qWillSt, qFailN)},
		{"BYE transaction left out", qSeq(qInStart, qs(qWillEnd(Remote), qDidEnd(Remote)))},
		{"hold and unhold", qSeq(qInStart, qs(qHold(Remote, true), qHold(Local, true), qHold(Remote, false)), qEndLocal)},
		{"remote removal and re-INVITE transaction", qSeq(qInStart, qs(qReneg(Remote), qInv(Remote, 200)), qEndLocal)},
		{"proposals closed each way", qSeq(qOutStart,
			qs(qProposal(Local), qAccepted(Local), qReneg(Local)),
			qs(qProposal(Remote), qRejected(Remote)),
			qs(qProposal(Local), qPfail(Local)),
			qs(qProposal(Remote), qAccepted(Remote), qReneg(Remote), qHold(Local, true)),
			qEndRem)},
		{"proposal closed by the end", qSeq(qInStart, qs(qProposal(Remote), qWillEnd(Remote), qPfail(Remote), qByeT(Remote), qDidEnd(Remote)))},
		{"proposal cancelled by the end", qSeq(qInStart, qs(qProposal(Local), qWillEnd(Local), qByeT(Local), qRejected(Local), qDidEnd(Local)))},
		{"seed aliases right after their names", qSeq(qInStart,
			qs(qProposal(Remote), qAlias("SIPSessionGotProposal"), qAccepted(Remote), qAlias("SIPSessionGotAcceptProposal"), qReneg(Remote)),
			qs(qProposal(Local), qAlias("SIPSessionGotProposal"), qRejected(Local), qAlias("SIPSessionGotRejectProposal")),
			qEndRem)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := checkOne(tc.seq)
			if rep.Violations != 0 {
				t.Errorf("legal sequence refused:\n%s", rep)
			}
		})
	}
}

// TestSeqCheckerIllegal: each broken sequence is refused, for the reason
// given, at the notification given (its index; len for the end).
func TestSeqCheckerIllegal(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  []notify.Notification
		why  string
		at   int
	}{
		{"no first notification", qs(qWillSt), "WillStart in state new", 0},
		{"DidStart without WillStart", qs(qNewIn, qDidSt), "DidStart in state incoming", 1},
		{"DidStart before the INVITE transaction", qs(qNewOut, qWillSt, qDidSt), "DidStart in state outgoing/will-start", 2},
		{"incoming transaction of the wrong side", qs(qNewIn, qWillSt, qInv(Local, 200), qDidSt), "originator local, want remote", 2},
		{"refused incoming with a 2xx", qs(qNewIn, qInv(Remote, 200), qFailN), "code 200", 1},
		{"never ended", qOutStart, "never ended (state connected)", 6},
		{"never answered", qs(qNewIn), "never ended (state incoming)", 1},
		{"DidEnd without WillEnd", qSeq(qInStart, qs(qDidEnd(Remote))), "DidEnd in state connected", 4},
		{"DidFail after start", qSeq(qInStart, qs(qFailN)), "DidFail in state connected", 4},
		{"two ends", qSeq(qInStart, qEndRem, qs(qDidEnd(Local))), "DidEnd after the session ended", 7},
		{"hold change after the end", qSeq(qInStart, qEndRem, qs(qHold(Remote, false))), "DidChangeHoldState after the session ended", 7},
		{"hold change while ending", qSeq(qInStart, qs(qWillEnd(Remote), qHold(Remote, false), qDidEnd(Remote))), "DidChangeHoldState in state ending", 5},
		{"start after a failure", qs(qNewIn, qFailN, qWillSt), "WillStart after the session failed", 2},
		{"proposal inside a proposal", qSeq(qInStart, qs(qProposal(Remote), qProposal(Local))), "NewProposal in state proposal-open", 5},
		{"hold change inside a proposal", qSeq(qInStart, qs(qProposal(Local), qHold(Remote, true))), "DidChangeHoldState in state proposal-open", 5},
		{"outcome without proposal", qSeq(qInStart, qs(qAccepted(Remote))), "ProposalAccepted in state connected", 4},
		{"two outcomes", qSeq(qInStart, qs(qProposal(Remote), qRejected(Remote), qPfail(Remote))), "HadProposalFailure in state connected", 6},
		{"outcome of the other side", qSeq(qInStart, qs(qProposal(Remote), qAccepted(Local))), "originator local for a proposal of remote", 5},
		{"accepted without renegotiation", qSeq(qInStart, qs(qProposal(Local), qAccepted(Local), qWillEnd(Local))), "WillEnd in state proposal-accepted", 6},
		{"proposal open at the end", qSeq(qInStart, qs(qProposal(Remote), qWillEnd(Remote), qDidEnd(Remote))), "DidEnd in state ending/proposal-open", 6},
		{"proposal accepted while ending", qSeq(qInStart, qs(qProposal(Remote), qWillEnd(Remote), qAccepted(Remote))), "ProposalAccepted in state ending/proposal-open", 6},
		{"re-INVITE transaction while ending", qSeq(qInStart, qs(qWillEnd(Remote), qInv(Remote, 200))), "method INVITE, want BYE", 5},
		{"alias alone", qSeq(qInStart, qs(qAlias("SIPSessionGotProposal"))), "GotProposal is not right after NewProposal", 4},
		{"alias late", qSeq(qInStart, qs(qProposal(Remote), qHold(Remote, true), qAlias("SIPSessionGotProposal"))), "DidChangeHoldState in state proposal-open", 5},
		{"alias of another name", qSeq(qInStart, qs(qProposal(Remote), qAlias("SIPSessionGotAcceptProposal"))), "GotAcceptProposal is not right after ProposalAccepted", 5},
		{"unknown name", qSeq(qInStart, qs(qAlias("SIPSessionGotMessage"))), "GotMessage in state connected", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := checkOne(tc.seq)
			if rep.Violations != 1 || len(rep.Groups) != 1 {
				t.Fatalf("illegal sequence passed or miscounted: %+v", rep)
			}
			g := rep.Groups[0]
			if !strings.Contains(g.Why, tc.why) {
				t.Errorf("why %q, want it to say %q", g.Why, tc.why)
			}
			if g.At != tc.at || strings.Count(g.Sequence, ">>") != 1 {
				t.Errorf("marked notification #%d, want #%d: %s", g.At, tc.at, g.Sequence)
			}
		})
	}
}

// TestSeqCheckerGroups: sessions are told apart by sender, interleaved
// sequences are checked each on its own, and equal violations are counted
// in one group; SIPSessionManager* notifications are not a session's.
func TestSeqCheckerGroups(t *testing.T) {
	c := newSeqChecker()
	feed := func(sender string, n notify.Notification) {
		n.Sender = sender
		c.HandleNotification(n)
	}
	c.HandleNotification(notify.Notification{Name: SIPSessionManagerDidStart, Sender: "manager"})
	for i, n := range qSeq(qInStart, qEndRem) {
		feed("good", n)
		if i < 4 {
			feed("bad1", n)
			feed("bad2", n)
		}
	}
	feed("bad1", qDidEnd(Remote))
	feed("bad2", qDidEnd(Remote))
	feed("open", qNewOut)
	rep := c.finish()
	if rep.Sessions != 4 || rep.Violations != 3 || len(rep.Groups) != 2 {
		t.Fatalf("report %+v", rep)
	}
	if g := rep.Groups[0]; g.Count != 2 || g.Why != "DidEnd in state connected" {
		t.Errorf("first group %+v", g)
	}
	if g := rep.Groups[1]; g.Count != 1 || g.Example != "open" || !strings.HasPrefix(g.Why, "never ended") {
		t.Errorf("second group %+v", g)
	}
	if s := rep.String(); !strings.Contains(s, "3 of 4 sessions") || !strings.Contains(s, "2× DidEnd in state connected") {
		t.Errorf("report text:\n%s", s)
	}
}

// checkOne runs one session's sequence through a checker.
func checkOne(ns []notify.Notification) seqReport {
	c := newSeqChecker()
	for _, n := range ns {
		n.Sender = "s"
		c.HandleNotification(n)
	}
	return c.finish()
}
