package msrpstream

import (
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Media is an MSRP media section (RFC 4975 §8, RFC 6135): what the local
// end offers or answers, or what the remote sent.
//
//	m=message <port> TCP/MSRP|TCP/TLS/MSRP *
//	c=IN IP4 <address>
//	a=path:<uri> ...
//	a=<direction>                (when not sendrecv)
//	a=accept-types:<types>
//	a=accept-wrapped-types:<types>
//	a=setup:<active|passive|actpass>
//	a=fingerprint:<hash> <hex>   (TCP/TLS/MSRP, RFC 8122)
//	a=max-size:<bytes>
//	<stream-specific attributes>
type Media struct {
	// MediaType is the m-line media, "message" for every MSRP stream the
	// reference knows.
	MediaType string
	// Transport is TLS or TCP; it must agree with the path's scheme.
	Transport Transport
	// Port is the m-line port; 0 rejects the stream. Build uses the port
	// of the last path URI (msrp.DefaultPort when it has none).
	Port int
	// Address is the c= address; Build uses the host of the last path URI.
	Address string
	// Path is the a=path: the relays to cross, then the endpoint's own URI
	// last (RFC 4975 §8.2). The remote is reached through Path in order.
	Path []msrp.URI
	// Direction is sendrecv, sendonly, recvonly or inactive; "" means
	// sendrecv.
	Direction sdk.MediaDirection
	// AcceptTypes and AcceptWrappedTypes are the media types the endpoint
	// takes, bare and inside message/cpim (RFC 4975 §8.6).
	AcceptTypes        []string
	AcceptWrappedTypes []string
	// Setup is a=setup; "" leaves the attribute out.
	Setup Setup
	// Fingerprints are the a=fingerprint values (RFC 8122): the hashes of
	// the certificate the endpoint presents over TLS. When parsing, those
	// of the media section, or else of the session.
	Fingerprints []Fingerprint
	// MaxSize is a=max-size in bytes; 0 leaves it out.
	MaxSize int64
	// Attributes are the stream type's own attributes (file-selector,
	// chatroom, ...), written after the standard ones. When parsing, every
	// attribute not listed above lands here.
	Attributes []sdp.Attribute
}

// DefaultMediaType is the m-line media of MSRP streams.
const DefaultMediaType = "message"

// Build returns the media description. Port and Address left zero are taken
// from the last path URI, as the reference does; the session replaces c= with
// the address it signals on.
func (m *Media) Build() *sdp.MediaDescription {
	port, addr := m.Port, m.Address
	if len(m.Path) > 0 {
		last := m.Path[len(m.Path)-1]
		if port == 0 {
			port = last.Port
			if port == 0 {
				port = msrp.DefaultPort
			}
		}
		if addr == "" {
			addr = last.Host
		}
	}
	mediaType := m.MediaType
	if mediaType == "" {
		mediaType = DefaultMediaType
	}
	transport := m.Transport
	if transport == 0 {
		transport = TransportTLS
	}
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:   mediaType,
			Port:    sdp.RangedPort{Value: port},
			Protos:  strings.Split(transport.Proto(), "/"),
			Formats: []string{"*"},
		},
	}
	if addr != "" {
		addrType := "IP4"
		if ip := net.ParseIP(addr); ip != nil && ip.To4() == nil {
			addrType = "IP6"
		}
		md.ConnectionInformation = &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: addr},
		}
	}
	if len(m.Path) > 0 {
		uris := make([]string, len(m.Path))
		for i, u := range m.Path {
			uris[i] = u.String()
		}
		md.WithValueAttribute("path", strings.Join(uris, " "))
	}
	if m.Direction != "" && m.Direction != "sendrecv" {
		md.WithPropertyAttribute(string(m.Direction))
	}
	if len(m.AcceptTypes) > 0 {
		md.WithValueAttribute("accept-types", strings.Join(m.AcceptTypes, " "))
	}
	if len(m.AcceptWrappedTypes) > 0 {
		md.WithValueAttribute("accept-wrapped-types", strings.Join(m.AcceptWrappedTypes, " "))
	}
	if m.Setup != "" {
		md.WithValueAttribute("setup", string(m.Setup))
	}
	for _, f := range m.Fingerprints {
		md.WithValueAttribute("fingerprint", f.String())
	}
	if m.MaxSize > 0 {
		md.WithValueAttribute("max-size", strconv.FormatInt(m.MaxSize, 10))
	}
	md.Attributes = append(md.Attributes, m.Attributes...)
	return md
}

// Marshal returns the media section as GetLocalMedia returns it.
func (m *Media) Marshal() (string, error) { return sdk.MarshalMedia(m.Build()) }

