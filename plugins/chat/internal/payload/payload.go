package payload

import (
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/cpim"
	"github.com/sipstreams/sipstreams/sdk/iscomposing"
)

// Peer is what was negotiated for a chat stream: who is at each end and
// what the remote accepts. Remote accept-types and accept-wrapped-types
// come from its m-line; CPIMEnabled is true when both ends accept
// message/cpim.
type Peer struct {
	Local              chat.Identity
	Remote             chat.Identity
	RemoteAcceptTypes  []string
	RemoteWrappedTypes []string
	CPIMEnabled        bool
	// RemoteFocus is true when the remote is a conference focus; its
	// a=chatroom capabilities decide PrivateMessagesAllowed.
	RemoteFocus            bool
	PrivateMessagesAllowed bool
	// PreferPlain sends without CPIM when nothing requires it (the
	// reference's prefer_cpim=False); by default CPIM is used whenever
	// both ends accept it.
	PreferPlain bool
}

// Body is an MSRP message body and its Content-Type.
type Body struct {
	ContentType string
	Data        []byte
	// Wrapped is true when Data is a Message/CPIM payload.
	Wrapped bool
}

// charsetUTF8 is the charset the reference labels its text with.
const charsetUTF8 = `charset="utf8"`

// Encode builds the body of m for p, deciding on CPIM as the reference
// does; now is the CPIM DateTime when m has no Timestamp.
func Encode(m chat.Message, p Peer, now time.Time) (Body, error) {
	ct := m.ContentType
	if ct == "" {
		ct = chat.ContentTypeText
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return Body{}, fmt.Errorf("%w: %q: %v", ErrUnsupportedContentType, ct, err)
	}
	private := !defaultRecipients(m.Recipients, p.Remote) || len(m.CourtesyRecipients) > 0
	required := private || m.Subject != "" || !m.Timestamp.IsZero() || len(m.Required) > 0 ||
		len(m.AdditionalHeaders) > 0 || !Accepts(p.RemoteAcceptTypes, ct)
	wrappable := Accepts(p.RemoteWrappedTypes, ct)
	if required {
		if !wrappable {
			return Body{}, fmt.Errorf("%w: %q", ErrUnsupportedContentType, ct)
		}
		if !p.CPIMEnabled {
			return Body{}, ErrCPIMRequired
		}
		if private && !p.PrivateMessagesAllowed {
			return Body{}, ErrPrivateMessagesNotAllowed
		}
	}
	labelled := withCharset(ct, m.Content)
	if !required && (p.PreferPlain || !p.CPIMEnabled || !wrappable) {
		return Body{ContentType: labelled, Data: m.Content}, nil
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = now
	}
	c := &cpim.Message{
		From:           address(p.Local),
		To:             addresses(m.Recipients),
		CC:             addresses(m.CourtesyRecipients),
		DateTime:       ts,
		Required:       m.Required,
		ContentType:    labelled,
		ContentHeaders: []cpim.Field{{Name: "MIME-Version", Value: "1.0"}},
		Body:           m.Content,
	}
	if len(c.To) == 0 && !p.Remote.IsZero() {
		c.To = []cpim.Address{address(p.Remote)}
	}
	if m.Subject != "" {
		c.Subject = []cpim.Subject{{Text: m.Subject}}
	}
	c.Namespaces, c.Headers = extensionHeaders(m.AdditionalHeaders)
	return Body{ContentType: chat.ContentTypeCPIM, Data: c.Marshal(), Wrapped: true}, nil
}

// EncodeComposing builds the body of an is-composing indication: CPIM
// wrapped when both ends accept it (and required for explicit recipients),
// as the reference sends it.
func EncodeComposing(ci chat.ComposingIndication, p Peer, now time.Time) (Body, error) {
	doc := &iscomposing.Document{
		State:       iscomposing.State(ci.State),
		LastActive:  ci.LastActive,
		ContentType: "text",
		Refresh:     ci.Refresh,
	}
	return Encode(chat.Message{
		Content:     doc.Marshal(),
		ContentType: chat.ContentTypeComposing,
		Recipients:  ci.Recipients,
	}, p, now)
}

// Incoming is a decoded body: exactly one of Message and Composing is set.
type Incoming struct {
	Message   *chat.GotMessageData
	Composing *chat.ComposingData
}

