package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// conferenceHelp lists the commands of a session with a conference focus
// (RFC 4579) and of its chat room (RFC 7701).
const conferenceHelp = `/participants, /add-participant URI, /remove-participant URI, /nickname NAME, /msg-to URI TEXT`

// errNotFocus is the error of a conference command on a session whose
// remote is not a focus.
var errNotFocus = errors.New("the remote is not a conference focus")

// conferenceCommand runs one of the conference commands on s. It reports
// whether cmd was one of them; errors are printed on stderr.
func conferenceCommand(ctx context.Context, s *session.Session, cmd, rest string, pr *printer, stderr io.Writer) bool {
	switch cmd {
	case "/participants", "/add-participant", "/remove-participant", "/nickname", "/msg-to":
	default:
		return false
	}
	// Before the session started, whether the peer is a focus and the
	// chat stream are not known yet.
	switch st := s.State(); st {
	case session.StateNone, session.StateConnecting, session.StateIncoming, session.StateAccepting,
		session.StateTerminating, session.StateTerminated:
		printCommandError(stderr, cmd, &session.IllegalStateError{Call: strings.TrimPrefix(cmd, "/"), State: st})
		return true
	}
	rest = strings.TrimSpace(rest)
	var err error
	switch cmd {
	case "/participants":
		err = printParticipants(s, pr)
	case "/add-participant", "/remove-participant":
		var uri sip.Uri
		if uri, err = participantURI(rest); err != nil {
			break
		}
		if !s.RemoteFocus() {
			err = errNotFocus
		} else if cmd == "/add-participant" {
			err = s.AddParticipant(uri)
		} else {
			err = s.RemoveParticipant(uri)
		}
	case "/nickname":
		err = setNickname(ctx, s, rest, pr)
	case "/msg-to":
		err = sendPrivate(ctx, s, rest, pr)
	}
	printCommandError(stderr, cmd, err)
	return true
}

// participantURI reads the URI argument of /add-participant and
// /remove-participant: "sip:bob@example.com", or without the scheme.
func participantURI(arg string) (sip.Uri, error) {
	var uri sip.Uri
	if arg == "" || strings.ContainsAny(arg, " \t") {
		return uri, errors.New("usage: a participant's SIP URI, such as sip:bob@example.com")
	}
	if !strings.HasPrefix(arg, "sip:") && !strings.HasPrefix(arg, "sips:") {
		arg = "sip:" + arg
	}
	if err := sip.ParseUri(arg, &uri); err != nil || uri.Host == "" {
		return sip.Uri{}, fmt.Errorf("%q is not a SIP URI", arg)
	}
	return uri, nil
}

// printParticipants prints the conference's last known state.
func printParticipants(s *session.Session, pr *printer) error {
	info := s.ConferenceInfo()
	if info == nil {
		if !s.RemoteFocus() {
			return errNotFocus
		}
		return errors.New("no conference information from the focus yet")
	}
	pr.event("participants", map[string]any{"conference": conferenceMap(info)}, "%s", strings.TrimRight(conferenceText(info), "\n"))
	return nil
}

// chatStream returns the session's first chat stream.
func chatStream(s *session.Session) (session.Stream, error) {
	chats := streamsOf(s, chat.Type)
	if len(chats) == 0 {
		return nil, errors.New("the session has no chat stream")
	}
	return chats[0], nil
}