// ParseMediaAt reads m-line index of a session description, such as the
// remote SDP of NewFromSDP or Start, and checks it with Validate against the
// transport the account uses.
func ParseMediaAt(text string, index int, want Transport) (*Media, error) {
	s, md, err := sdk.MediaAt(text, index)
	if err != nil {
		return nil, err
	}
	m, err := FromSDP(s, md)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(want); err != nil {
		return nil, err
	}
	return m, nil
}

// FromSDP reads an MSRP media section; s (may be nil) supplies the
// session-level c= and direction. It fails, wrapping sdk.ErrUnknownStream,
// when the m-line is not MSRP at all, and wrapping sdk.ErrInvalidStream
// when it is MSRP but its format list is not "*" or an attribute cannot be
// read.
func FromSDP(s *sdp.SessionDescription, md *sdp.MediaDescription) (*Media, error) {
	proto := strings.Join(md.MediaName.Protos, "/")
	transport, ok := TransportOf(proto)
	if !ok {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "m=%s %s is not MSRP", md.MediaName.Media, proto)
	}
	if len(md.MediaName.Formats) != 1 || md.MediaName.Formats[0] != "*" {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "m-line formats are %q, expected *", strings.Join(md.MediaName.Formats, " "))
	}
	m := &Media{
		MediaType: md.MediaName.Media,
		Transport: transport,
		Port:      md.MediaName.Port.Value,
		Address:   sdk.ConnectionAddress(s, md),
		Direction: sdk.Direction(s, md),
	}
	var fingerprints []string
	for _, a := range md.Attributes {
		var err error
		switch strings.ToLower(a.Key) {
		case "fingerprint":
			fingerprints = append(fingerprints, a.Value)
		case "path":
			for _, f := range strings.Fields(a.Value) {
				u, perr := msrp.ParseURI(f)
				if perr != nil {
					return nil, sdk.Errorf(sdk.ErrInvalidStream, "a=path: %v", perr)
				}
				m.Path = append(m.Path, u)
			}
		case "accept-types":
			m.AcceptTypes = fields(a.Value)
		case "accept-wrapped-types":
			m.AcceptWrappedTypes = fields(a.Value)
		case "setup":
			m.Setup, err = ParseSetup(a.Value)
		case "max-size":
			m.MaxSize, err = strconv.ParseInt(strings.TrimSpace(a.Value), 10, 63)
			if err != nil || m.MaxSize < 0 {
				err = sdk.Errorf(sdk.ErrInvalidStream, "a=max-size:%s is not a byte count", a.Value)
			}
		case "sendrecv", "sendonly", "recvonly", "inactive":
		default:
			m.Attributes = append(m.Attributes, a)
		}
		if err != nil {
			return nil, err
		}
	}
	var sessionFingerprints []string
	if s != nil {
		for _, a := range s.Attributes {
			if strings.EqualFold(a.Key, "fingerprint") {
				sessionFingerprints = append(sessionFingerprints, a.Value)
			}
		}
	}
	var err error
	if m.Fingerprints, err = fingerprintsOf(sessionFingerprints, fingerprints); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks a remote media section as the reference's new_from_sdp and
// start do: the m-line must carry exactly the protocol of the account's
// transport and the format list "*", and a=path must be present with every
// URI of the matching scheme (msrps for TLS). Failures wrap
// sdk.ErrInvalidStream and name the reason.
func (m *Media) Validate(want Transport) error {
	if m.Transport != want {
		return sdk.Errorf(sdk.ErrInvalidStream, "m-line protocol is %s, expected %s (msrp.transport %s)", m.Transport.Proto(), want.Proto(), want)
	}
	if len(m.Path) == 0 {
		return sdk.Errorf(sdk.ErrInvalidStream, "no a=path attribute")
	}
	for _, u := range m.Path {
		if u.Secure != want.Secure() {
			return sdk.Errorf(sdk.ErrInvalidStream, "a=path URI %s does not match %s", u, want.Proto())
		}
		if !strings.EqualFold(u.Transport, "tcp") {
			return sdk.Errorf(sdk.ErrInvalidStream, "a=path URI %s: only the tcp transport is supported", u)
		}
	}
	if m.Port == 0 {
		return sdk.Errorf(sdk.ErrInvalidStream, "m-line port is 0")
	}
	return nil
}

// Accepts reports whether contentType is among the accept types, honouring
// "*" and "type/*" wildcards (RFC 4975 §8.6); parameters are ignored.
func Accepts(types []string, contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	major, _, _ := strings.Cut(ct, "/")
	for _, t := range types {
		t = strings.ToLower(t)
		if t == "*" || t == ct || (strings.HasSuffix(t, "/*") && strings.TrimSuffix(t, "/*") == major) {
			return true
		}
	}
	return false
}

// fields splits a space-separated list; an empty list is nil.
func fields(v string) []string {
	if f := strings.Fields(v); len(f) > 0 {
		return f
	}
	return nil
}
