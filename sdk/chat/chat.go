package chat

import (
	"context"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/cpim"
)

// Type is the stream type name, Priority its dispatch priority and
// MediaType its m-line media (the reference's ChatStream).
const (
	Type      = "chat"
	Priority  = 1
	MediaType = "message"
)

// Content types the chat stream accepts, as in the reference:
// a=accept-types lists CPIM, text/*, image/* and is-composing;
// a=accept-wrapped-types the same without CPIM.
const (
	ContentTypeCPIM      = "message/cpim"
	ContentTypeText      = "text/plain"
	ContentTypeComposing = "application/im-iscomposing+xml"
)

// AcceptTypes returns the chat stream's a=accept-types, in order.
func AcceptTypes() []string {
	return []string{ContentTypeCPIM, "text/*", "image/*", ContentTypeComposing}
}

// AcceptWrappedTypes returns the chat stream's a=accept-wrapped-types.
func AcceptWrappedTypes() []string {
	return []string{"text/*", "image/*", ContentTypeComposing}
}

// Account settings read by the chat stream (sdk.Account.Settings keys),
// besides those of the MSRP base (msrp.transport, msrp.connection_model,
// tls.*; see package msrpstream).
const (
	// SettingMaxMessageSize bounds an incoming message in bytes; a larger
	// one is refused with MSRP 413 and the stream keeps going. Default
	// DefaultMaxMessageSize.
	SettingMaxMessageSize = "chat.max_message_size"
	// SettingPreferCPIM is "true" (the default, as the reference's
	// prefer_cpim) to wrap every message in CPIM when both ends accept
	// it, "false" to send plain bodies unless metadata requires CPIM.
	SettingPreferCPIM = "chat.prefer_cpim"
	// SettingMaxReassemblyMemory bounds, in bytes, the incoming messages
	// still arriving that the chat plugin holds over all its streams
	// (counted by bytes received, never by the offsets a peer claims); a
	// chunk beyond it is refused with MSRP 413 and the stream keeps going.
	// Default DefaultMaxReassemblyMemory.
	SettingMaxReassemblyMemory = "chat.max_reassembly_memory"
	// SettingSendWindow is how many messages a stream sends ahead of
	// their transaction responses (it pipelines them: the connection
	// keeps their order); once that many wait for a response, the next
	// waits for the oldest. Default DefaultSendWindow.
	SettingSendWindow = "chat.send_window"
)

// DefaultMaxMessageSize is the default of SettingMaxMessageSize: 16 MiB.
const DefaultMaxMessageSize = 16 << 20

// DefaultMaxReassemblyMemory is the default of
// SettingMaxReassemblyMemory: 32 MiB, two messages of the default
// largest size.
const DefaultMaxReassemblyMemory = 32 << 20

// DefaultSendWindow is the default of SettingSendWindow.
const DefaultSendWindow = 512

// Stream-scope methods (sdk.Stream.Invoke).
const (
	MethodSendMessage             = "send_message"              // Message → SendResult
	MethodSendMessages            = "send_messages"             // SendMessagesArgs → SendMessagesResult
	MethodSendComposingIndication = "send_composing_indication" // ComposingIndication → SendResult
	MethodSetLocalNickname        = "set_local_nickname"        // NicknameArgs → SendResult
)

// Tokens of the remote a=chatroom attribute (RFC 7701 §7) that the chat
// stream acts on, when the remote is a conference focus and CPIM is
// enabled.
const (
	CapabilityNickname        = "nickname"         // SetLocalNickname is allowed
	CapabilityPrivateMessages = "private-messages" // recipients other than the focus are allowed
)

