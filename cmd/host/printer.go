package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// printer prints each notification as it happens: a human-readable line, or
// a JSON object per line with --json. Lines go through a buffer that is
// written out when the notification center has delivered every
// notification queued for the printer (Idle) — at most once per
// flushEvery, the rest by a timer —, and at once for the lines printed
// outside notifications: under load a burst of notifications costs one
// write, not one each, and a steady stream of them one write per
// flushEvery, not one per idle moment of the delivery goroutine (at 3,000
// calls/s, eleven lines each, those writes took about 4 % of the host's
// CPU). Close writes out the rest.
type printer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	orig  io.Writer // what w wrote to before setOutput
	json  bool
	start time.Time
	names map[any]string // sender → label
	// sessions, when set, names each session by its number there.
	sessions *sessions

	line    []byte                // appendLine's buffer, reused
	held    bool                  // buffer notifications until release
	pending []notify.Notification // buffered while held

	// flushed is when w was last written out; flushTimer, once made,
	// writes it out later for an Idle that came sooner than flushEvery
	// after (flushPending while it is set); closed makes Idle write at
	// once.
	flushed      time.Time
	flushTimer   *time.Timer
	flushPending bool
	closed       bool
}

func newPrinter(w io.Writer, asJSON bool) *printer {
	return &printer{w: bufio.NewWriterSize(w, 64<<10), orig: w, json: asJSON, start: time.Now(), names: map[any]string{}}
}

// flushEvery is the least time between two writes of the printed lines
// that Idle makes: what a person at the console cannot tell from at once.
const flushEvery = 20 * time.Millisecond

// Idle implements notify.IdleObserver: it writes out what was printed, or
// has it written out flushEvery after the last write.
func (p *printer) Idle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w.Buffered() == 0 || p.flushPending {
		return
	}
	if wait := flushEvery - time.Since(p.flushed); wait > 0 && !p.closed {
		p.flushPending = true
		if p.flushTimer == nil {
			p.flushTimer = time.AfterFunc(wait, p.flushLater)
		} else {
			p.flushTimer.Reset(wait)
		}
		return
	}
	p.flushLocked()
}

// flushLater is the timer's write.
func (p *printer) flushLater() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flushPending {
		p.flushPending = false
		p.flushLocked()
	}
}

// flushLocked writes out what was printed; p.mu is held.
func (p *printer) flushLocked() {
	_ = p.w.Flush()
	p.flushed = time.Now()
}

// Close writes out what was printed and stops the timer; later lines are
// written out at once. It is for when the notifications stop (after
// their subscription is gone): the process may end before the timer fires.
func (p *printer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.flushTimer != nil {
		p.flushTimer.Stop()
	}
	p.flushPending = false
	p.flushLocked()
}

// setOutput makes the printer write to w (the progress bars' container,
// which prints lines above the bars); nil restores the original writer.
func (p *printer) setOutput(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w == nil {
		w = p.orig
	}
	p.flushLocked()
	p.w.Reset(w)
}

// label names a sender in the output ("A", "B", "echo plugin").
func (p *printer) label(sender any, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names[sender] = name
}

// nameSessions names each session by its number in ss from now on.
func (p *printer) nameSessions(ss *sessions) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sessions = ss
}

func (p *printer) senderName(s any) string {
	if n, ok := p.names[s]; ok {
		return n
	}
	switch v := s.(type) {
	case *registry.Stream:
		return v.Type() + " stream " + strconv.FormatUint(v.Handle(), 10)
	case *registry.Plugin:
		return v.Name() + " plugin"
	case *session.Session:
		if p.sessions != nil {
			return p.sessions.label(v)
		}
		id := v.CallID()
		if len(id) > 8 {
			id = id[:8]
		}
		return fmt.Sprintf("session %s %s", v.Direction(), id)
	case *session.Manager:
		return "session manager"
	case *account.Manager:
		return "account manager"
	case *account.Account:
		return "account " + v.ID()
	case *application.Application:
		return "application"
	case *engine.Engine:
		return "engine"
	case nil:
		return "-"
	}
	return fmt.Sprintf("%T", s)
}

// hold buffers the notifications until release, so that a line printed
// in between (the listening addresses) comes first.
func (p *printer) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
}

// release prints what hold buffered and goes on printing as it happens.
func (p *printer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = false
	for _, n := range p.pending {
		p.print(n)
	}
	p.pending = nil
	p.flushLocked()
}

// HandleNotification implements notify.Observer.
func (p *printer) HandleNotification(n notify.Notification) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held {
		p.pending = append(p.pending, n)
		return
	}
	p.print(n)
}

