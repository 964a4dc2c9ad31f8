package focustest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/cpim"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// maxChatMessage bounds a message the focus takes.
const maxChatMessage = 1 << 20

// chatHandler is the MSRP handler of one participant's chat session. Its
// methods run on the connection's reader goroutine, one at a time.
type chatHandler struct {
	f     *Focus
	m     *member
	inbox map[string]*bytes.Buffer // messages arriving, by Message-ID
}

var _ msrp.Handler = (*chatHandler)(nil)

func (f *Focus) newChatHandler(m *member) *chatHandler {
	return &chatHandler{f: f, m: m, inbox: map[string]*bytes.Buffer{}}
}

// HandleChunk collects a message's bytes.
func (h *chatHandler) HandleChunk(_ context.Context, c *msrp.Chunk) int {
	b := h.inbox[c.MessageID]
	if b == nil {
		b = &bytes.Buffer{}
		h.inbox[c.MessageID] = b
	}
	if _, err := io.Copy(b, io.LimitReader(c, maxChatMessage+1-int64(b.Len()))); err != nil || b.Len() > maxChatMessage {
		delete(h.inbox, c.MessageID)
		return msrp.StatusStopSending
	}
	return msrp.StatusOK
}

// HandleComplete reads a complete message and relays it.
func (h *chatHandler) HandleComplete(_ context.Context, c *msrp.Completion) int {
	b := h.inbox[c.MessageID]
	delete(h.inbox, c.MessageID)
	if c.Aborted || b == nil || b.Len() == 0 {
		return msrp.StatusOK
	}
	if !strings.EqualFold(mediaType(c.ContentType), chat.ContentTypeCPIM) {
		// Plain text: from the participant to the room.
		h.f.relay(h.m, nil, b.Bytes(), mediaType(c.ContentType), nil)
		return msrp.StatusOK
	}
	msg, err := cpim.Parse(b.Bytes())
	if err != nil {
		c.ReportComment = "CPIM Parser Error"
		return msrp.StatusBadRequest
	}
	if strings.EqualFold(mediaType(msg.ContentType), chat.ContentTypeComposing) {
		return msrp.StatusOK // typing is not relayed
	}
	var to []string
	for _, a := range msg.To {
		to = append(to, a.URI)
	}
	if code := h.f.relay(h.m, to, msg.Body, msg.ContentType, msg); code != msrp.StatusOK {
		c.ReportComment = "Recipient Not In The Conference"
		return code
	}
	return msrp.StatusOK
}

// HandleReport drops the REPORTs of what the focus relayed.
func (h *chatHandler) HandleReport(context.Context, *msrp.Report) {}

// HandleRequest answers NICKNAME (RFC 7701 §5): 200 and the nickname kept,
// 425 when another participant has it, 400 when it is empty.
func (h *chatHandler) HandleRequest(_ context.Context, c *msrp.Chunk) int {
	if c.Request.Method != msrp.MethodNICKNAME {
		return msrp.StatusNotImplemented
	}
	nick, ok := unquote(c.Request.Header(msrp.HeaderUseNickname))
	code := msrp.StatusOK
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !ok || strings.TrimSpace(nick) == "":
		code = msrp.StatusBadRequest
	default:
		for _, o := range f.members {
			if o != h.m && strings.EqualFold(o.nickname, nick) {
				code = 425
				c.ResponseComment = "Nickname reserved or already in use"
			}
		}
	}
	if code == msrp.StatusOK {
		h.m.nickname = nick
		for _, o := range f.members {
			if o == h.m {
				f.changedLocked(h.m, false)
			}
		}
	}
	f.recordLocked(Event{Kind: EventNickname, From: h.m.aor, Value: nick, Code: code})
	return code
}

// relay sends what from said: to the participant its CPIM To names when
// that is not the focus (a private message), else to every other chat
// participant. It returns the MSRP status for the sender: 404 when a
// private message names nobody in the conference.
func (f *Focus) relay(from *member, to []string, body []byte, contentType string, orig *cpim.Message) int {
	private := false
	for _, uri := range to {
		if u, h := userHost(uri); !(u == f.uri.User && strings.EqualFold(h, f.uri.Host)) {
			private = true
		}
	}
	f.mu.Lock()
	sender := cpim.Address{DisplayName: from.display, URI: from.aor}
	if from.nickname != "" {
		sender.DisplayName = from.nickname
	}
	var targets []*member
	if private {
		for _, uri := range to {
			if m := f.byURILocked(uri); m != nil && m != from && m.chat != nil {
				targets = append(targets, m)
			}
		}
	} else {
		for _, m := range f.members {
			if m != from && m.chat != nil {
				targets = append(targets, m)
			}
		}
	}
	code := msrp.StatusOK
	if private && len(targets) == 0 {
		code = 404
	}
	f.recordLocked(Event{Kind: EventMessage, From: from.aor, To: to, Value: string(body), Private: private, Code: code})
	type send struct {
		s    *msrp.Session
		body []byte
	}
	var sends []send
	for _, m := range targets {
		out := &cpim.Message{
			From:        sender,
			DateTime:    time.Now(),
			ContentType: contentType,
			Body:        body,
		}
		if orig != nil {
			out.DateTime, out.Subject, out.ContentHeaders = orig.DateTime, orig.Subject, orig.ContentHeaders
		}
		if private {
			out.To = []cpim.Address{{URI: m.aor}}
		} else {
			out.To = []cpim.Address{{URI: f.uri.String()}}
		}
		if out.ContentType == "" {
			out.ContentType = chat.ContentTypeText
		}
		sends = append(sends, send{m.chat, out.Marshal()})
	}
	for _, s := range sends {
		// Not on the sender's reader goroutine: a Send may wait.
		f.spawnLocked(func() {
			ctx, cancel := context.WithTimeout(f.ctx, requestTimeout)
			defer cancel()
			_, err := s.s.Send(ctx, msrp.Outgoing{ContentType: chat.ContentTypeCPIM, Body: bytes.NewReader(s.body), Size: int64(len(s.body))})
			if err != nil {
				f.log.Info("relay failed", "error", err)
			}
		})
	}
	f.mu.Unlock()
	return code
}

// mediaType is a Content-Type without its parameters.
func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// unquote reads an RFC 7701 quoted-string.
func unquote(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	esc := false
	for _, r := range s[1 : len(s)-1] {
		switch {
		case esc:
			b.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			return "", false
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), !esc
}