// Notifications posted by a chat stream, besides the generic MediaStream*
// ones (names verbatim from the reference).
const (
	// GotMessage: a message arrived (GotMessageData).
	GotMessage = "ChatStreamGotMessage"
	// GotComposingIndication: an is-composing indication arrived
	// (ComposingData).
	GotComposingIndication = "ChatStreamGotComposingIndication"
	// DidSendMessage: a message was handed to the MSRP connection
	// (DidSendMessageData).
	DidSendMessage = "ChatStreamDidSendMessage"
	// DidDeliverMessage: the remote sent a success REPORT (DeliveryData).
	DidDeliverMessage = "ChatStreamDidDeliverMessage"
	// DidNotDeliverMessage: a failure REPORT or transaction response came
	// back, the transaction timed out, or the stream ended first
	// (DeliveryData; Code 0 when no MSRP status applies).
	DidNotDeliverMessage = "ChatStreamDidNotDeliverMessage"
	// DidSetNickname: the focus answered a NICKNAME request with 200
	// (NicknameData).
	DidSetNickname = "ChatStreamDidSetNickname"
	// DidNotSetNickname: the focus refused the nickname (e.g. 425 when it
	// is in use), the transaction timed out (the local 408), or the stream
	// ended first (code 0, "Stream ended") (NicknameData).
	DidNotSetNickname = "ChatStreamDidNotSetNickname"
)

// Reasons of DidNotDeliverMessage without an MSRP status (Code 0).
const (
	// ReasonStreamEnded: the stream ended (or failed) while the message
	// was queued or awaiting its report.
	ReasonStreamEnded = "Stream ended"
	// ReasonNicknameNotSupported is the text of the error of
	// SetLocalNickname when the remote is not a focus offering the
	// nickname capability (the reference's ChatStreamError).
	ReasonNicknameNotSupported = "Setting nickname is not supported"
)

// States of an is-composing indication (RFC 3994).
const (
	StateActive = "active"
	StateIdle   = "idle"
)

// DefaultComposingRefresh is the refresh interval, in seconds, assumed
// when an indication has none (RFC 3994 §3.3, the reference's default).
const DefaultComposingRefresh = 120

// Identity is a chat participant: the reference's ChatIdentity (CPIM
// From, To and cc). DisplayName may be empty.
type Identity struct {
	URI         string `json:"uri"`
	DisplayName string `json:"display_name,omitempty"`
}

// ParseIdentity reads `"Display" <sip:u@h>`, `Display <sip:u@h>`,
// `<sip:u@h>` or a bare `sip:u@h`.
func ParseIdentity(s string) (Identity, error) {
	s = strings.TrimSpace(s)
	if s != "" && !strings.ContainsAny(s, "<>\" ") {
		return Identity{URI: s}, nil
	}
	a, err := cpim.ParseAddress(s)
	if err != nil {
		return Identity{}, sdk.Errorf(sdk.ErrInvalidArgument, "chat identity %q: %v", s, err)
	}
	return Identity{URI: a.URI, DisplayName: a.DisplayName}, nil
}

// String writes the identity as `"Display" <uri>`, or `<uri>` without a
// display name.
func (i Identity) String() string {
	return cpim.Address{DisplayName: i.DisplayName, URI: i.URI}.String()
}

// IsZero reports whether the identity is unset.
func (i Identity) IsZero() bool { return i.URI == "" }

// Equal compares user and host only, as the reference does: scheme, URI
// parameters and display names are ignored; hosts compare without case.
func (i Identity) Equal(o Identity) bool {
	au, ah := userHost(i.URI)
	bu, bh := userHost(o.URI)
	return au == bu && strings.EqualFold(ah, bh)
}

// userHost splits sip[s]:user@host[:port][;params] into user and host.
func userHost(uri string) (user, host string) {
	s := strings.TrimSpace(uri)
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "@") {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if j := strings.IndexByte(s, ']'); j >= 0 {
			return user, s[:j+1]
		}
	}
	if j := strings.IndexByte(s, ':'); j >= 0 {
		s = s[:j]
	}
	return user, s
}

// Header is an additional CPIM header in a namespace: the reference's
// additional_headers. It is written as `prefix.Name: Value` after an
// `NS: prefix <Namespace>` declaration; the prefix is chosen by the stream.
type Header struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}

