package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/pion/sdp/v3"
)

// Contract version implemented by this SDK. The major version is go-plugin's
// protocol version: host and plugin must agree on it. The minor version grows
// with backwards-compatible additions; a host refuses a plugin whose minor
// version is newer than its own only if the plugin requires it (see
// Manifest.Capabilities).
const (
	ContractMajor = 1
	// ContractMinor 1: StartRequest.Session. 2: the Calls stream (unary
	// calls batched on one stream; a host uses it with plugins of 1.2 and
	// later only). 3: End's deactivate_first (Deactivate then End in one
	// call; a host asks it of plugins of 1.3 and later only).
	ContractMinor = 3
)

// Direction values for InitializeRequest.Direction and SessionInfo.Direction.
const (
	DirectionIncoming = "incoming"
	DirectionOutgoing = "outgoing"
)

// MatchRule says which m-lines a stream type may accept. Every non-empty
// field must match; an empty field matches anything. The host uses it to
// prefilter incoming offers so NewFromSDP is only called on candidates.
type MatchRule struct {
	Media       []string `json:"media,omitempty"`
	Protos      []string `json:"protos,omitempty"`
	AcceptTypes []string `json:"accept_types,omitempty"`
	RTPMapNames []string `json:"rtpmap_names,omitempty"`
	Formats     []string `json:"formats,omitempty"`
}

// StreamTypeInfo describes one stream type a plugin serves.
type StreamTypeInfo struct {
	Type          string    `json:"type"`
	Priority      int       `json:"priority"`
	HoldSupported bool      `json:"hold_supported"`
	Match         MatchRule `json:"match"`
	Codecs        []string  `json:"codecs,omitempty"`
}

// Manifest describes a plugin: what `PLUGIN describe` prints and what
// Describe returns.
type Manifest struct {
	Name          string           `json:"name"`
	Version       string           `json:"version"`
	ContractMajor int              `json:"contract_major"`
	ContractMinor int              `json:"contract_minor"`
	Capabilities  []string         `json:"capabilities,omitempty"`
	StreamTypes   []StreamTypeInfo `json:"stream_types"`
	Methods       []string         `json:"methods,omitempty"`
}

// Validate checks that the manifest is usable by this host.
func (m *Manifest) Validate() error {
	if m.Name == "" {
		return Errorf(ErrInvalidArgument, "manifest has no name")
	}
	if m.ContractMajor != ContractMajor {
		return Errorf(ErrContractVersion, "plugin %s speaks contract %d.%d, host speaks %d.%d",
			m.Name, m.ContractMajor, m.ContractMinor, ContractMajor, ContractMinor)
	}
	if len(m.StreamTypes) == 0 {
		return Errorf(ErrInvalidArgument, "plugin %s declares no stream type", m.Name)
	}
	seen := map[string]bool{}
	for _, t := range m.StreamTypes {
		if t.Type == "" {
			return Errorf(ErrInvalidArgument, "plugin %s declares a stream type without a name", m.Name)
		}
		if seen[t.Type] {
			return Errorf(ErrInvalidArgument, "plugin %s declares stream type %q twice", m.Name, t.Type)
		}
		seen[t.Type] = true
		if len(t.Match.Media) == 0 {
			return Errorf(ErrInvalidArgument, "plugin %s: stream type %q has no media in its match rule", m.Name, t.Type)
		}
	}
	return nil
}

// Account is what a stream knows of the account its session belongs to.
// Settings are flattened ("rtp.port_range" → "50000-50500").
type Account struct {
	ID          string `json:"id"`
	URI         string `json:"uri"`
	DisplayName string `json:"display_name,omitempty"`
	// Settings are shared by the calls of the account (the SDK decodes
	// them once): read them, never change them.
	Settings map[string]string `json:"settings,omitempty"`
}

// Setting returns the named setting or def when it is unset.
func (a *Account) Setting(name, def string) string {
	if a == nil {
		return def
	}
	if v, ok := a.Settings[name]; ok {
		return v
	}
	return def
}

// SessionInfo is what a stream knows of its session.
type SessionInfo struct {
	ID             string `json:"id"`
	Direction      string `json:"direction"`
	LocalIdentity  string `json:"local_identity,omitempty"`
	RemoteIdentity string `json:"remote_identity,omitempty"`
	LocalFocus     bool   `json:"local_focus,omitempty"`
	RemoteFocus    bool   `json:"remote_focus,omitempty"`
	// LocalIP is the address the session signals on, for c= lines and binding.
	LocalIP string `json:"local_ip,omitempty"`
}

// DefaultLocalIP is the address a stream binds when its session names
// none (SessionInfo.LocalAddr).
const DefaultLocalIP = "127.0.0.1"

// LocalAddr returns the address a stream binds its sockets on and writes
// into its c= line: LocalIP, or DefaultLocalIP when s is nil or names none,
// with an IPv4-mapped IPv6 address unmapped. An address that does not parse
// as an IP, or an unspecified one (0.0.0.0 or ::, which in a c= line means
// "do not send to me"), gives an error wrapping ErrInvalidArgument.
func (s *SessionInfo) LocalAddr() (netip.Addr, error) {
	text := DefaultLocalIP
	if s != nil && s.LocalIP != "" {
		text = s.LocalIP
	}
	ip, err := netip.ParseAddr(text)
	if err != nil {
		return netip.Addr{}, Errorf(ErrInvalidArgument, "local IP %q is not an IP address", text)
	}
	if ip = ip.Unmap(); ip.IsUnspecified() {
		return netip.Addr{}, Errorf(ErrInvalidArgument, "local IP %s is unspecified: the session must name the address it signals on", ip)
	}
	return ip, nil
}

