package chatstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/chat/internal/outbox"
	"github.com/sipstreams/sipstreams/plugins/chat/internal/payload"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// stream is one chat stream.
type stream struct {
	*msrpstream.Base

	env     *sdk.Env
	account *sdk.Account
	maxSize int64
	// window is chat.send_window: how many messages wait for their
	// transaction response at most.
	window int
	// preferCPIM is chat.prefer_cpim.
	preferCPIM bool
	out        *outbox.Outbox
	in         *inbox
	now        func() time.Time

	mu          sync.Mutex
	local       chat.Identity
	remote      chat.Identity
	remoteFocus bool
	ended       bool
	stop        chan struct{}      // closed by End: the sender returns
	cancelSend  context.CancelFunc // cancels the sender's Send, set by started
	wg          sync.WaitGroup     // the sender
	// nickCtx ends the NICKNAME transactions in flight, counted by
	// nickWG; End cancels it and waits for them.
	nickCtx    context.Context
	nickCancel context.CancelFunc
	nickWG     sync.WaitGroup
}

var _ sdk.Stream = (*stream)(nil)

func newStream(env *sdk.Env, account *sdk.Account, pool *reassembly) *stream {
	s := &stream{
		env:        env,
		account:    account,
		maxSize:    maxMessageSize(account),
		window:     int(min(byteSetting(account, chat.SettingSendWindow, chat.DefaultSendWindow), maxSendWindow)),
		preferCPIM: boolSetting(account, chat.SettingPreferCPIM, true),
		out:        outbox.New(env.Notifier),
		now:        time.Now,
		stop:       make(chan struct{}),
	}
	s.in = newInbox(s.maxSize, byteSetting(account, chat.SettingMaxReassemblyMemory, chat.DefaultMaxReassemblyMemory), pool)
	s.nickCtx, s.nickCancel = context.WithCancel(context.Background())
	if account != nil {
		s.local = chat.Identity{URI: account.URI, DisplayName: account.DisplayName}
	}
	return s
}

// baseEnv is the Env given to the MSRP base: its notifications pass
// through s.observe on their way to the host.
func (s *stream) baseEnv() *sdk.Env {
	return s.env.Observed(s.observe)
}

// observe fails the outbox, as the reference does, when the stream fails
// or starts ending: every message still queued or unacknowledged gets
// ChatStreamDidNotDeliverMessage after MediaStreamDidFail or
// MediaStreamWillEnd and before MediaStreamDidEnd. The messages still
// arriving are dropped then, and their memory given back.
func (s *stream) observe(name string) {
	switch name {
	case sdk.MediaStreamDidFail, sdk.MediaStreamWillEnd:
		s.out.Close(chat.ReasonStreamEnded)
		s.in.close()
	}
}

// maxSendWindow caps chat.send_window.
const maxSendWindow = 1 << 16

// maxMessageSize reads chat.max_message_size.
func maxMessageSize(a *sdk.Account) int64 {
	return byteSetting(a, chat.SettingMaxMessageSize, chat.DefaultMaxMessageSize)
}

// byteSetting reads a positive count (of bytes, or of messages); def when
// unset or invalid.
func byteSetting(a *sdk.Account, name string, def int64) int64 {
	v := a.Setting(name, "")
	if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
		return n
	}
	return def
}

// boolSetting reads a true/false setting.
func boolSetting(a *sdk.Account, name string, def bool) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(a.Setting(name, strconv.FormatBool(def))))
	if err != nil {
		return def
	}
	return v
}

// config is what the MSRP base needs to know about the chat type.
func (s *stream) config() msrpstream.Config {
	return msrpstream.Config{
		MediaType:          chat.MediaType,
		AcceptTypes:        chat.AcceptTypes(),
		AcceptWrappedTypes: chat.AcceptWrappedTypes(),
		Handler: msrpstream.Handler{
			Send:     s.handleChunk,
			Complete: s.handleComplete,
			Report:   s.handleReport,
			Started:  s.started,
		},
		MSRP: msrp.Config{MaxMessageSize: s.maxSize, Logger: s.env.Logger},
	}
}