// Message is what SendMessage sends: the arguments of the reference's
// send_message. Only Content is required; ContentType defaults to
// text/plain (text is sent with charset utf8). Every other field is
// metadata that needs the CPIM wrapper. Recipients default to the remote
// party; others are allowed only when the remote is a conference focus
// offering private messages.
type Message struct {
	Content            []byte     `json:"content"`
	ContentType        string     `json:"content_type,omitempty"`
	Recipients         []Identity `json:"recipients,omitempty"`
	CourtesyRecipients []Identity `json:"courtesy_recipients,omitempty"`
	Subject            string     `json:"subject,omitempty"`
	Timestamp          time.Time  `json:"timestamp,omitzero"`
	Required           []string   `json:"required,omitempty"`
	AdditionalHeaders  []Header   `json:"additional_headers,omitempty"`
}

// ComposingIndication is what SendComposingIndication sends: State is
// StateActive or StateIdle (anything else is sent as idle), Refresh the
// interval in seconds after which the remote may assume idle (0 leaves it
// out), LastActive when the user last typed (zero leaves it out).
type ComposingIndication struct {
	State      string     `json:"state"`
	Refresh    int        `json:"refresh,omitempty"`
	LastActive time.Time  `json:"last_active,omitzero"`
	Recipients []Identity `json:"recipients,omitempty"`
}

// SendResult is the result of both send methods: the MSRP Message-ID that
// the delivery notifications name.
type SendResult struct {
	MessageID string `json:"message_id"`
}

// SendMessagesArgs are the arguments of MethodSendMessages: messages to
// send in this order, as consecutive send_message calls would.
type SendMessagesArgs struct {
	Messages []Message `json:"messages"`
}

// SendMessagesResult is the result of MethodSendMessages: the MSRP
// Message-ID of each message, in the order given.
type SendMessagesResult struct {
	MessageIDs []string `json:"message_ids"`
}

// ReceivedMessage is an incoming message: the reference's ChatMessage.
// Without CPIM, Sender is the remote party, Recipients the local one and
// Timestamp the arrival time.
type ReceivedMessage struct {
	Content            []byte     `json:"content"`
	ContentType        string     `json:"content_type"`
	Sender             Identity   `json:"sender"`
	Recipients         []Identity `json:"recipients,omitempty"`
	CourtesyRecipients []Identity `json:"courtesy_recipients,omitempty"`
	Subject            string     `json:"subject,omitempty"`
	Timestamp          time.Time  `json:"timestamp"`
	Required           []string   `json:"required,omitempty"`
	AdditionalHeaders  []Header   `json:"additional_headers,omitempty"`
	// MessageID is the MSRP Message-ID it arrived with.
	MessageID string `json:"message_id"`
}

// GotMessageData is the data of GotMessage. Private is true for a private
// message from a conference focus (one recipient, not the remote party).
type GotMessageData struct {
	Message ReceivedMessage `json:"message"`
	Private bool            `json:"private"`
}

// ComposingData is the data of GotComposingIndication. Refresh is in
// seconds (DefaultComposingRefresh when the indication had none).
type ComposingData struct {
	State       string     `json:"state"`
	Refresh     int        `json:"refresh"`
	ContentType string     `json:"content_type,omitempty"`
	LastActive  time.Time  `json:"last_active,omitzero"`
	Sender      Identity   `json:"sender"`
	Recipients  []Identity `json:"recipients,omitempty"`
	Private     bool       `json:"private"`
}

// DidSendMessageData is the data of DidSendMessage.
type DidSendMessageData struct {
	MessageID string `json:"message_id"`
}

// DeliveryData is the data of DidDeliverMessage and DidNotDeliverMessage:
// the MSRP status of the REPORT or transaction response (Code 0 when the
// stream ended first).
type DeliveryData struct {
	MessageID string `json:"message_id"`
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
}

// NicknameArgs are the arguments of MethodSetLocalNickname.
type NicknameArgs struct {
	Nickname string `json:"nickname"`
}

