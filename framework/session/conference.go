package session

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/refer"
)

// Conference notification names (reference §2.6), sent by the session
// whose remote is the focus.
const (
	SIPConferenceDidAddParticipant            = "SIPConferenceDidAddParticipant"
	SIPConferenceDidRemoveParticipant         = "SIPConferenceDidRemoveParticipant"
	SIPConferenceDidNotAddParticipant         = "SIPConferenceDidNotAddParticipant"
	SIPConferenceDidNotRemoveParticipant      = "SIPConferenceDidNotRemoveParticipant"
	SIPConferenceGotAddParticipantProgress    = "SIPConferenceGotAddParticipantProgress"
	SIPConferenceGotRemoveParticipantProgress = "SIPConferenceGotRemoveParticipantProgress"
	// SIPSessionConferenceInfoDidFail is ours: a conference-info NOTIFY
	// that could not be read (it was answered 400), with the reason.
	SIPSessionConferenceInfoDidFail = "SIPSessionConferenceInfoDidFail"
)

// DefaultSubscribeInterval is sip.subscribe_interval's default: the
// lifetime asked for the conference subscription, refreshed before it
// runs out.
const DefaultSubscribeInterval = 600 * time.Second

// GotConferenceInfoData is the data of SIPSessionGotConferenceInfo: the
// conference's state after the NOTIFY (full, partial updates applied).
type GotConferenceInfoData struct {
	ConferenceInfo *conference.Info
}

// ConferenceInfoFailureData is the data of SIPSessionConferenceInfoDidFail.
type ConferenceInfoFailureData struct {
	Reason string
}

// ParticipantData is the data of SIPConferenceDidAddParticipant and
// SIPConferenceDidRemoveParticipant.
type ParticipantData struct {
	Participant string
}

// ParticipantStatusData is the data of the …DidNot… and …Progress
// conference notifications.
type ParticipantStatusData struct {
	Participant string
	Code        int
	Reason      string
}

// subDialog is a dialog of the session's own beside its INVITE dialog: the
// conference subscription, or a REFER asking the focus to add or remove a
// participant.
type subDialog struct {
	callID, localTag, remoteTag string
	target                      sip.Uri
	cseq                        uint32
	// conference subscription
	conf     bool
	tracker  *conference.Tracker
	refresh  *time.Timer
	gone     bool // unsubscribed: what comes later is ignored
	interval time.Duration
	// participant REFER
	participant sip.Uri
	remove      bool
	done        bool
}

// ConferenceInfo returns the conference's last known state (nil before the
// first conference-info NOTIFY).
func (s *Session) ConferenceInfo() *conference.Info {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if s.confInfo == nil {
		return nil
	}
	return s.confInfo.Clone()
}

// subscribeInterval is sip.subscribe_interval of the account, else the
// default.
func (s *Session) subscribeInterval() time.Duration {
	if s.acc != nil {
		if v, ok := s.acc.Settings["sip.subscribe_interval"]; ok {
			if d, err := parseSeconds(v); err == nil && d > 0 {
				return d
			}
		}
	}
	return DefaultSubscribeInterval
}

// newSubDialog makes a dialog of the session's to the remote identity and
// makes the manager route its requests here.
func (s *Session) newSubDialog(d *subDialog) *subDialog {
	d.callID, d.localTag = sip.GenerateTagN(32), sip.GenerateTagN(16)
	d.target = s.remoteURI
	d.cseq = uint32(rand.IntN(1 << 16))
	s.subs[d.callID] = d
	s.m.addDialog(d.callID, s)
	return d
}

func (s *Session) dropSubDialog(d *subDialog) {
	s.stopTimer(d.refresh)
	delete(s.subs, d.callID)
	s.m.removeDialog(d.callID, s)
}

// subRequest is a request of the dialog d.
func (s *Session) subRequest(d *subDialog, method sip.RequestMethod) *sip.Request {
	d.cseq++
	req := s.dialogRequest(method, d.target, d.callID, d.localTag, d.remoteTag, d.cseq)
	req.AppendHeader(s.contact())
	return req
}

// focusStarted subscribes to the conference once a session with a
// focus is connected (RFC 4579 §9, reference §2.9).
func (s *Session) focusStarted() {
	if !s.remoteFocus || s.conf != nil {
		return
	}
	s.conf = s.newSubDialog(&subDialog{conf: true, tracker: conference.NewTracker(), interval: s.subscribeInterval()})
	s.subscribe(s.conf)
}

