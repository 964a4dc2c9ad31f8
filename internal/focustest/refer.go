package focustest

import (
	"context"
	"errors"
	"net"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/refer"
)

// onRefer takes an out-of-dialog REFER (RFC 4579 §5.5, §5.7): 202, then
// the target is dialed (method INVITE) or hung up on (method BYE), with
// the progress in sipfrag NOTIFYs.
func (f *Focus) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	from := req.From()
	rt, err := refer.ParseReferTo(headerValue(req, "Refer-To"))
	if from == nil || req.CallID() == nil || req.CSeq() == nil || err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	target, method := rt.Destination(), rt.Method()
	ev := Event{Kind: EventRefer, From: aorOf(from.Address), Value: target.String(), Method: method}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	if f.referCode != 0 {
		ev.Code = f.referCode
		_ = tx.Respond(sip.NewResponseFromRequest(req, f.referCode, f.referReason, nil))
		f.recordLocked(ev)
		return
	}
	if method != "INVITE" && method != "BYE" {
		ev.Code = 501
		_ = tx.Respond(sip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
		f.recordLocked(ev)
		return
	}
	res := sip.NewResponseFromRequest(req, 202, "Accepted", nil)
	contact := f.contact
	res.AppendHeader(&contact)
	if err := tx.Respond(res); err != nil {
		return
	}
	ev.Code = 202
	f.recordLocked(ev)
	s := f.newSubscriptionLocked(req, res, false, refer.NewReferEvent(req.CSeq().SeqNo).String(), referExpires)
	if f.referBody != nil {
		// GarbleReferProgress: one NOTIFY with that body, and no call.
		s.enqueueLocked(notifyJob{body: f.referBody, ctype: refer.ContentTypeSipfrag, state: "terminated;reason=noresource"})
		return
	}
	s.enqueueLocked(sipfrag(s, 100, "Trying", false))
	if method == "INVITE" {
		m := &member{aor: target.String(), endpoint: target.String(), status: conference.StatusDialingOut,
			joining: conference.JoinedDialedOut, referBy: ev.From, chatWait: make(chan struct{})}
		close(m.chatWait)
		f.addLocked(m)
		f.spawnLocked(func() { f.dialOut(s, m, target) })
		return
	}
	f.spawnLocked(func() { f.hangUpFor(s, target) })
}

// sipfrag is a NOTIFY of a refer subscription reporting a status.
func sipfrag(s *subscription, code int, reason string, final bool) notifyJob {
	state := s.activeState()
	if final {
		state = "terminated;reason=noresource"
	}
	return notifyJob{body: refer.NewSipfrag(code, reason).Marshal(), ctype: refer.ContentTypeSipfrag, state: state}
}

// dialOut calls m for a REFER with method INVITE, offering audio.
func (f *Focus) dialOut(s *subscription, m *member, target sip.Uri) {
	code, reason := f.invite(m, target, func(r *sip.Response) {
		if r.StatusCode <= 100 {
			return // 100 Trying went first
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		s.enqueueLocked(sipfrag(s, r.StatusCode, r.Reason, false))
		if r.StatusCode == 180 || r.StatusCode == 183 {
			m.status = conference.StatusAlerting
			f.changedLocked(m, false)
		}
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	s.enqueueLocked(sipfrag(s, code, reason, true))
	f.recordLocked(Event{Kind: EventDialed, From: m.aor, Code: code})
	if code >= 300 {
		if f.removeLocked(m) {
			m.release()
		}
		return
	}
	if f.closed {
		return
	}
	m.status = conference.StatusConnected
	f.changedLocked(m, false)
}

// invite calls target with an audio offer and returns the final code;
// progress gets every provisional response.
func (f *Focus) invite(m *member, target sip.Uri, progress func(*sip.Response)) (int, string) {
	pc, err := f.dropSocket()
	if err != nil {
		return 500, "Server Internal Error"
	}
	f.mu.Lock()
	m.rtp = append(m.rtp, pc)
	f.mu.Unlock()
	offer := newSessionDescription(f.uri.Host)
	a := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: pc.LocalAddr().(*net.UDPAddr).Port}, Protos: []string{"RTP", "AVP"},
		Formats: []string{"0", "8", "101"},
	}}
	a.WithValueAttribute("rtpmap", "0 PCMU/8000")
	a.WithValueAttribute("rtpmap", "8 PCMA/8000")
	a.WithValueAttribute("rtpmap", "101 telephone-event/8000")
	a.WithValueAttribute("fmtp", "101 0-15")
	a.WithPropertyAttribute("sendrecv")
	offer.MediaDescriptions = []*sdp.MediaDescription{a}
	body, err := offer.Marshal()
	if err != nil {
		return 500, "Server Internal Error"
	}
	req := sip.NewRequest(sip.INVITE, target)
	if tr, ok := target.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(tr)
	}
	from := sip.FromHeader{DisplayName: "Conference", Address: f.uri, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: target, Params: sip.NewParams()})
	if m.referBy != "" {
		req.AppendHeader(sip.NewHeader("Referred-By", "<"+m.referBy+">"))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(f.ctx, requestTimeout)
	defer cancel()
	dlg, err := f.out.WriteInvite(ctx, req)
	if err != nil {
		f.log.Info("INVITE not sent", "to", target.String(), "error", err)
		return 503, "Service Unavailable"
	}
	f.mu.Lock()
	m.out, m.callID = dlg, req.CallID().Value()
	f.mu.Unlock()
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		if r.IsProvisional() {
			progress(r)
		}
		return nil
	}})
	if err != nil {
		_ = dlg.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return de.Res.StatusCode, de.Res.Reason
		}
		f.log.Info("INVITE failed", "to", target.String(), "error", err)
		return 408, "Request Timeout"
	}
	if err := dlg.Ack(ctx); err != nil {
		f.log.Info("ACK not sent", "to", target.String(), "error", err)
	}
	res := dlg.InviteResponse
	f.mu.Lock()
	m.dialog = &conference.SIPDialogID{CallID: m.callID, FromTag: tagOf(from.Params), ToTag: tagOf(res.To().Params)}
	m.endpoint = target.String()
	if c := res.Contact(); c != nil {
		m.endpoint = c.Address.String()
	}
	f.mu.Unlock()
	return res.StatusCode, res.Reason
}

// hangUpFor sends the BYE a REFER with method BYE asks for.
func (f *Focus) hangUpFor(s *subscription, target sip.Uri) {
	f.mu.Lock()
	m := f.byURILocked(target.String())
	f.mu.Unlock()
	code, reason := 404, "Not Found"
	if m != nil {
		ctx, cancel := context.WithTimeout(f.ctx, requestTimeout)
		err := m.hangUp(ctx)
		cancel()
		code, reason = 200, "OK"
		var de sipgo.ErrDialogResponse
		var dp *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &de):
			code, reason = de.Res.StatusCode, de.Res.Reason
		case errors.As(err, &dp):
			code, reason = dp.Res.StatusCode, dp.Res.Reason
		case err != nil:
			code, reason = 500, "Server Internal Error"
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m != nil && f.removeLocked(m) {
		m.release()
	}
	s.enqueueLocked(sipfrag(s, code, reason, true))
	f.recordLocked(Event{Kind: EventRemoved, From: target.String(), Code: code})
}