// Decode reads a body that arrived with contentType under the MSRP
// Message-ID id; now stands for a missing CPIM DateTime.
func Decode(contentType string, data []byte, id string, p Peer, now time.Time) (Incoming, error) {
	ct := mediaType(contentType)
	if !Accepts(chat.AcceptTypes(), ct) {
		return Incoming{}, fmt.Errorf("%w: %q", ErrUnwanted, contentType)
	}
	m := chat.ReceivedMessage{
		Content:     data,
		ContentType: ct,
		Sender:      p.Remote,
		Timestamp:   now,
		MessageID:   id,
	}
	if !p.Local.IsZero() {
		m.Recipients = []chat.Identity{p.Local}
	}
	if ct == chat.ContentTypeCPIM {
		c, err := cpim.Parse(data)
		if err != nil {
			return Incoming{}, fmt.Errorf("%w: %v", ErrCPIMParse, err)
		}
		inner := mediaType(c.ContentType)
		if inner == "" {
			inner = chat.ContentTypeText
		}
		if !Accepts(chat.AcceptWrappedTypes(), inner) {
			return Incoming{}, fmt.Errorf("%w: wrapped %q", ErrUnwanted, c.ContentType)
		}
		m.Content, m.ContentType = c.Body, inner
		if !c.From.IsZero() {
			m.Sender = identity(c.From)
		}
		if len(c.To) > 0 {
			m.Recipients = identities(c.To)
		}
		m.CourtesyRecipients = identities(c.CC)
		if !c.DateTime.IsZero() {
			m.Timestamp = c.DateTime
		}
		m.Required = c.Required
		for _, s := range c.Subject {
			if s.Lang == "" || m.Subject == "" {
				m.Subject = s.Text
			}
		}
		for _, h := range c.Headers {
			ns := "" // the default namespace
			if h.Prefix != "" {
				ns, _ = c.NamespaceURI(h.Prefix)
			}
			m.AdditionalHeaders = append(m.AdditionalHeaders, chat.Header{Namespace: ns, Name: h.Name, Value: h.Value})
		}
	}
	private := p.RemoteFocus && len(m.Recipients) == 1 && !m.Recipients[0].Equal(p.Remote)
	if m.ContentType == chat.ContentTypeComposing {
		doc, err := iscomposing.Parse(m.Content)
		if err != nil {
			return Incoming{}, fmt.Errorf("%w: %v", ErrComposingParse, err)
		}
		refresh := doc.Refresh
		if refresh <= 0 {
			refresh = chat.DefaultComposingRefresh
		}
		return Incoming{Composing: &chat.ComposingData{
			State:       string(doc.State),
			Refresh:     refresh,
			ContentType: doc.ContentType,
			LastActive:  doc.LastActive,
			Sender:      m.Sender,
			Recipients:  m.Recipients,
			Private:     private,
		}}, nil
	}
	return Incoming{Message: &chat.GotMessageData{Message: m, Private: private}}, nil
}

// defaultRecipients reports whether rs is the default: none, or only the
// remote party.
func defaultRecipients(rs []chat.Identity, remote chat.Identity) bool {
	return len(rs) == 0 || len(rs) == 1 && rs[0].Equal(remote)
}

// withCharset labels UTF-8 text without a charset as the reference does.
func withCharset(ct string, content []byte) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.HasPrefix(mt, "text/") || params["charset"] != "" || !utf8.Valid(content) {
		return ct
	}
	return ct + "; " + charsetUTF8
}

// mediaType returns the lower-case type/subtype of a Content-Type value.
func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

func address(i chat.Identity) cpim.Address {
	return cpim.Address{URI: i.URI, DisplayName: i.DisplayName}
}

func addresses(is []chat.Identity) []cpim.Address {
	var out []cpim.Address
	for _, i := range is {
		out = append(out, address(i))
	}
	return out
}

func identity(a cpim.Address) chat.Identity {
	return chat.Identity{URI: a.URI, DisplayName: a.DisplayName}
}

func identities(as []cpim.Address) []chat.Identity {
	var out []chat.Identity
	for _, a := range as {
		out = append(out, identity(a))
	}
	return out
}

// extensionHeaders declares one namespace prefix per distinct namespace URI
// (ns1, ns2, ...) and writes each header under its prefix; a header without
// a namespace goes into the default namespace.
func extensionHeaders(hs []chat.Header) ([]cpim.Namespace, []cpim.Header) {
	var (
		nss    []cpim.Namespace
		out    []cpim.Header
		prefix = map[string]string{}
	)
	for _, h := range hs {
		p := ""
		if h.Namespace != "" {
			if p = prefix[h.Namespace]; p == "" {
				p = fmt.Sprintf("ns%d", len(nss)+1)
				prefix[h.Namespace] = p
				nss = append(nss, cpim.Namespace{Prefix: p, URI: h.Namespace})
			}
		}
		out = append(out, cpim.Header{Prefix: p, Name: h.Name, Value: h.Value})
	}
	return nss, out
}

// Accepts reports whether contentType is among types, honouring "*" and
// "type/*" wildcards (RFC 4975 §8.6); parameters and case are ignored.
func Accepts(types []string, contentType string) bool {
	ct := mediaType(contentType)
	major, _, _ := strings.Cut(ct, "/")
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "*" || t == ct || (strings.HasSuffix(t, "/*") && strings.TrimSuffix(t, "/*") == major) {
			return true
		}
	}
	return false
}