// NicknameData is the data of DidSetNickname and DidNotSetNickname: the
// id SetLocalNickname returned, the nickname asked for, and the MSRP
// status of the NICKNAME transaction (the reference passes the response
// itself, as response or message; Code and Reason are its code and
// comment).
type NicknameData struct {
	MessageID string `json:"message_id"`
	Nickname  string `json:"nickname"`
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
}

// Attributes are the chat stream's own attributes, the JSON object in
// sdk.Attributes.Extra; the remote-dependent ones are known once the
// remote m-line is (when answering, or after Start).
type Attributes struct {
	// CPIMEnabled: both ends accept message/cpim.
	CPIMEnabled bool `json:"cpim_enabled"`
	// ChatroomCapabilities are the tokens of the remote a=chatroom.
	ChatroomCapabilities   []string `json:"chatroom_capabilities,omitempty"`
	PrivateMessagesAllowed bool     `json:"private_messages_allowed"`
	NicknameAllowed        bool     `json:"nickname_allowed"`
	// LocalPath and RemotePath are the MSRP paths (a=path).
	LocalPath  string `json:"local_path,omitempty"`
	RemotePath string `json:"remote_path,omitempty"`
	// Queued is the number of messages waiting for the stream to start.
	Queued int `json:"queued"`
}

// SendMessage sends m on the chat stream s and returns its Message-ID at
// once; the outcome arrives as DidDeliverMessage or DidNotDeliverMessage.
// Before the stream has started the message is queued.
func SendMessage(ctx context.Context, s sdk.Invoker, m Message) (string, error) {
	r, err := sdk.Call[SendResult](ctx, s, MethodSendMessage, m)
	return r.MessageID, err
}

// SendMessages sends msgs on the chat stream s, in this order, with one
// call across the plugin boundary, and returns their Message-IDs at once:
// what len(msgs) SendMessage calls would do, for a fraction of the cost.
// The messages are checked first; if one cannot be sent, none is queued
// and the error (sdk.ErrInvalidArgument) names its index. No message of
// another call comes between them.
func SendMessages(ctx context.Context, s sdk.Invoker, msgs []Message) ([]string, error) {
	r, err := sdk.Call[SendMessagesResult](ctx, s, MethodSendMessages, SendMessagesArgs{Messages: msgs})
	return r.MessageIDs, err
}

// SendComposingIndication sends an is-composing indication (no delivery
// reports are asked for) and returns its Message-ID. refresh is in
// seconds, 0 to leave it out; a zero lastActive is left out; nil
// recipients mean the remote party.
func SendComposingIndication(ctx context.Context, s sdk.Invoker, state string, refresh int, lastActive time.Time, recipients []Identity) (string, error) {
	r, err := sdk.Call[SendResult](ctx, s, MethodSendComposingIndication,
		ComposingIndication{State: state, Refresh: refresh, LastActive: lastActive, Recipients: recipients})
	return r.MessageID, err
}

// SetLocalNickname asks the conference focus at the other end of the chat
// stream s to call the local user nickname (an MSRP NICKNAME request with
// Use-Nickname, RFC 7701) and returns the request's id at once; the
// outcome arrives as DidSetNickname or DidNotSetNickname with that
// MessageID. It fails with sdk.ErrIllegalState and the reference's
// "Setting nickname is not supported" unless the remote is a focus whose
// a=chatroom offers "nickname" (and CPIM is enabled), or when the stream
// has not started; with sdk.ErrInvalidArgument for a nickname with
// control characters. Nothing is sent then.
func SetLocalNickname(ctx context.Context, s sdk.Invoker, nickname string) (string, error) {
	r, err := sdk.Call[SendResult](ctx, s, MethodSetLocalNickname, NicknameArgs{Nickname: nickname})
	return r.MessageID, err
}

// ReadAttributes returns the stream's generic attributes and its own.
func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
	return sdk.ReadAttributes[Attributes](ctx, s)
}