// Initialize learns the identities at both ends, then lets the base
// prepare the connection.
func (s *stream) Initialize(ctx context.Context, req *sdk.InitializeRequest) error {
	if si := req.Session; si != nil {
		s.mu.Lock()
		if id, err := chat.ParseIdentity(si.LocalIdentity); err == nil && si.LocalIdentity != "" {
			s.local = id
		}
		if id, err := chat.ParseIdentity(si.RemoteIdentity); err == nil && si.RemoteIdentity != "" {
			s.remote = id
		}
		s.remoteFocus = si.RemoteFocus
		s.mu.Unlock()
	}
	return s.Base.Initialize(ctx, req)
}

// Start learns whether the peer turned out to be a conference focus (an
// outgoing session knows it from the answer only), then starts the base.
func (s *stream) Start(ctx context.Context, req *sdk.StartRequest) error {
	if si := req.Session; si != nil {
		s.mu.Lock()
		s.remoteFocus = s.remoteFocus || si.RemoteFocus
		s.mu.Unlock()
	}
	return s.Base.Start(ctx, req)
}

// End stops the sender and ends the base: MediaStreamWillEnd, a
// ChatStreamDidNotDeliverMessage for every message still waiting (see
// observe), MediaStreamDidEnd.
func (s *stream) End(ctx context.Context) error {
	s.mu.Lock()
	if !s.ended {
		s.ended = true
		close(s.stop)
		if s.cancelSend != nil {
			s.cancelSend()
		}
		s.nickCancel()
	}
	s.mu.Unlock()
	// A NICKNAME still waiting for its response gets
	// ChatStreamDidNotSetNickname before the stream ends.
	s.nickWG.Wait()
	err := s.Base.End(ctx)
	s.out.Close(chat.ReasonStreamEnded) // ended before Initialize: no WillEnd
	s.in.close()
	s.wg.Wait()
	return err
}

// started runs once the MSRP session is up: it starts the sender.
func (s *stream) started(sess *msrp.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancelSend = cancel
	s.wg.Add(1)
	go s.sender(ctx, sess)
}

// inflight is a message handed to the session whose transaction
// response has not been read yet.
type inflight struct {
	id string
	d  *msrp.Delivery
}

// sender sends the queued messages in order until End, or until the
// session closes. It never reports a message lost with the session: the
// stream fails or ends then, and its outbox reports every message still
// queued or waiting, in order, right after MediaStreamDidFail or
// MediaStreamWillEnd (see observe).
//
// It pipelines them: a message goes out without waiting for the previous
// one's transaction response, up to chat.send_window messages awaiting
// theirs. Order holds all the same: each is one SEND
// (msrp.Outgoing.SingleChunk), which the connection writes whole in the
// order of the Sends, and TCP keeps. The responses come back in that
// order too; the sender reads them oldest first.
func (s *stream) sender(ctx context.Context, sess *msrp.Session) {
	defer s.wg.Done()
	var fifo []inflight // oldest first
	for {
		var lost bool
		fifo, lost = s.settle(fifo)
		if lost {
			break
		}
		if len(fifo) < s.window {
			if it, ok := s.out.Take(); ok {
				d, ok := s.send(ctx, sess, it)
				if !ok {
					break
				}
				if d != nil {
					fifo = append(fifo, inflight{it.ID, d})
				}
				continue
			}
		}
		var oldest, ready <-chan struct{}
		if len(fifo) > 0 {
			oldest = fifo[0].d.Done()
		}
		if len(fifo) < s.window {
			ready = s.out.Ready()
		}
		select {
		case <-oldest:
		case <-ready:
		case <-sess.Done():
			return
		case <-s.stop:
			return
		}
	}
	// The connection is going: wait for the session to close.
	select {
	case <-sess.Done():
	case <-s.stop:
	}
}

// settle hands the transaction outcomes of the oldest messages that have
// one to the outbox, and returns the messages still waiting. lost is true
// when a transaction ended without a response: the connection closed, and
// the stream's end reports the rest.
func (s *stream) settle(fifo []inflight) (rest []inflight, lost bool) {
	for len(fifo) > 0 {
		select {
		case <-fifo[0].d.Done():
		default:
			return fifo, false
		}
		r := fifo[0].d.Result()
		if r.Code == 0 {
			return fifo, true
		}
		s.out.Result(fifo[0].id, r.Code, r.Comment)
		fifo[0] = inflight{}
		fifo = fifo[1:]
	}
	return nil, false
}