// subscribe sends (or refreshes) the conference SUBSCRIBE of d.
func (s *Session) subscribe(d *subDialog) {
	if d.gone {
		return
	}
	req := s.subRequest(d, sip.SUBSCRIBE)
	req.AppendHeader(sip.NewHeader("Event", refer.EventConference))
	req.AppendHeader(sip.NewHeader("Accept", conference.ContentType))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(d.interval/time.Second))))
	s.send(s.ctx, req, s.route, txEvents{
		response: func(res *sip.Response) {
			if res.StatusCode < 200 || s.conf != d {
				return
			}
			switch {
			case res.StatusCode < 300:
				if to := res.To(); to != nil && d.remoteTag == "" {
					d.remoteTag, _ = to.Params.Get("tag")
				}
				if c := contactOf(res); c != nil {
					d.target = c.Address
				}
				exp := d.interval
				if h := res.GetHeader("Expires"); h != nil {
					if n, err := strconv.Atoi(h.Value()); err == nil && n > 0 {
						exp = time.Duration(n) * time.Second
					}
				}
				// Refresh ahead of the expiry (RFC 6665 §4.1.2.1).
				s.stopTimer(d.refresh)
				d.refresh = s.after(max(exp/2, exp-30*time.Second), func() { s.subscribe(d) })
			case res.StatusCode == 405 || res.StatusCode == 406 || res.StatusCode == 489:
				// The focus has no conference package: give up (§2.9).
				s.m.log.Info("conference subscription refused", "code", res.StatusCode)
				d.gone = true
			default:
				s.resubscribeLater(d, 60, 120)
			}
		},
		failed: func(error) {
			if s.conf == d {
				s.resubscribeLater(d, 60, 180)
			}
		},
	})
}

// resubscribeLater starts a fresh subscription after a random wait of
// lo..hi seconds (the reference's retry table).
func (s *Session) resubscribeLater(d *subDialog, lo, hi int) {
	s.stopTimer(d.refresh)
	wait := time.Duration(lo+rand.IntN(hi-lo+1)) * time.Second
	d.refresh = s.after(wait, func() {
		if s.conf != d || d.gone {
			return
		}
		s.dropSubDialog(d)
		s.conf = nil
		s.focusStarted()
	})
}

// unsubscribe ends the conference subscription (Expires: 0) as the
// session ends.
func (s *Session) unsubscribe() {
	d := s.conf
	if d == nil {
		return
	}
	s.conf = nil
	d.gone = true
	if d.remoteTag != "" {
		req := s.subRequest(d, sip.SUBSCRIBE)
		req.AppendHeader(sip.NewHeader("Event", refer.EventConference))
		req.AppendHeader(sip.NewHeader("Expires", "0"))
		s.fireAndForget(req, s.route, ShortReinviteTimeout)
	}
	s.dropSubDialog(d)
}

// gotSubNotify handles a NOTIFY of one of the session's own dialogs: the
// conference state, or the progress of a participant REFER.
func (s *Session) gotSubNotify(r *serverReq) {
	id := ""
	if cid := r.req.CallID(); cid != nil {
		id = cid.Value()
	}
	d := s.subs[id]
	if d == nil || d.gone || d.done {
		s.respond(r, 481, "Subscription Does Not Exist", nil)
		return
	}
	if from := r.req.From(); from != nil && d.remoteTag == "" {
		d.remoteTag, _ = from.Params.Get("tag")
	}
	state := refer.SubscriptionState{State: refer.SubStateActive}
	if h := r.req.GetHeader("Subscription-State"); h != nil {
		st, err := refer.ParseSubscriptionState(h.Value())
		if err != nil {
			s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed Subscription-State"`))
			return
		}
		state = st
	}
	if d.conf {
		s.conferenceNotify(r, d, state)
		return
	}
	s.participantNotify(r, d, state)
}

