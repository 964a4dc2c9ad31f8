package engine

import (
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// LocalTag returns the To tag [Engine.Respond] puts on responses to req:
// req's own To tag for an in-dialog request, else a tag derived from the
// request's transaction (Call-ID, From tag, Via branch, CSeq method) and a
// secret of the engine, so that every response of one transaction carries
// the same tag (sipgo would draw a new one per response) and tags cannot
// be guessed (RFC 3261 §19.3).
func (e *Engine) LocalTag(req *sip.Request) string {
	if to := req.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok && tag != "" {
			return tag
		}
	}
	var callID, fromTag, branch, method string
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if from := req.From(); from != nil {
		fromTag, _ = from.Params.Get("tag")
	}
	if via := req.Via(); via != nil {
		branch, _ = via.Params.Get("branch")
	}
	if cseq := req.CSeq(); cseq != nil {
		method = string(cseq.MethodName)
	}
	return e.tag("", callID, fromTag, branch, method)
}

// needsContact reports whether a response establishes a dialog and so
// must carry a Contact (RFC 3261 §12.1.1, RFC 6665 §4.1.1, RFC 3515).
func needsContact(req *sip.Request, code int) bool {
	switch req.Method {
	case sip.INVITE:
		return code > 100 && code < 300
	case sip.SUBSCRIBE, sip.REFER:
		return code >= 200 && code < 300
	}
	return false
}

// Respond answers req with code and reason through tx (or statelessly when
// tx is nil). The response is built from the request (RFC 3261 §8.2.6):
// Via, From, To, Call-ID, CSeq copied, Record-Route where due, the To tag
// of [Engine.LocalTag] (unless hdrs carry a To header, which then replaces
// the copied one), the body, then hdrs, a User-Agent, and — for a response
// that creates a dialog (101-299 to INVITE, 2xx to SUBSCRIBE or REFER)
// without a Contact in hdrs — a Contact on the engine's address the
// request came to (sips: if the Request-URI was). hdrs should include the
// body's Content-Type. After a 2xx to an INVITE the engine absorbs the
// INVITE's retransmissions for 64·T1 (RFC 6026; see
// [ReleaseAcceptedInvites]).
func (e *Engine) Respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) error {
	res := e.newResponse(req, code, reason, body, hdrs...)
	if needsContact(req, code) && res.Contact() == nil {
		if c, ok := e.contactForRequest(tx, req); ok {
			res.AppendHeader(&sip.ContactHeader{Address: c})
		}
	}
	if tx == nil {
		return e.ua.TransportLayer().WriteMsg(res)
	}
	if code >= 200 && code < 300 && req.Method == sip.INVITE {
		// The engine absorbs the INVITE's retransmissions from now on,
		// should the transaction end with its 2xx (accepted.go).
		e.accepted.add(req)
	}
	return tx.Respond(res)
}

// newResponse builds the response of Respond, without its Contact.
func (e *Engine) newResponse(req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	// The engine speaks SIP/2.0 only, whatever the request said (a request
	// of another version is answered 505 in SIP/2.0, RFC 3261 §8.2.2).
	res.SipVersion = "SIP/2.0"
	ownTo := false
	for _, h := range hdrs {
		if h == nil {
			continue
		}
		if strings.EqualFold(h.Name(), "To") {
			res.ReplaceHeader(h)
			ownTo = true
			continue
		}
		res.AppendHeader(h)
	}
	if !ownTo && code > 100 {
		if to := res.To(); to != nil {
			to.Params.Add("tag", e.LocalTag(req))
		}
	}
	if ua := e.cfg.UserAgent; ua != "" && res.GetHeader("User-Agent") == nil {
		res.AppendHeader(sip.NewHeader("User-Agent", ua))
	}
	return res
}

// contactForRequest is the Contact for a response to req: the local
// address the request arrived on, the listening port of its transport.
func (e *Engine) contactForRequest(tx sip.ServerTransaction, req *sip.Request) (sip.Uri, bool) {
	t := Transport(strings.ToLower(req.Transport()))
	var local net.IP
	if stx, ok := tx.(*sip.ServerTx); ok && stx.Connection() != nil {
		switch a := stx.Connection().LocalAddr().(type) {
		case *net.UDPAddr:
			local = a.IP
		case *net.TCPAddr:
			local = a.IP
		}
	}
	var src net.IP
	if host, _, err := net.SplitHostPort(req.Source()); err == nil {
		src = net.ParseIP(host)
	}
	family := local
	if family == nil {
		family = src
	}
	if family == nil {
		return sip.Uri{}, false
	}
	l := e.listenerFor(t, family)
	if l == nil {
		return sip.Uri{}, false
	}
	if local == nil || local.IsUnspecified() {
		local = localIP(l, src)
	}
	return contactURI(t, req.Recipient.User, local, l.addr.Port, req.Recipient.IsEncrypted()), true
}