// setNickname asks the focus for a nickname in its chat room; the outcome
// comes as ChatStreamDidSetNickname or ChatStreamDidNotSetNickname.
func setNickname(ctx context.Context, s *session.Session, nick string, pr *printer) error {
	if nick == "" {
		return errors.New("usage: /nickname NAME")
	}
	st, err := chatStream(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	id, err := chat.SetLocalNickname(ctx, st, nick)
	if err != nil {
		return err
	}
	pr.event("nickname_requested", map[string]any{"message_id": id, "nickname": nick}, "asking the focus for the nickname %q", nick)
	return nil
}

// sendPrivate sends "URI TEXT" as a private message: through the focus,
// to one participant (CPIM To).
func sendPrivate(ctx context.Context, s *session.Session, rest string, pr *printer) error {
	to, text, _ := strings.Cut(rest, " ")
	text = strings.TrimSpace(text)
	if to == "" || text == "" {
		return errors.New("usage: /msg-to URI TEXT")
	}
	if !strings.Contains(to, ":") {
		to = "sip:" + to
	}
	who, err := chat.ParseIdentity(to)
	if err != nil {
		return err
	}
	st, err := chatStream(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	id, err := chat.SendMessage(ctx, st, chat.Message{Content: []byte(text), Recipients: []chat.Identity{who}})
	if err != nil {
		return err
	}
	pr.event("message_sent", map[string]any{"message_id": id, "content": text, "recipients": []string{who.URI}, "private": true},
		"me to %s (private): %s", who.URI, text)
	return nil
}

// conferenceMap is a conference state as the --json output carries it.
func conferenceMap(info *conference.Info) map[string]any {
	m := map[string]any{"entity": info.Entity, "state": string(info.State)}
	if info.HasVersion {
		m["version"] = info.Version
	}
	if d := info.Description; d != nil && d.Subject != "" {
		m["subject"] = d.Subject
	}
	if cs := info.ConferenceState; cs != nil && cs.UserCount != nil {
		m["user_count"] = *cs.UserCount
	}
	users := []any{}
	for _, u := range info.Users {
		um := map[string]any{"entity": u.Entity}
		if u.DisplayText != "" {
			um["display_text"] = u.DisplayText
		}
		if len(u.Roles) > 0 {
			um["roles"] = u.Roles
		}
		eps := []any{}
		for _, e := range u.Endpoints {
			em := map[string]any{"entity": e.Entity}
			for k, v := range map[string]string{"status": string(e.Status), "joining_method": string(e.JoiningMethod),
				"disconnection_method": string(e.DisconnectionMethod), "display_text": e.DisplayText} {
				if v != "" {
					em[k] = v
				}
			}
			if e.Referred != nil && e.Referred.By != "" {
				em["referred_by"] = e.Referred.By
			}
			media := []any{}
			for _, md := range e.Media {
				mm := map[string]any{"id": md.ID, "type": md.Type}
				if md.Status != "" {
					mm["status"] = string(md.Status)
				}
				if md.Label != "" {
					mm["label"] = md.Label
				}
				media = append(media, mm)
			}
			em["media"] = media
			eps = append(eps, em)
		}
		um["endpoints"] = eps
		users = append(users, um)
	}
	m["users"] = users
	return m
}

// conferenceText is a conference state as a person reads it:
//
//	conference sip:room@example.com (version 3), 2 participants:
//	  Alice <sip:alice@example.com>: connected, dialed-in, audio+message
//	  sip:carol@example.com: alerting, dialed-out, referred by sip:alice@example.com
func conferenceText(info *conference.Info) string {
	var b strings.Builder
	fmt.Fprintf(&b, "conference %s", info.Entity)
	if info.HasVersion {
		fmt.Fprintf(&b, " (version %d)", info.Version)
	}
	if d := info.Description; d != nil && d.Subject != "" {
		fmt.Fprintf(&b, " %q", d.Subject)
	}
	n := len(info.Users)
	fmt.Fprintf(&b, ", %d participant%s:\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	for _, u := range info.Users {
		name := u.Entity
		if u.DisplayText != "" {
			name = fmt.Sprintf("%s <%s>", u.DisplayText, u.Entity)
		}
		if len(u.Endpoints) == 0 {
			fmt.Fprintf(&b, "  %s\n", name)
			continue
		}
		for _, e := range u.Endpoints {
			var parts []string
			for _, p := range []string{string(e.Status), string(e.JoiningMethod), string(e.DisconnectionMethod)} {
				if p != "" {
					parts = append(parts, p)
				}
			}
			var types []string
			for _, md := range e.Media {
				types = append(types, md.Type)
			}
			if len(types) > 0 {
				parts = append(parts, strings.Join(types, "+"))
			}
			if e.Referred != nil && e.Referred.By != "" {
				parts = append(parts, "referred by "+e.Referred.By)
			}
			fmt.Fprintf(&b, "  %s: %s\n", name, strings.Join(parts, ", "))
		}
	}
	return b.String()
}

// describeConference is describe for the conference notifications' data:
// the reference's field names.
func describeConference(data any) any {
	switch d := data.(type) {
	case session.GotConferenceInfoData:
		if d.ConferenceInfo == nil {
			return map[string]any{}
		}
		return map[string]any{"conference_info": conferenceMap(d.ConferenceInfo)}
	case session.ConferenceInfoFailureData:
		return map[string]any{"reason": d.Reason}
	case session.ParticipantData:
		return map[string]any{"participant": d.Participant}
	case session.ParticipantStatusData:
		return map[string]any{"participant": d.Participant, "code": d.Code, "reason": d.Reason}
	}
	return data
}

// printConference prints SIPSessionGotConferenceInfo as a participant
// list (with --json, as its data). p.mu is held. It reports whether n was
// one.
func (p *printer) printConference(n notify.Notification, sender string) bool {
	d, ok := n.Data.(session.GotConferenceInfoData)
	if !ok || p.json || d.ConferenceInfo == nil {
		return false
	}
	fmt.Fprintf(p.w, "%8.3fs  %-12s %s: %s", n.Time.Sub(p.start).Seconds(), sender, n.Name, conferenceText(d.ConferenceInfo))
	return true
}