// Prepare asks NewFromSDP or Create to also initialize the new stream, wait
// (inside the plugin) for its MediaStreamDidInitialize, and return its local
// media: an offer for Create, the answer for NewFromSDP. It saves the host
// two round trips per stream; the notifications are posted as usual.
type Prepare struct {
	Session    *SessionInfo
	Direction  string
	LocalMedia bool
}

// Prepared is the outcome of a Prepare: whether MediaStreamDidInitialize
// came (else InitError holds the MediaStreamDidNotInitialize reason) and
// the stream's local media section (the offer or the answer). The zero
// value means the stream was not prepared. It is declared once, here: the
// plugin side fills it in, the host's stream proxies return it.
type Prepared struct {
	Initialized bool
	InitError   string
	Media       string
}

// Done tells whether a Prepare ran: the stream initialized or refused to.
func (p Prepared) Done() bool { return p.Initialized || p.InitError != "" }

// NewFromSDPRequest asks for a stream for m-line StreamIndex of RemoteSDP.
type NewFromSDPRequest struct {
	// Types restricts the candidate types, which are still tried by
	// descending priority; empty means all.
	Types       []string
	Account     *Account
	RemoteSDP   string
	StreamIndex int
	Prepare     *Prepare
	// Offer is RemoteSDP already parsed, when the caller has it (nil: not
	// parsed yet). The registry and a plugin's provider match the m-line
	// on it instead of parsing RemoteSDP again, and a plugin's provider
	// hands the type's NewFromSDP its own parse here, so that a stream
	// need not parse the offer once more. It is shared: nobody may change
	// it. It never crosses the plugin boundary.
	Offer *sdp.SessionDescription
}

// CreateRequest asks for a stream of Type for an outgoing offer.
type CreateRequest struct {
	Type    string
	Account *Account
	// Params are the type's constructor parameters as JSON (see MarshalJSONValue).
	Params  json.RawMessage
	Prepare *Prepare
}

// GetLocalMediaRequest asks for the local m-line: an offer when ForOffer,
// else an answer to RemoteSDP's m-line StreamIndex.
type GetLocalMediaRequest struct {
	RemoteSDP   string
	StreamIndex int
	ForOffer    bool
}

// GetLocalMediaResponse holds one media section as SDP text ("m=..." and the
// lines below it, CRLF-separated). Use MarshalMedia to build it.
type GetLocalMediaResponse struct {
	Media string
}

// InitializeRequest tells a stream which session it joins and in which
// direction it was proposed (DirectionIncoming or DirectionOutgoing).
type InitializeRequest struct {
	Session   *SessionInfo
	Direction string
}

// StartRequest starts a stream after SDP negotiation.
type StartRequest struct {
	LocalSDP    string
	RemoteSDP   string
	StreamIndex int
	// Session is what the session knows once the SDP is agreed: for an
	// outgoing session, whether the peer's answer showed a conference
	// focus (RemoteFocus), which Initialize could not know yet. Nil from a
	// host of contract 1.0.
	Session *SessionInfo
}

// ValidateUpdateRequest asks whether a re-INVITE's SDP is acceptable.
type ValidateUpdateRequest struct {
	RemoteSDP   string
	StreamIndex int
}

// ValidateUpdateResponse answers a ValidateUpdateRequest.
type ValidateUpdateResponse struct {
	OK bool
}

// UpdateRequest applies renegotiated SDP.
type UpdateRequest struct {
	LocalSDP    string
	RemoteSDP   string
	StreamIndex int
}

// ResetRequest is sent when the remote re-INVITEs without SDP.
type ResetRequest struct {
	StreamIndex int
}

// Attributes are the IMediaStream attributes plus the type's own (Extra, a
// JSON object).
type Attributes struct {
	HoldSupported  bool
	OnHoldByLocal  bool
	OnHoldByRemote bool
	Extra          json.RawMessage
}

// OnHold is true when the stream is held by either side.
func (a *Attributes) OnHold() bool { return a.OnHoldByLocal || a.OnHoldByRemote }

// DecodeExtra decodes the type's own attributes into v.
func (a *Attributes) DecodeExtra(v any) error {
	if len(a.Extra) == 0 {
		return nil
	}
	if err := json.Unmarshal(a.Extra, v); err != nil {
		return fmt.Errorf("sdk: decode attributes: %w", err)
	}
	return nil
}

// NewAttributes returns attributes without hold support whose Extra is own
// marshalled to JSON (nil leaves Extra empty). A stream's Attributes method
// builds its answer with it, or with HoldState.Attributes when it supports
// hold.
func NewAttributes(own any) (*Attributes, error) {
	extra, err := MarshalJSONValue(own)
	if err != nil {
		return nil, err
	}
	return &Attributes{Extra: extra}, nil
}

// ReadAttributes returns s's attributes and its type's own, decoded from
// Extra into a T: the caller's side of NewAttributes. Stream types give
// their callers a typed wrapper:
//
//	func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
//		return sdk.ReadAttributes[Attributes](ctx, s)
//	}
func ReadAttributes[T any](ctx context.Context, s Stream) (*Attributes, T, error) {
	var own T
	a, err := s.Attributes(ctx)
	if err != nil {
		return nil, own, err
	}
	if err := a.DecodeExtra(&own); err != nil {
		return nil, own, err
	}
	return a, own, nil
}

// InvokeRequest calls a type-specific or plugin-scope method.
type InvokeRequest struct {
	Method string
	Args   json.RawMessage
}

// InvokeResponse carries a method's JSON result.
type InvokeResponse struct {
	Result json.RawMessage
}

// MarshalJSONValue marshals v for Params, Args, Result and Extra fields; nil
// gives nil.
func MarshalJSONValue(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, Errorf(ErrInvalidArgument, "marshal: %v", err)
	}
	return b, nil
}