// print writes one notification; p.mu is held.
func (p *printer) print(n notify.Notification) {
	if n.Name == filetransfer.HandlerProgress || n.Name == filetransfer.HandlerHashProgress {
		return // the transfers' bars and bounded events show them
	}
	sender := p.senderName(n.Sender)
	if p.printChat(n, sender) || p.printConference(n, sender) {
		return
	}
	data := describe(n.Data)
	if raw, ok := data.(json.RawMessage); ok {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			data = v
		}
	}
	if p.json {
		var ok bool
		if p.line, ok = appendLine(p.line[:0], n.Time, n.Name, sender, data); ok {
			_, _ = p.w.Write(p.line)
			return
		}
		_ = encoder(p.w).Encode(struct {
			Time   time.Time `json:"time"`
			Name   string    `json:"name"`
			Sender string    `json:"sender"`
			Data   any       `json:"data,omitempty"`
		}{n.Time, n.Name, sender, data})
		return
	}
	line := fmt.Sprintf("%8.3fs  %-12s %s", n.Time.Sub(p.start).Seconds(), sender, n.Name)
	if data != nil {
		var b strings.Builder
		if err := encoder(&b).Encode(data); err == nil && strings.TrimSpace(b.String()) != "{}" {
			line += " " + strings.TrimSpace(b.String())
		}
	}
	fmt.Fprintln(p.w, line)
}

// say prints a narrative line (not in --json mode), serialised with the
// notification lines.
func (p *printer) say(format string, args ...any) {
	if p.json {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
	p.flushLocked()
}

// encoder writes JSON without escaping <, > and & (SIP headers have them).
func encoder(w io.Writer) *json.Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return e
}

// event prints a narrative line in both modes: plain, or as a JSON object
// {"name": name, ...fields} with --json.
func (p *printer) event(name string, fields map[string]any, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		obj := map[string]any{"name": name, "time": time.Now()}
		for k, v := range fields {
			obj[k] = v
		}
		_ = encoder(p.w).Encode(obj)
	} else {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
	p.flushLocked()
}

// streamTypes names streams by type.
func streamTypes(streams []session.Stream) []string {
	out := make([]string, len(streams))
	for i, s := range streams {
		out[i] = s.Type()
	}
	return out
}

// describe turns notification data that does not print well as JSON
// (streams, errors) into plain values with the reference's field names.
func describe(data any) any {
	switch d := data.(type) {
	case session.NewIncomingData:
		m := map[string]any{"streams": streamTypes(d.Streams)}
		for _, h := range []string{"From", "To", "Subject", "User-Agent", "Referred-By"} {
			if v := d.Headers[h]; len(v) > 0 {
				m[strings.ReplaceAll(strings.ToLower(h), "-", "_")] = v[0]
			}
		}
		if d.ReplacedDialog != nil {
			m["replaced_dialog"] = dialogMap(*d.ReplacedDialog)
		}
		return m
	case session.TransferNewOutgoingData:
		return map[string]any{"transfer_destination": d.TransferDestination, "transfer_source": d.TransferSource}
	case session.TransferNewIncomingData:
		m := map[string]any{"transfer_destination": d.TransferDestination}
		for _, h := range []string{"Refer-To", "Referred-By", "From"} {
			if v := firstHeader(d.Headers, h); v != "" {
				m[strings.ReplaceAll(strings.ToLower(h), "-", "_")] = v
			}
		}
		return m
	case session.TransferProgressData:
		return map[string]any{"code": d.Code, "reason": d.Reason}
	case session.IncomingFromTransferData:
		return map[string]any{"call_id": d.CallID, "to_tag": d.ToTag, "from_tag": d.FromTag, "replaced_dialog": dialogMap(d.ReplacedDialog)}
	case session.IncomingFromTransferFailedData:
		return map[string]any{"reason": d.Reason}
	case session.NewOutgoingData:
		return map[string]any{"streams": streamTypes(d.Streams)}
	case session.DidStartData:
		return map[string]any{"streams": streamTypes(d.Streams)}
	case session.ProvisionalResponseData:
		return map[string]any{"code": d.Code, "reason": d.Reason}
	case session.DidFailData:
		m := map[string]any{"originator": d.Originator, "code": d.Code, "reason": d.Reason, "failure_reason": d.FailureReason}
		if len(d.RedirectIdentities) > 0 {
			m["redirect_identities"] = d.RedirectIdentities
		}
		return m
	case session.WillEndData:
		return map[string]any{"originator": d.Originator}
	case session.DidEndData:
		return map[string]any{"originator": d.Originator, "end_reason": d.EndReason}
	case session.ProcessTransactionData:
		m := map[string]any{"originator": d.Originator, "method": d.Method, "code": d.Code, "reason": d.Reason}
		if d.AckReceived != "" {
			m["ack_received"] = d.AckReceived
		}
		return m
	case session.NewProposalData:
		return map[string]any{"originator": d.Originator, "proposed_streams": streamTypes(d.ProposedStreams)}
	case session.ProposalAcceptedData:
		return map[string]any{"originator": d.Originator, "accepted_streams": streamTypes(d.AcceptedStreams), "proposed_streams": streamTypes(d.ProposedStreams)}
	case session.ProposalRejectedData:
		return map[string]any{"originator": d.Originator, "code": d.Code, "reason": d.Reason, "proposed_streams": streamTypes(d.ProposedStreams)}
	case session.ProposalFailureData:
		return map[string]any{"originator": d.Originator, "failure_reason": d.FailureReason, "proposed_streams": streamTypes(d.ProposedStreams)}
	case session.RenegotiateData:
		return map[string]any{"originator": d.Originator, "added_streams": streamTypes(d.AddedStreams), "removed_streams": streamTypes(d.RemovedStreams)}
	case session.HoldStateData:
		return map[string]any{"originator": d.Originator, "on_hold": d.OnHold, "partial": d.Partial}
	case account.DidAddAccountData:
		return map[string]any{"account": d.Account.ID()}
	case account.ManagerWillStartData:
		ids := make([]string, len(d.Accounts))
		for i, a := range d.Accounts {
			ids[i] = a.ID()
		}
		return map[string]any{"accounts": ids, "peer_to_peer_available": d.PeerToPeerAvailable}
	case account.RegistrationGotAnswerData:
		return map[string]any{"code": d.Code, "reason": d.Reason}
	case account.RegistrationDidSucceedData:
		return map[string]any{"code": d.Code, "reason": d.Reason, "contact": d.Contact.String(), "expires": d.Expires.Seconds(), "registrar": d.Registrar}
	case account.RegistrationDidFailData:
		m := map[string]any{"code": d.Code, "reason": d.Reason, "retry_after": d.RetryAfter.Seconds()}
		if d.Error != nil {
			m["error"] = d.Error.Error()
		}
		return m
	case account.RegistrationDidEndData:
		return map[string]any{"code": d.Code, "reason": d.Reason}
	case engine.TraceData:
		dir := "sent"
		if d.Received {
			dir = "received"
		}
		return map[string]any{
			"direction":   dir,
			"transport":   d.Transport,
			"source":      net.JoinHostPort(d.SourceIP, strconv.Itoa(d.SourcePort)),
			"destination": net.JoinHostPort(d.DestinationIP, strconv.Itoa(d.DestinationPort)),
			"data":        d.Data,
		}
	case application.FailedToStartTLSData:
		msg := ""
		if d.Error != nil {
			msg = d.Error.Error()
		}
		return map[string]any{"error": msg}
	case error:
		return map[string]any{"error": d.Error()}
	}
	return describeConference(data)
}