// send encodes one message for the negotiated peer and hands it to the
// session: the Delivery that will have its transaction response, or nil
// when the message cannot be sent (its outcome is posted then). ok is
// false when the stream ended or the session closed meanwhile: the
// message stays in the outbox, which the stream's end reports.
func (s *stream) send(ctx context.Context, sess *msrp.Session, it outbox.Item) (d *msrp.Delivery, ok bool) {
	body, err := s.encode(it.Value)
	if err != nil {
		s.env.Logger.Warn("dropping a queued message", "message_id", it.ID, "err", err)
		s.out.Result(it.ID, 0, err.Error())
		return nil, true
	}
	// One SEND per message, as the reference's MSRP library sends chat
	// messages: its receiver cannot reassemble a chunked one.
	o := msrp.Outgoing{
		ContentType: body.ContentType,
		Body:        bytes.NewReader(body.Data),
		Size:        int64(len(body.Data)),
		MessageID:   it.ID,
		SingleChunk: true,
	}
	if it.Track {
		o.SuccessReport, o.FailureReport = true, msrp.ReportYes
	} else {
		o.FailureReport = msrp.ReportNo
	}
	d, err = s.Base.Send(ctx, o)
	if err != nil {
		select {
		case <-s.stop:
			return nil, false
		case <-sess.Done():
			return nil, false
		case <-sess.Conn().Done():
			return nil, false
		default:
		}
		if errors.Is(err, sdk.ErrIllegalState) || errors.Is(err, msrp.ErrClosed) {
			return nil, false // the stream failed
		}
		s.out.Result(it.ID, 0, err.Error())
		return nil, true
	}
	s.out.Sent(it.ID, o.Size)
	return d, true
}

// remoteMedia is the remote m-line: the answer or offer read by Start, or
// the offer we answer before Start.
func (s *stream) remoteMedia() *msrpstream.Media {
	if m := s.Base.Remote(); m != nil {
		return m
	}
	return s.Base.Offer()
}

// peer is what the payload codec needs to know of the negotiation.
func (s *stream) peer() payload.Peer {
	s.mu.Lock()
	p := payload.Peer{Local: s.local, Remote: s.remote, RemoteFocus: s.remoteFocus, PreferPlain: !s.preferCPIM}
	s.mu.Unlock()
	if m := s.remoteMedia(); m != nil {
		p.RemoteAcceptTypes, p.RemoteWrappedTypes = m.AcceptTypes, m.AcceptWrappedTypes
		// The reference requires message/cpim literally in both lists.
		p.CPIMEnabled = hasToken(m.AcceptTypes, chat.ContentTypeCPIM)
		if p.RemoteFocus && p.CPIMEnabled {
			p.PrivateMessagesAllowed = hasToken(chatroom(m), chat.CapabilityPrivateMessages)
		}
	}
	return p
}

// nicknameAllowed is the reference's nickname_allowed: the remote is a
// conference focus, CPIM is enabled and its a=chatroom lists "nickname".
func (s *stream) nicknameAllowed() bool {
	m := s.remoteMedia()
	if m == nil {
		return false
	}
	p := s.peer()
	return p.RemoteFocus && p.CPIMEnabled && hasToken(chatroom(m), chat.CapabilityNickname)
}

// chatroom returns the tokens of the remote a=chatroom attribute.
func chatroom(m *msrpstream.Media) []string {
	for _, a := range m.Attributes {
		if strings.EqualFold(a.Key, "chatroom") {
			return strings.Fields(a.Value)
		}
	}
	return nil
}

func hasToken(tokens []string, t string) bool {
	for _, x := range tokens {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}

// Invoke serves the chat methods.
func (s *stream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case chat.MethodSendMessage:
		return sdk.HandleInvoke(req, func(m chat.Message) (chat.SendResult, error) {
			if m.ContentType == "" {
				m.ContentType = chat.ContentTypeText
			}
			return s.queue(outbox.Item{Value: m, Track: true})
		})
	case chat.MethodSendMessages:
		return sdk.HandleInvoke(req, func(a chat.SendMessagesArgs) (chat.SendMessagesResult, error) {
			items := make([]outbox.Item, len(a.Messages))
			for i, m := range a.Messages {
				if m.ContentType == "" {
					m.ContentType = chat.ContentTypeText
				}
				items[i] = outbox.Item{Value: m, Track: true}
			}
			ids, err := s.queueAll(items)
			return chat.SendMessagesResult{MessageIDs: ids}, err
		})
	case chat.MethodSendComposingIndication:
		return sdk.HandleInvoke(req, func(ci chat.ComposingIndication) (chat.SendResult, error) {
			return s.queue(outbox.Item{Value: ci})
		})
	case chat.MethodSetLocalNickname:
		return sdk.HandleInvoke(req, func(a chat.NicknameArgs) (chat.SendResult, error) {
			id, err := s.setLocalNickname(a.Nickname)
			return chat.SendResult{MessageID: id}, err
		})
	}
	return nil, sdk.Errorf(sdk.ErrUnknownMethod, "%q", req.Method)
}

