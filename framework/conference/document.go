package conference

import "time"

// MIME type, XML namespace and event package of conference state
// (RFC 4575 §3.1, §5).
const (
	ContentType  = "application/conference-info+xml"
	Namespace    = "urn:ietf:params:xml:ns:conference-info"
	EventPackage = "conference"
)

// State is the state attribute of RFC 4575 §5.1: whether an element holds
// all of its content (full), changes to it (partial), or is removed
// (deleted). "" means the attribute is absent.
type State string

// The three states.
const (
	StateFull    State = "full"
	StatePartial State = "partial"
	StateDeleted State = "deleted"
)

// String returns the state as written in a document.
func (s State) String() string { return string(s) }

// Valid reports whether s is one of the three states or absent.
func (s State) Valid() bool {
	return s == "" || s == StateFull || s == StatePartial || s == StateDeleted
}

// EndpointStatus is the status of an endpoint (RFC 4575 §5.7.3).
type EndpointStatus string

// The endpoint statuses of RFC 4575. Others are kept as written.
const (
	StatusPending       EndpointStatus = "pending"
	StatusDialingOut    EndpointStatus = "dialing-out"
	StatusDialingIn     EndpointStatus = "dialing-in"
	StatusAlerting      EndpointStatus = "alerting"
	StatusOnHold        EndpointStatus = "on-hold"
	StatusConnected     EndpointStatus = "connected"
	StatusMutedViaFocus EndpointStatus = "muted-via-focus"
	StatusDisconnecting EndpointStatus = "disconnecting"
	StatusDisconnected  EndpointStatus = "disconnected"
)

// String returns the status as written in a document.
func (s EndpointStatus) String() string { return string(s) }

// Valid reports whether s is one of the statuses of RFC 4575.
func (s EndpointStatus) Valid() bool {
	switch s {
	case StatusPending, StatusDialingOut, StatusDialingIn, StatusAlerting, StatusOnHold,
		StatusConnected, StatusMutedViaFocus, StatusDisconnecting, StatusDisconnected:
		return true
	}
	return false
}

// JoiningMethod says how an endpoint joined (RFC 4575 §5.7.4).
type JoiningMethod string

// The joining methods of RFC 4575. Others are kept as written.
const (
	JoinedDialedIn   JoiningMethod = "dialed-in"
	JoinedDialedOut  JoiningMethod = "dialed-out"
	JoinedFocusOwner JoiningMethod = "focus-owner"
)

// String returns the method as written in a document.
func (m JoiningMethod) String() string { return string(m) }

// Valid reports whether m is one of the methods of RFC 4575.
func (m JoiningMethod) Valid() bool {
	return m == JoinedDialedIn || m == JoinedDialedOut || m == JoinedFocusOwner
}

// DisconnectionMethod says how an endpoint left (RFC 4575 §5.7.6).
type DisconnectionMethod string

// The disconnection methods of RFC 4575. Others are kept as written.
const (
	DisconnectedDeparted DisconnectionMethod = "departed"
	DisconnectedBooted   DisconnectionMethod = "booted"
	DisconnectedFailed   DisconnectionMethod = "failed"
	DisconnectedBusy     DisconnectionMethod = "busy"
)

// String returns the method as written in a document.
func (m DisconnectionMethod) String() string { return string(m) }

// Valid reports whether m is one of the methods of RFC 4575.
func (m DisconnectionMethod) Valid() bool {
	return m == DisconnectedDeparted || m == DisconnectedBooted || m == DisconnectedFailed || m == DisconnectedBusy
}

// MediaStatus is the direction of a media stream (RFC 4575 §5.7.9).
type MediaStatus string

// The media statuses of RFC 4575. Others are kept as written.
const (
	MediaSendRecv MediaStatus = "sendrecv"
	MediaSendOnly MediaStatus = "sendonly"
	MediaRecvOnly MediaStatus = "recvonly"
	MediaInactive MediaStatus = "inactive"
)

// String returns the status as written in a document.
func (s MediaStatus) String() string { return string(s) }

// Valid reports whether s is one of the statuses of RFC 4575.
func (s MediaStatus) Valid() bool {
	return s == MediaSendRecv || s == MediaSendOnly || s == MediaRecvOnly || s == MediaInactive
}

