package focustest

import (
	"context"
	"net"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// member is a participant: one user with one endpoint.
type member struct {
	aor      string // the user entity: From of its INVITE, or the REFER target
	display  string // the display name it called with
	nickname string // set by NICKNAME
	endpoint string // its Contact, or the URI dialed
	status   conference.EndpointStatus
	joining  conference.JoiningMethod
	referBy  string // who asked the focus to dial it
	media    []conference.Media
	callID   string
	dialog   *conference.SIPDialogID

	in   *sipgo.DialogServerSession // it called
	out  *sipgo.DialogClientSession // the focus dialed it
	rtp  []net.PacketConn           // audio sockets, read and dropped
	chat *msrp.Session              // bound MSRP session, nil until then
	// chatWait is closed once chat is set (or will never be).
	chatWait chan struct{}
}

// user is the member as a conference-info user.
func (m *member) user() conference.User {
	display := m.display
	if m.nickname != "" {
		display = m.nickname
	}
	ep := conference.Endpoint{
		Entity: m.endpoint, Status: m.status, JoiningMethod: m.joining,
		Media: append([]conference.Media(nil), m.media...), CallInfo: m.dialog,
	}
	if m.referBy != "" {
		ep.Referred = &conference.Execution{By: m.referBy}
	}
	return conference.User{Entity: m.aor, DisplayText: display, Roles: []string{"participant"}, Endpoints: []conference.Endpoint{ep}}
}

// hangUp sends the member a BYE.
func (m *member) hangUp(ctx context.Context) error {
	switch {
	case m.in != nil:
		return m.in.Bye(ctx)
	case m.out != nil:
		return m.out.Bye(ctx)
	}
	return nil
}

// release closes the member's media.
func (m *member) release() {
	for _, pc := range m.rtp {
		_ = pc.Close()
	}
	if m.chat != nil {
		_ = m.chat.Close()
	}
}

// counted is how many members are in the conference (not dialing).
func (f *Focus) countLocked() uint32 {
	var n uint32
	for _, m := range f.members {
		if m.status == conference.StatusConnected {
			n++
		}
	}
	return n
}

// fullLocked is the whole state, without a version.
func (f *Focus) fullLocked() *conference.Info {
	n, active := f.countLocked(), true
	info := &conference.Info{
		Entity: f.uri.String(), State: conference.StateFull,
		Description: &conference.Description{
			Subject: f.subject,
			AvailableMedia: []conference.AvailableMedia{
				{Label: "1", Type: "audio", Status: conference.MediaSendRecv},
				{Label: "2", Type: "message", Status: conference.MediaSendRecv},
			},
		},
		ConferenceState: &conference.ConferenceState{UserCount: &n, Active: &active},
		UsersState:      conference.StateFull,
	}
	for _, m := range f.members {
		info.Users = append(info.Users, m.user())
	}
	return info
}

// changedLocked tells every conference subscriber that m changed (or,
// with gone, left).
func (f *Focus) changedLocked(m *member, gone bool) {
	n := f.countLocked()
	doc := &conference.Info{
		Entity: f.uri.String(), State: conference.StatePartial,
		ConferenceState: &conference.ConferenceState{UserCount: &n},
		UsersState:      conference.StatePartial,
	}
	if gone {
		doc.Users = []conference.User{{Entity: m.aor, State: conference.StateDeleted}}
	} else {
		u := m.user()
		u.State = conference.StateFull
		doc.Users = []conference.User{u}
	}
	for _, s := range f.subs {
		if s.conf {
			s.enqueueLocked(notifyJob{doc: doc.Clone(), state: s.activeState()})
		}
	}
}

// addLocked adds a member and tells the subscribers.
func (f *Focus) addLocked(m *member) {
	f.members = append(f.members, m)
	f.changedLocked(m, false)
}

// removeLocked removes m (when still there), tells the subscribers and
// reports whether it was there.
func (f *Focus) removeLocked(m *member) bool {
	for i, x := range f.members {
		if x == m {
			f.members = append(f.members[:i:i], f.members[i+1:]...)
			f.changedLocked(m, true)
			return true
		}
	}
	return false
}

// byCallID finds the member of a dialog.
func (f *Focus) byCallIDLocked(callID string) *member {
	for _, m := range f.members {
		if m.callID == callID {
			return m
		}
	}
	return nil
}

// byURILocked finds the member a URI names: the same user entity, else
// the same user and host (as chat identities compare).
func (f *Focus) byURILocked(uri string) *member {
	for _, m := range f.members {
		if m.aor == uri {
			return m
		}
	}
	u, h := userHost(uri)
	for _, m := range f.members {
		if mu, mh := userHost(m.aor); mu == u && strings.EqualFold(mh, h) {
			return m
		}
	}
	return nil
}

// userHost reads user and host out of "sip:user@host:port;params" or a
// name-addr.
func userHost(s string) (user, host string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return "", s
	}
	return u.User, u.Host
}

// aorOf is the address of record of a From header: scheme, user, host
// and port, without parameters.
func aorOf(a sip.Uri) string {
	return (&sip.Uri{Scheme: a.Scheme, User: a.User, Host: a.Host, Port: a.Port}).String()
}
