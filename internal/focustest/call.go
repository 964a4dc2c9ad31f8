package focustest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// Chatroom capabilities the focus offers (RFC 7701 §7).
const chatroom = chat.CapabilityNickname + " " + chat.CapabilityPrivateMessages

// answered is what answering an offer set up for a member.
type answered struct {
	sdp   []byte
	types []string
	// bind binds the chat stream once the call is confirmed: it accepts
	// the participant's connection, or dials it.
	bind func(ctx context.Context) (*msrp.Session, error)
	// cancel undoes what bind would have used.
	cancel func()
}

// onInvite answers a participant's call.
func (f *Focus) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		// A re-INVITE: the focus keeps the streams as they are.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	from := req.From()
	if from == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	m := &member{aor: aorOf(from.Address), display: from.DisplayName, endpoint: aorOf(from.Address),
		status: conference.StatusConnected, joining: conference.JoinedDialedIn, chatWait: make(chan struct{})}
	if c := req.Contact(); c != nil {
		m.endpoint = c.Address.String()
	}
	dlg, err := f.in.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		f.record(Event{Kind: EventRefusedCall, From: m.aor, Code: 400})
		return
	}
	defer func() {
		if dlg.LoadState() == sip.DialogStateEnded {
			_ = dlg.Close()
		}
	}()
	ans, err := f.answer(req.Body(), m)
	if err != nil {
		f.log.Info("call refused", "from", m.aor, "error", err)
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		f.record(Event{Kind: EventRefusedCall, From: m.aor, Code: 488})
		return
	}
	m.in, m.callID = dlg, req.CallID().Value()
	m.dialog = &conference.SIPDialogID{CallID: m.callID, FromTag: tagOf(from.Params), ToTag: tagOf(dlg.InviteRequest.To().Params)}
	ct := sip.ContentTypeHeader("application/sdp")
	if err := dlg.Respond(200, "OK", ans.sdp, &ct); err != nil {
		// No ACK (or the transaction failed): the call is over.
		f.log.Info("answer not acknowledged", "from", m.aor, "error", err)
		ans.cancel()
		m.release()
		f.record(Event{Kind: EventRefusedCall, From: m.aor, Code: 408})
		return
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		ans.cancel()
		m.release()
		return
	}
	f.addLocked(m)
	f.recordLocked(Event{Kind: EventJoined, From: m.aor, Value: strings.Join(ans.types, ",")})
	if ans.bind != nil {
		f.spawnLocked(func() { f.bindChat(m, ans) })
	} else {
		close(m.chatWait)
	}
	f.mu.Unlock()
}

// bindChat binds the member's MSRP session.
func (f *Focus) bindChat(m *member, ans *answered) {
	defer close(m.chatWait)
	ctx, cancel := context.WithTimeout(f.ctx, requestTimeout)
	defer cancel()
	s, err := ans.bind(ctx)
	if err != nil {
		f.log.Info("chat not bound", "participant", m.aor, "error", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m.chat = s
	if f.closed {
		_ = s.Close()
		return
	}
	f.recordLocked(Event{Kind: EventChatBound, From: m.aor})
}

func tagOf(p sip.HeaderParams) string {
	v, _ := p.Get("tag")
	return v
}

// answer builds the answer to an offer: audio and chat are taken, other
// streams refused with port 0. At least one stream must be taken.
func (f *Focus) answer(body []byte, m *member) (*answered, error) {
	var offer sdp.SessionDescription
	if err := offer.Unmarshal(body); err != nil {
		return nil, err
	}
	ip := f.uri.Host
	ans := &answered{cancel: func() {}}
	out := newSessionDescription(ip)
	for i, md := range offer.MediaDescriptions {
		id := strconv.Itoa(i + 1)
		switch {
		case md.MediaName.Port.Value == 0:
		case md.MediaName.Media == "audio" && strings.Join(md.MediaName.Protos, "/") == "RTP/AVP":
			a, err := f.answerAudio(md, m)
			if err != nil {
				return nil, err
			}
			if a != nil {
				out.MediaDescriptions = append(out.MediaDescriptions, a)
				ans.types = append(ans.types, "audio")
				m.media = append(m.media, conference.Media{ID: id, Type: "audio", Status: conference.MediaSendRecv})
				continue
			}
		case md.MediaName.Media == msrpstream.DefaultMediaType && ans.bind == nil:
			a, err := f.answerChat(&offer, md, ans, m)
			if err != nil {
				m.release()
				return nil, err
			}
			if a != nil {
				out.MediaDescriptions = append(out.MediaDescriptions, a)
				ans.types = append(ans.types, chat.Type)
				m.media = append(m.media, conference.Media{ID: id, Type: "message", Status: conference.MediaSendRecv})
				continue
			}
		}
		out.MediaDescriptions = append(out.MediaDescriptions, refused(md))
	}
	if len(ans.types) == 0 {
		m.release()
		return nil, errors.New("no stream the focus takes")
	}
	b, err := out.Marshal()
	if err != nil {
		ans.cancel()
		m.release()
		return nil, err
	}
	ans.sdp = b
	return ans, nil
}

func newSessionDescription(ip string) *sdp.SessionDescription {
	now := uint64(time.Now().Unix())
	return &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "focus", SessionID: now, SessionVersion: now,
			NetworkType: "IN", AddressType: "IP4", UnicastAddress: ip},
		SessionName:           "focustest",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: ip}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

// refused is the m-line of a refused stream: the offer's with port 0 and
// no attributes.
func refused(md *sdp.MediaDescription) *sdp.MediaDescription {
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0}, Protos: md.MediaName.Protos, Formats: md.MediaName.Formats,
	}}
}