// queue checks an outgoing message or indication and queues it for the
// sender; its outcome comes as notifications.
func (s *stream) queue(item outbox.Item) (chat.SendResult, error) {
	if err := s.check(&item); err != nil {
		return chat.SendResult{}, sdk.Errorf(sdk.ErrInvalidArgument, "%v", err)
	}
	ids, err := s.add([]outbox.Item{item})
	if err != nil {
		return chat.SendResult{}, err
	}
	return chat.SendResult{MessageID: ids[0]}, nil
}

// queueAll checks every item, then queues them all in order, or none.
func (s *stream) queueAll(items []outbox.Item) ([]string, error) {
	for i := range items {
		if err := s.check(&items[i]); err != nil {
			return nil, sdk.Errorf(sdk.ErrInvalidArgument, "message %d: %v", i, err)
		}
	}
	return s.add(items)
}

// add gives the items their Message-IDs and queues them.
func (s *stream) add(items []outbox.Item) ([]string, error) {
	ids := make([]string, len(items))
	for i := range items {
		items[i].ID = msrp.NewMessageID()
		ids[i] = items[i].ID
	}
	if err := s.out.AddAll(items); err != nil {
		if errors.Is(err, outbox.ErrClosed) {
			return nil, sdk.Errorf(sdk.ErrIllegalState, "Stream ended")
		}
		return nil, sdk.Errorf(sdk.ErrInternal, "%v", err)
	}
	return ids, nil
}

// setLocalNickname is the reference's set_local_nickname: it asks the
// conference focus for a nickname with an MSRP NICKNAME request (RFC 7701)
// and returns the request's id at once; the response is posted as
// ChatStreamDidSetNickname or ChatStreamDidNotSetNickname.
func (s *stream) setLocalNickname(nick string) (string, error) {
	if strings.ContainsFunc(nick, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", sdk.Errorf(sdk.ErrInvalidArgument, "nickname %q has control characters", nick)
	}
	if !s.nicknameAllowed() {
		return "", sdk.Errorf(sdk.ErrIllegalState, "%s", chat.ReasonNicknameNotSupported)
	}
	sess := s.Base.Session()
	if sess == nil {
		return "", sdk.Errorf(sdk.ErrIllegalState, "the stream has not started")
	}
	id := msrp.NewMessageID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return "", sdk.Errorf(sdk.ErrIllegalState, "%s", chat.ReasonStreamEnded)
	}
	s.nickWG.Add(1)
	go func() {
		defer s.nickWG.Done()
		s.nickname(s.nickCtx, sess, id, nick)
	}()
	return id, nil
}

// nickname runs one NICKNAME transaction and posts its outcome: 200 sets
// the nickname; another response, the local 408, or the stream ending
// first (code 0, "Stream ended") does not.
func (s *stream) nickname(ctx context.Context, sess *msrp.Session, id, nick string) {
	r, err := sess.Request(ctx, msrp.MethodNICKNAME, []msrp.HeaderField{{Name: msrp.HeaderUseNickname, Value: msrp.QuoteString(nick)}})
	data := chat.NicknameData{MessageID: id, Nickname: nick, Code: r.Code, Reason: r.Comment}
	if r.Code == msrp.StatusOK {
		s.env.Post(chat.DidSetNickname, data)
		return
	}
	if r.Code == 0 {
		data.Reason = chat.ReasonStreamEnded
		if !errors.Is(err, context.Canceled) && !errors.Is(err, msrp.ErrClosed) {
			data.Reason = err.Error()
		}
	}
	s.env.Post(chat.DidNotSetNickname, data)
}