func (s *Session) conferenceNotify(r *serverReq, d *subDialog, state refer.SubscriptionState) {
	if ev, err := eventOf(r.req); err != nil || ev.Type != refer.EventConference {
		s.respond(r, 489, "Bad Event", nil)
		return
	}
	if len(r.req.Body()) > 0 {
		info, err := d.tracker.Update(r.req.Body())
		switch {
		case errors.Is(err, conference.ErrOutdated):
			s.respond(r, 200, "OK", nil) // an old state: nothing to do
		case errors.Is(err, conference.ErrVersionGap):
			// A partial update we cannot place: ask for the full state.
			s.respond(r, 200, "OK", nil)
			d.tracker.Reset()
			s.subscribe(d)
		case err != nil:
			s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "unreadable conference-info"`))
			s.post(SIPSessionConferenceInfoDidFail, ConferenceInfoFailureData{Reason: err.Error()})
			return
		default:
			s.respond(r, 200, "OK", nil)
			s.publish(func() { s.confInfo = info })
			s.post(SIPSessionGotConferenceInfo, GotConferenceInfoData{ConferenceInfo: info.Clone()})
		}
	} else {
		s.respond(r, 200, "OK", nil)
	}
	if state.State == refer.SubStateTerminated {
		switch state.Reason {
		case refer.ReasonDeactivated, refer.ReasonTimeout:
			// RFC 6665 §4.2.2: subscribe again at once.
			s.dropSubDialog(d)
			s.conf = nil
			s.focusStarted()
		case refer.ReasonProbation, refer.ReasonGiveUp:
			wait := 60
			if state.HasRetryAfter {
				wait = int(state.RetryAfter)
			}
			s.resubscribeLater(d, wait, wait+30)
		default:
			d.gone = true
			s.dropSubDialog(d)
			s.conf = nil
		}
	}
}

// AddParticipant asks the focus to invite uri into the conference (RFC
// 4579 §5.5: an out-of-dialog REFER with method=INVITE). Progress comes as
// SIPConferenceGotAddParticipantProgress, the outcome as
// SIPConferenceDidAddParticipant or SIPConferenceDidNotAddParticipant.
func (s *Session) AddParticipant(uri sip.Uri) error {
	return s.do("add_participant", func() error { return s.referParticipant(uri, false) })
}

// RemoveParticipant asks the focus to end uri's participation (a REFER
// with method=BYE); the outcome is SIPConferenceDidRemoveParticipant or
// SIPConferenceDidNotRemoveParticipant.
func (s *Session) RemoveParticipant(uri sip.Uri) error {
	return s.do("remove_participant", func() error { return s.referParticipant(uri, true) })
}

func (s *Session) referParticipant(uri sip.Uri, remove bool) error {
	call := map[bool]string{false: "add_participant", true: "remove_participant"}[remove]
	if err := s.require(call, StateConnected, StateSendingProposal, StateCancellingProposal, StateReceivedProposal,
		StateAcceptingProposal, StateRejectingProposal, StateReceivedProposalRequest); err != nil {
		return err
	}
	d := &subDialog{participant: uri, remove: remove}
	if !s.remoteFocus {
		s.participantFailed(d, 0, "remote endpoint is not a focus")
		return nil
	}
	s.newSubDialog(d)
	method := "INVITE"
	if remove {
		method = "BYE"
	}
	req := s.subRequest(d, sip.REFER)
	req.AppendHeader(sip.NewHeader("Refer-To", refer.NewReferTo(uri).WithMethod(method).String()))
	req.AppendHeader(sip.NewHeader("Referred-By", refer.NewReferredBy(s.localURI).String()))
	s.send(s.ctx, req, s.route, txEvents{
		response: func(res *sip.Response) {
			if res.StatusCode < 200 || d.done || s.subs[d.callID] != d {
				return
			}
			if res.StatusCode >= 300 {
				s.participantFailed(d, res.StatusCode, res.Reason)
				return
			}
			if to := res.To(); to != nil && d.remoteTag == "" {
				d.remoteTag, _ = to.Params.Get("tag")
			}
		},
		failed: func(err error) {
			if !d.done && s.subs[d.callID] == d {
				s.participantFailed(d, 408, "Request Timeout")
			}
		},
	})
	return nil
}

// participantNotify reads the progress of a participant REFER: codes
// below 300 are progress, the end of the subscription the success, a
// failure code the failure.
func (s *Session) participantNotify(r *serverReq, d *subDialog, state refer.SubscriptionState) {
	if ev, err := eventOf(r.req); err != nil || ev.Type != refer.EventRefer {
		s.respond(r, 489, "Bad Event", nil)
		return
	}
	var frag refer.Sipfrag
	if len(r.req.Body()) > 0 {
		var err error
		if frag, err = refer.ParseSipfrag(r.req.Body()); err != nil {
			s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "the body is not a message/sipfrag status line"`))
			s.participantFailed(d, 0, "malformed NOTIFY: "+err.Error())
			return
		}
	}
	s.respond(r, 200, "OK", nil)
	switch {
	case frag.StatusCode >= 300:
		s.participantFailed(d, frag.StatusCode, frag.Reason)
		return
	case frag.StatusCode > 0:
		name := SIPConferenceGotAddParticipantProgress
		if d.remove {
			name = SIPConferenceGotRemoveParticipantProgress
		}
		s.post(name, ParticipantStatusData{Participant: d.participant.String(), Code: frag.StatusCode, Reason: frag.Reason})
	}
	if state.State == refer.SubStateTerminated {
		d.done = true
		s.dropSubDialog(d)
		name := SIPConferenceDidAddParticipant
		if d.remove {
			name = SIPConferenceDidRemoveParticipant
		}
		s.post(name, ParticipantData{Participant: d.participant.String()})
	}
}

func (s *Session) participantFailed(d *subDialog, code int, reason string) {
	d.done = true
	if d.callID != "" {
		s.dropSubDialog(d)
	}
	name := SIPConferenceDidNotAddParticipant
	if d.remove {
		name = SIPConferenceDidNotRemoveParticipant
	}
	s.post(name, ParticipantStatusData{Participant: d.participant.String(), Code: code, Reason: reason})
}

// closeSubDialogs ends the session's own dialogs as it terminates: the
// conference subscription is ended, participant REFERs still waiting fail
// (§2.9: "error").
func (s *Session) closeSubDialogs() {
	s.unsubscribe()
	for _, d := range s.subs {
		if !d.conf && !d.done {
			s.participantFailed(d, 0, "error")
			continue
		}
		s.dropSubDialog(d)
	}
}
