package focustest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/refer"
)

// Subscription lifetimes the focus grants.
const (
	defaultExpires = 600
	maxExpires     = 3600
	referExpires   = 60
)

// subscription is a dialog the focus notifies on: a conference
// subscription, or the implicit subscription of a REFER.
type subscription struct {
	conf       bool
	event      string // the Event header of its NOTIFYs
	callID     string
	local      sip.FromHeader // us, with our tag: From of the NOTIFYs
	remote     sip.ToHeader   // the subscriber, with its tag: To of the NOTIFYs
	target     sip.Uri        // the subscriber's Contact
	transport  string
	subscriber string // its AOR, for events
	expires    int

	// Owned by the goroutine that sends the NOTIFYs, in order.
	cseq    uint32
	version uint32

	queue chan notifyJob
	ended bool // a terminating NOTIFY is queued: nothing more is
}

// notifyJob is one NOTIFY to send.
type notifyJob struct {
	doc   *conference.Info // a conference-info document, versioned when sent
	body  []byte           // else this body
	ctype string           // of body
	state string           // Subscription-State
	// answer, when set, gets the subscriber's response code (0 when none
	// came).
	answer chan<- int
}

func (s *subscription) activeState() string {
	return "active;expires=" + strconv.Itoa(s.expires)
}

// enqueueLocked queues a NOTIFY; a terminating one ends the queue.
func (s *subscription) enqueueLocked(j notifyJob) {
	if s.ended {
		if j.answer != nil {
			j.answer <- 0
		}
		return
	}
	if strings.HasPrefix(j.state, "terminated") {
		s.ended = true
	}
	select {
	case s.queue <- j:
	default:
		// A subscriber that answers nothing for 64 NOTIFYs.
		if j.answer != nil {
			j.answer <- 0
		}
	}
}

// newSubscription makes the subscription a SUBSCRIBE or REFER creates and
// starts the goroutine sending its NOTIFYs; res is the 2xx response that
// carries our tag. f.mu is held.
func (f *Focus) newSubscriptionLocked(req *sip.Request, res *sip.Response, conf bool, event string, expires int) *subscription {
	from, to := req.From(), res.To()
	s := &subscription{
		conf: conf, event: event, callID: req.CallID().Value(),
		local:      sip.FromHeader{DisplayName: to.DisplayName, Address: to.Address, Params: to.Params.Clone()},
		remote:     sip.ToHeader{DisplayName: from.DisplayName, Address: from.Address, Params: from.Params.Clone()},
		target:     from.Address,
		transport:  req.Transport(),
		subscriber: aorOf(from.Address),
		expires:    expires,
		queue:      make(chan notifyJob, 64),
	}
	if c := req.Contact(); c != nil {
		s.target = c.Address
	}
	f.subs[s.callID] = s
	if !f.spawnLocked(func() { f.notifier(s) }) {
		s.ended = true
	}
	return s
}

// notifier sends s's NOTIFYs in order until the terminating one.
func (f *Focus) notifier(s *subscription) {
	for {
		var j notifyJob
		select {
		case j = <-s.queue:
		case <-f.ctx.Done():
			return
		}
		code := f.sendNotify(s, j)
		if j.answer != nil {
			j.answer <- code
		}
		f.record(Event{Kind: EventNotifyAnswered, From: s.subscriber, Value: s.event, Code: code})
		if strings.HasPrefix(j.state, "terminated") || code == 481 {
			f.mu.Lock()
			if f.subs[s.callID] == s {
				delete(f.subs, s.callID)
			}
			s.ended = true
			f.recordLocked(Event{Kind: EventSubscriptionEnded, From: s.subscriber, Value: s.event, Code: code})
			f.mu.Unlock()
			return
		}
	}
}

// sendNotify sends one NOTIFY and returns the answer's code (0 for none).
func (f *Focus) sendNotify(s *subscription, j notifyJob) int {
	req := sip.NewRequest(sip.NOTIFY, s.target)
	req.SetTransport(s.transport)
	from, to := s.local, s.remote
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	s.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.NOTIFY})
	contact := f.contact
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", s.event))
	req.AppendHeader(sip.NewHeader("Subscription-State", j.state))
	body, ctype := j.body, j.ctype
	if j.doc != nil {
		s.version++
		j.doc.Version, j.doc.HasVersion = s.version, true
		body, ctype = j.doc.Marshal(), conference.ContentType
	}
	if len(body) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	}
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(f.ctx, requestTimeout)
	defer cancel()
	res, err := f.cli.Do(ctx, req)
	if err != nil {
		f.log.Info("NOTIFY not answered", "to", s.subscriber, "error", err)
		return 0
	}
	return res.StatusCode
}

// onSubscribe takes a conference SUBSCRIBE: a new subscription, a refresh
// or an unsubscription (Expires: 0).
func (f *Focus) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	ev, err := refer.ParseEvent(headerValue(req, "Event"))
	if err != nil || !strings.EqualFold(ev.Type, refer.EventConference) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 489, "Bad Event", nil))
		return
	}
	if from := req.From(); from == nil || req.CallID() == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	expires := defaultExpires
	if v := headerValue(req, "Expires"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		expires = min(n, maxExpires)
	}
	inDialog := req.To() != nil && req.To().Params.Has("tag")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.subs[req.CallID().Value()]
	if inDialog && (s == nil || !s.conf || s.ended) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	if f.closed {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	contact := f.contact
	res.AppendHeader(&contact)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	if err := tx.Respond(res); err != nil {
		return
	}
	how := "refresh"
	if s == nil {
		how = "initial"
		s = f.newSubscriptionLocked(req, res, true, refer.EventConference, expires)
	}
	s.expires = expires
	if expires == 0 {
		how = "unsubscribe"
		s.enqueueLocked(notifyJob{state: "terminated;reason=timeout"})
	} else {
		// RFC 6665 §4.2.1.2: every accepted SUBSCRIBE gets the full state.
		s.enqueueLocked(notifyJob{doc: f.fullLocked(), state: s.activeState()})
	}
	f.recordLocked(Event{Kind: EventSubscribed, From: s.subscriber, Value: how})
}

// NotifyRaw sends a NOTIFY with body (as application/conference-info+xml)
// on every conference subscription and returns the subscribers' answers,
// 0 for none. It does not count as a version.
func (f *Focus) NotifyRaw(ctx context.Context, body []byte) ([]int, error) {
	return f.NotifyState(ctx, body, "")
}

// NotifyState is NotifyRaw with the Subscription-State state ("" for
// active with the subscription's expiry). A state starting with
// "terminated" ends the subscriptions as the subscribers are told.
func (f *Focus) NotifyState(ctx context.Context, body []byte, state string) ([]int, error) {
	f.mu.Lock()
	var waits []chan int
	for _, s := range f.subs {
		if s.conf && !s.ended {
			ch := make(chan int, 1)
			st := state
			if st == "" {
				st = s.activeState()
			}
			s.enqueueLocked(notifyJob{body: body, ctype: conference.ContentType, state: st, answer: ch})
			waits = append(waits, ch)
		}
	}
	f.mu.Unlock()
	if len(waits) == 0 {
		return nil, fmt.Errorf("focustest: no conference subscription")
	}
	codes := make([]int, 0, len(waits))
	for _, ch := range waits {
		select {
		case c := <-ch:
			codes = append(codes, c)
		case <-ctx.Done():
			return codes, ctx.Err()
		}
	}
	return codes, nil
}

// headerValue is the value of a request's first header name, "" when
// absent.
func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}