// encoded is a queued message or indication whose body was made when it
// was queued, the remote being known then.
type encoded struct{ body payload.Body }

// check finds what cannot be sent, when the remote m-line is known
// already (after Start, or when answering), so that it is refused at
// once; it keeps the body it made in the item, for the sender. Before
// that, the check happens when the message leaves the queue.
func (s *stream) check(it *outbox.Item) error {
	if s.remoteMedia() == nil {
		return nil
	}
	body, err := s.encode(it.Value)
	if err != nil {
		return err
	}
	it.Value = encoded{body}
	return nil
}

// encode makes the body of a queued message or indication for the
// negotiated peer, within chat.max_message_size.
func (s *stream) encode(v any) (payload.Body, error) {
	var (
		body payload.Body
		err  error
	)
	switch v := v.(type) {
	case encoded:
		return v.body, nil
	case chat.Message:
		body, err = payload.Encode(v, s.peer(), s.now())
	case chat.ComposingIndication:
		body, err = payload.EncodeComposing(v, s.peer(), s.now())
	default:
		err = fmt.Errorf("cannot send a %T", v)
	}
	if err == nil {
		err = s.checkSize(body)
	}
	return body, err
}

// checkSize refuses a message whose encoded body exceeds
// chat.max_message_size: it would go out as one SEND of that size.
func (s *stream) checkSize(body payload.Body) error {
	if n := int64(len(body.Data)); n > s.maxSize {
		return fmt.Errorf("message of %d bytes exceeds %s (%d)", n, chat.SettingMaxMessageSize, s.maxSize)
	}
	return nil
}

// Attributes returns the chat attributes; chat does not support hold.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	own := chat.Attributes{Queued: s.out.Len()}
	if m := s.remoteMedia(); m != nil {
		p := s.peer()
		own.CPIMEnabled = p.CPIMEnabled
		own.ChatroomCapabilities = chatroom(m)
		own.PrivateMessagesAllowed = p.PrivateMessagesAllowed
		own.NicknameAllowed = p.RemoteFocus && p.CPIMEnabled && hasToken(own.ChatroomCapabilities, chat.CapabilityNickname)
		own.RemotePath = msrp.FormatPath(m.Path)
	}
	if lm, err := s.Base.LocalMedia(); err == nil {
		own.LocalPath = msrp.FormatPath(lm.Path)
	}
	return sdk.NewAttributes(own)
}

// handleChunk refuses a content type we do not accept (415, as msrplib's
// session does) and collects the others.
func (s *stream) handleChunk(_ context.Context, c *msrp.Chunk) int {
	if !msrpstream.Accepts(chat.AcceptTypes(), c.ContentType) {
		return msrp.StatusUnsupportedMedia
	}
	return s.in.add(c)
}

// handleComplete decodes a whole message and posts it; the status drives
// the REPORT the sender asked for.
func (s *stream) handleComplete(_ context.Context, c *msrp.Completion) int {
	data, whole := s.in.take(c.MessageID)
	if c.Aborted {
		return c.Status
	}
	if !whole {
		c.ReportComment = "Incomplete message"
		s.env.Logger.Info("refusing an incoming message with missing bytes", "message_id", c.MessageID)
		return msrp.StatusBadRequest
	}
	if len(data) == 0 {
		return msrp.StatusOK // a keep-alive
	}
	in, err := payload.Decode(c.ContentType, data, c.MessageID, s.peer(), s.now())
	if err != nil {
		// The REPORT says the reference's words: 413 "Unwanted Message",
		// 400 "CPIM Parser Error".
		code, comment := payload.Status(err)
		c.ReportComment = comment
		s.env.Logger.Info("refusing an incoming message", "message_id", c.MessageID, "code", code, "err", err)
		return code
	}
	if in.Composing != nil {
		s.env.Post(chat.GotComposingIndication, in.Composing)
	} else {
		s.env.Post(chat.GotMessage, in.Message)
	}
	return msrp.StatusOK
}

// handleReport maps a REPORT onto the delivery notifications.
func (s *stream) handleReport(_ context.Context, r *msrp.Report) {
	if !s.out.Report(r.MessageID, r.Range, r.Status.Code, r.Status.Comment) {
		s.env.Logger.Debug("REPORT for an unknown message", "message_id", r.MessageID)
	}
}