// Info is one conference-info document (RFC 4575 §5), or the state a
// Tracker built from several. Text values are trimmed of XML white space;
// an empty string or nil means the element is absent, which in a partial
// document means "unchanged". Elements this package does not model
// (host-info, sidebars, associated-aors, cascaded-focus, extensions of
// other namespaces) are ignored.
type Info struct {
	// Entity is the conference URI (required).
	Entity string
	// State is the document's state; "" (absent) reads as full.
	State State
	// Version orders the documents of one subscription (RFC 4575 §5.1);
	// meaningful when HasVersion.
	Version    uint32
	HasVersion bool
	// Description is the conference-description element.
	Description *Description
	// ConferenceState is the conference-state element.
	ConferenceState *ConferenceState
	// UsersState is the state attribute of the users element, "" when
	// there is no users element. An element without the attribute reads
	// as StateFull in a full document and StatePartial in a partial one.
	UsersState State
	// Users are the user elements, in document order.
	Users []User
}

// Description is the conference-description element (RFC 4575 §5.3).
type Description struct {
	DisplayText string
	Subject     string
	FreeText    string
	// Keywords is the white-space separated keywords list.
	Keywords []string
	// ConfURIs are the URIs to join the conference by (conf-uris).
	ConfURIs []URIEntry
	// ServiceURIs are auxiliary URIs such as a web page (service-uris).
	ServiceURIs []URIEntry
	// MaximumUserCount is maximum-user-count; nil when absent.
	MaximumUserCount *uint32
	// AvailableMedia are the media streams the conference offers.
	AvailableMedia []AvailableMedia
}

// URIEntry is an entry of a URI list (RFC 4575 §5.3.1).
type URIEntry struct {
	URI         string
	DisplayText string
	Purpose     string
}

// AvailableMedia is an entry of available-media (RFC 4575 §5.3.4).
type AvailableMedia struct {
	// Label is the SDP label of the stream (required, the key).
	Label       string
	DisplayText string
	// Type is the media type: audio, video, text, message...
	Type   string
	Status MediaStatus
}

// ConferenceState is the conference-state element (RFC 4575 §5.5); each
// field is nil when absent.
type ConferenceState struct {
	UserCount *uint32
	Active    *bool
	Locked    *bool
}

// User is a participant (RFC 4575 §5.6), keyed by Entity.
type User struct {
	// Entity is the user's URI (its AOR).
	Entity string
	// State is the element's state attribute; "" when absent.
	State       State
	DisplayText string
	// Roles are the entries of roles; nil when absent.
	Roles []string
	// Languages are the language tags of languages; nil when absent.
	Languages []string
	// Endpoints are the user's devices in the conference.
	Endpoints []Endpoint
}

// Endpoint is one device of a user in the conference (RFC 4575 §5.7),
// keyed by Entity.
type Endpoint struct {
	// Entity is the endpoint's URI (often its Contact or GRUU).
	Entity string
	// State is the element's state attribute; "" when absent.
	State               State
	DisplayText         string
	Referred            *Execution
	Status              EndpointStatus
	JoiningMethod       JoiningMethod
	JoiningInfo         *Execution
	DisconnectionMethod DisconnectionMethod
	DisconnectionInfo   *Execution
	// Media are the endpoint's streams, keyed by ID.
	Media []Media
	// CallInfo identifies the SIP dialog between the focus and the
	// endpoint; a client finds itself in the list with it.
	CallInfo *SIPDialogID
}

// Execution says when, why and by whom something happened (RFC 4575
// §5.7.2, execution-type).
type Execution struct {
	// When is zero when absent; a date-time without zone reads as UTC.
	When   time.Time
	Reason string
	By     string
}

// Media is one stream of an endpoint (RFC 4575 §5.7.9), keyed by ID.
type Media struct {
	// ID is unique among the endpoint's media (required).
	ID          string
	DisplayText string
	// Type is the media type: audio, video, text, message...
	Type string
	// Label is the SDP label of the stream (RFC 4574).
	Label  string
	SrcID  string
	Status MediaStatus
}

// SIPDialogID is the sip element of call-info (RFC 4575 §5.7.10).
type SIPDialogID struct {
	DisplayText string
	CallID      string
	FromTag     string
	ToTag       string
}