// audioFormats are the codecs the focus takes, by static payload type.
var audioFormats = map[string]string{"0": "PCMU/8000", "8": "PCMA/8000"}

// answerAudio answers an audio m-line with PCMU or PCMA (and
// telephone-event when offered) on a socket whose packets are dropped;
// nil when no codec fits.
func (f *Focus) answerAudio(md *sdp.MediaDescription, m *member) (*sdp.MediaDescription, error) {
	pt := ""
	for _, fmt := range md.MediaName.Formats {
		if _, ok := audioFormats[fmt]; ok {
			pt = fmt
			break
		}
	}
	if pt == "" {
		return nil, nil
	}
	dtmf := ""
	for _, a := range md.Attributes {
		if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), "telephone-event/8000") {
			dtmf, _, _ = strings.Cut(a.Value, " ")
		}
	}
	pc, err := f.dropSocket()
	if err != nil {
		return nil, err
	}
	m.rtp = append(m.rtp, pc)
	formats := []string{pt}
	if dtmf != "" {
		formats = append(formats, dtmf)
	}
	a := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: pc.LocalAddr().(*net.UDPAddr).Port}, Protos: []string{"RTP", "AVP"}, Formats: formats,
	}}
	a.WithValueAttribute("rtpmap", pt+" "+audioFormats[pt])
	if dtmf != "" {
		a.WithValueAttribute("rtpmap", dtmf+" telephone-event/8000")
		a.WithValueAttribute("fmtp", dtmf+" 0-15")
	}
	a.WithPropertyAttribute("sendrecv")
	return a, nil
}

// dropSocket opens a UDP socket whose packets are read and dropped until
// it is closed.
func (f *Focus) dropSocket() (net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(f.uri.Host, "0"))
	if err != nil {
		return nil, err
	}
	if !f.spawn(func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}) {
		_ = pc.Close()
		return nil, ErrClosed
	}
	return pc, nil
}

// answerChat answers an MSRP m-line as a chat room: CPIM, the chatroom
// capabilities, passive unless the offer is. ans.bind binds the session
// once the call is confirmed.
func (f *Focus) answerChat(offer *sdp.SessionDescription, md *sdp.MediaDescription, ans *answered, m *member) (*sdp.MediaDescription, error) {
	remote, err := msrpstream.FromSDP(offer, md)
	if err != nil || len(remote.Path) == 0 {
		return nil, nil
	}
	secure := remote.Transport == msrpstream.TransportTLS
	l := f.msrp[secure]
	local := l.URI("")
	media := &msrpstream.Media{
		MediaType: msrpstream.DefaultMediaType, Transport: remote.Transport, Path: []msrp.URI{local},
		AcceptTypes:        []string{chat.ContentTypeCPIM, chat.ContentTypeText},
		AcceptWrappedTypes: []string{chat.ContentTypeText, chat.ContentTypeComposing},
		Attributes:         []sdp.Attribute{{Key: "chatroom", Value: chatroom}},
	}
	if secure {
		media.Fingerprints = []msrpstream.Fingerprint{f.fp}
	}
	h := f.newChatHandler(m)
	if remote.Setup == msrpstream.SetupPassive {
		media.Setup = msrpstream.SetupActive
		ans.bind = func(ctx context.Context) (*msrp.Session, error) {
			cfg := msrp.Config{KeepAliveInterval: -1, Logger: f.log}
			if secure {
				// A test peer: the participant's certificate is not
				// checked.
				cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test peer
			}
			return msrp.Dial(ctx, local, remote.Path, h, cfg)
		}
	} else {
		media.Setup = msrpstream.SetupPassive
		acc, err := l.Prepare(msrp.SessionOptions{Local: local, Remote: remote.Path, Handler: h})
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(f.ctx)
		ans.cancel = cancel
		ans.bind = func(bctx context.Context) (*msrp.Session, error) {
			defer cancel()
			stop := context.AfterFunc(bctx, cancel)
			defer stop()
			return acc.Accept(ctx)
		}
	}
	return media.Build(), nil
}

// onAck confirms a participant's dialog.
func (f *Focus) onAck(req *sip.Request, tx sip.ServerTransaction) {
	_ = f.in.ReadAck(req, tx)
}

// onBye ends a participant's call.
func (f *Focus) onBye(req *sip.Request, tx sip.ServerTransaction) {
	var err error
	if err = f.in.ReadBye(req, tx); errors.Is(err, sipgo.ErrDialogDoesNotExists) || errors.Is(err, sipgo.ErrDialogOutsideDialog) {
		err = f.out.ReadBye(req, tx)
	}
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.byCallIDLocked(req.CallID().Value())
	if m == nil {
		return
	}
	f.removeLocked(m)
	m.release()
	f.recordLocked(Event{Kind: EventLeft, From: m.aor})
}
