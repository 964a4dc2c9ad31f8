package sdpaudio

// SDP direction attributes (RFC 3264 §5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// HasSend reports whether dir lets the local side send.
func HasSend(dir string) bool { return dir == SendRecv || dir == SendOnly }

// HasRecv reports whether dir lets the local side receive.
func HasRecv(dir string) bool { return dir == SendRecv || dir == RecvOnly }

// MakeDirection builds a direction from its two halves.
func MakeDirection(send, recv bool) string {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Reverse returns the direction as the other side sees it.
func Reverse(dir string) string { return MakeDirection(HasRecv(dir), HasSend(dir)) }

// OfferDirection is the direction to offer given the last negotiated local
// direction ("" before any) and whether we hold the stream (reference
// §3.5): sendrecv first; if we were sending, sendonly while holding else
// sendrecv; if we were not (the remote holds us), inactive while holding
// else recvonly.
func OfferDirection(last string, holding bool) string {
	if last == "" {
		return SendRecv
	}
	return MakeDirection(HasSend(last), !holding)
}

// AnswerDirection is the direction to answer an offer with: sendrecv if
// nothing was negotiated or we were receiving, else sendonly, intersected
// with the offer (we send only if the offerer receives and receive only if
// it sends).
func AnswerDirection(last, offered string) string {
	recv := last == "" || HasRecv(last)
	return MakeDirection(HasRecv(offered), recv && HasSend(offered))
}

// Negotiated returns our direction after an exchange: what our SDP says,
// narrowed by what the remote's allows.
func Negotiated(local, remote string) string {
	return MakeDirection(HasSend(local) && HasRecv(remote), HasRecv(local) && HasSend(remote))
}

// CheckHold derives the hold flags from the negotiated local direction as
// the reference's _check_hold: we hold when we only send (inactive keeps the
// previous value), the remote holds when we may not send.
func CheckHold(dir string, wasLocal bool) (local, remote bool) {
	local = wasLocal
	if dir != Inactive {
		local = dir == SendOnly
	}
	return local, !HasSend(dir)
}