// dialogMap is a dialog as the reference names its parts.
func dialogMap(d session.DialogID) map[string]any {
	return map[string]any{"call_id": d.CallID, "local_tag": d.LocalTag, "remote_tag": d.RemoteTag}
}

// printChat prints a chat message or composing indication as a person
// reads it: "[15:04:05] Alice <sip:alice@…>: text" (with --json, the data
// with the content as text). It reports whether n was one.
func (p *printer) printChat(n notify.Notification, sender string) bool {
	raw, ok := n.Data.(json.RawMessage)
	if !ok || (n.Name != chat.GotMessage && n.Name != chat.GotComposingIndication) {
		return false
	}
	var line string
	var data map[string]any
	switch n.Name {
	case chat.GotMessage:
		var d chat.GotMessageData
		if json.Unmarshal(raw, &d) != nil {
			return false
		}
		m := d.Message
		from := m.Sender.URI
		if m.Sender.DisplayName != "" {
			from = fmt.Sprintf("%s <%s>", m.Sender.DisplayName, m.Sender.URI)
		}
		text := string(m.Content)
		if !strings.HasPrefix(m.ContentType, "text/") {
			text = fmt.Sprintf("(%s, %d bytes)", m.ContentType, len(m.Content))
		}
		if d.Private {
			from += " (private)" // through a conference focus, to us only
		}
		line = fmt.Sprintf("[%s] %s: %s", m.Timestamp.Local().Format("15:04:05"), from, text)
		data = map[string]any{"sender": m.Sender, "content": text, "content_type": m.ContentType,
			"timestamp": m.Timestamp, "message_id": m.MessageID, "private": d.Private}
	case chat.GotComposingIndication:
		var d chat.ComposingData
		if json.Unmarshal(raw, &d) != nil {
			return false
		}
		who := d.Sender.DisplayName
		if who == "" {
			who = d.Sender.URI
		}
		line = fmt.Sprintf("%s is %s", who, map[bool]string{true: "typing…", false: "idle"}[d.State == chat.StateActive])
		data = map[string]any{"state": d.State, "refresh": d.Refresh, "sender": d.Sender}
	}
	if p.json {
		_ = encoder(p.w).Encode(struct {
			Time   time.Time      `json:"time"`
			Name   string         `json:"name"`
			Sender string         `json:"sender"`
			Data   map[string]any `json:"data"`
		}{n.Time, n.Name, sender, data})
		return true
	}
	fmt.Fprintf(p.w, "%8.3fs  %-12s %s\n", n.Time.Sub(p.start).Seconds(), sender, line)
	return true
}
