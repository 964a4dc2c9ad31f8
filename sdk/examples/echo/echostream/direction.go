package echostream

// SDP direction attributes (RFC 3264 §5.1). The empty string stands for "no
// direction negotiated yet".
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

func hasSend(dir string) bool { return dir == dirSendRecv || dir == dirSendOnly }

func hasRecv(dir string) bool { return dir == dirSendRecv || dir == dirRecvOnly }

func makeDirection(send, recv bool) string {
	switch {
	case send && recv:
		return dirSendRecv
	case send:
		return dirSendOnly
	case recv:
		return dirRecvOnly
	}
	return dirInactive
}

// offerDirection is the direction we offer, given the last negotiated local
// direction and whether we hold the stream (reference §3.5):
//
//   - nothing negotiated yet: sendrecv;
//   - we were sending: sendonly while holding, else sendrecv;
//   - we were not sending (the remote holds us): inactive while holding,
//     else recvonly.
func offerDirection(last string, holding bool) string {
	switch {
	case last == "":
		return dirSendRecv
	case hasSend(last):
		return makeDirection(true, !holding)
	}
	return makeDirection(false, !holding)
}

// answerDirection is the direction we answer an offer with (reference §3.5):
// sendrecv if nothing was negotiated yet or we were receiving, else sendonly
// (we hold the stream), then intersected with the offer as RFC 3264 §6.1
// asks: we send only if the offerer receives, and receive only if it sends.
func answerDirection(last, offered string) string {
	want := dirSendOnly
	if last == "" || hasRecv(last) {
		want = dirSendRecv
	}
	return makeDirection(hasSend(want) && hasRecv(offered), hasRecv(want) && hasSend(offered))
}

// checkHold derives the hold flags from the negotiated local direction, as
// the reference's _check_hold does: we hold the stream when we only send
// (inactive keeps the previous value, since it may be either side); the
// remote holds it when we may not send.
func checkHold(dir string, wasOnHoldByLocal bool) (onHoldByLocal, onHoldByRemote bool) {
	onHoldByLocal = wasOnHoldByLocal
	if dir != dirInactive {
		onHoldByLocal = dir == dirSendOnly
	}
	return onHoldByLocal, !hasSend(dir)
}

// withoutRecv drops "recv" from dir: a remote that asks for an old-style
// hold (c=0.0.0.0) does not want to receive, whatever its direction says
// (reference §3.5).
func withoutRecv(dir string) string { return makeDirection(hasSend(dir), false) }
