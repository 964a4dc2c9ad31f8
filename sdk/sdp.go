package sdk

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// ParseSDP parses a session description. A malformed one gives an error
// wrapping ErrInvalidStream.
func ParseSDP(text string) (*sdp.SessionDescription, error) {
	var s sdp.SessionDescription
	if err := s.UnmarshalString(text); err != nil {
		return nil, Errorf(ErrInvalidStream, "malformed SDP: %v", err)
	}
	return &s, nil
}

// MediaAt parses text and returns the session and its m-line index. A
// malformed SDP or an index out of range gives an error wrapping
// ErrInvalidStream.
func MediaAt(text string, index int) (*sdp.SessionDescription, *sdp.MediaDescription, error) {
	s, err := ParseSDP(text)
	if err != nil {
		return nil, nil, err
	}
	return mediaOf(s, index)
}

// OfferMediaAt is MediaAt of req's offer: on req.Offer when set, else on
// req.RemoteSDP parsed (req is left as it is).
func OfferMediaAt(req *NewFromSDPRequest) (*sdp.SessionDescription, *sdp.MediaDescription, error) {
	if req.Offer != nil {
		return mediaOf(req.Offer, req.StreamIndex)
	}
	return MediaAt(req.RemoteSDP, req.StreamIndex)
}

func mediaOf(s *sdp.SessionDescription, index int) (*sdp.SessionDescription, *sdp.MediaDescription, error) {
	if index < 0 || index >= len(s.MediaDescriptions) {
		return nil, nil, Errorf(ErrInvalidStream, "no m-line %d in SDP with %d", index, len(s.MediaDescriptions))
	}
	return s, s.MediaDescriptions[index], nil
}

const mediaWrapper = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"

// MarshalMedia returns one media section as SDP text, as GetLocalMedia
// returns it.
func MarshalMedia(m *sdp.MediaDescription) (string, error) {
	s := sdp.SessionDescription{
		Origin:            sdp.Origin{Username: "-", NetworkType: "IN", AddressType: "IP4", UnicastAddress: "0.0.0.0"},
		SessionName:       "-",
		TimeDescriptions:  []sdp.TimeDescription{{}},
		MediaDescriptions: []*sdp.MediaDescription{m},
	}
	b, err := s.Marshal()
	if err != nil {
		return "", Errorf(ErrInternal, "marshal media: %v", err)
	}
	text := string(b)
	i := strings.Index(text, "\r\nm=")
	if i < 0 {
		return "", Errorf(ErrInternal, "marshal media: no m-line")
	}
	return text[i+2:], nil
}

// ParseMedia parses one media section as returned by GetLocalMedia.
func ParseMedia(text string) (*sdp.MediaDescription, error) {
	if !strings.HasPrefix(text, "m=") {
		return nil, Errorf(ErrInvalidStream, "media section does not start with m=")
	}
	s, err := ParseSDP(mediaWrapper + text)
	if err != nil {
		return nil, err
	}
	if len(s.MediaDescriptions) != 1 {
		return nil, Errorf(ErrInvalidStream, "media section holds %d m-lines, want 1", len(s.MediaDescriptions))
	}
	return s.MediaDescriptions[0], nil
}

// LocalMediaResponse returns m as GetLocalMedia's response (MarshalMedia).
func LocalMediaResponse(m *sdp.MediaDescription) (*GetLocalMediaResponse, error) {
	text, err := MarshalMedia(m)
	if err != nil {
		return nil, err
	}
	return &GetLocalMediaResponse{Media: text}, nil
}

// Connection returns the c= line for host, an IP address (IP6 when it is an
// IPv6 one, without a zone) or a host name (IP4, as RFC 4566 §5.7 writes
// an FQDN of an IPv4 host).
func Connection(host string) *sdp.ConnectionInformation {
	addrType := "IP4"
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip = ip.Unmap(); ip.Is6() {
			addrType = "IP6"
		}
		host = ip.WithZone("").String()
	}
	return &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: host}}
}

// Endpoint is where a remote m-line of a UDP-based stream (RTP, the echo
// example) says to send media, as ParseEndpoint reads it.
type Endpoint struct {
	// Address is the connection address (c=, media level else session
	// level), unmapped; the unspecified address for an old-style hold, and
	// invalid when the m-line is removed.
	Address netip.Addr
	// Port is the m-line's port; 0 when the stream is refused or removed.
	Port int
	// Direction is the remote's direction (RemoteDirection: an old-style
	// hold does not receive).
	Direction MediaDirection
}

// Removed reports whether the m-line's port is 0: the stream is refused,
// or removed by a re-INVITE (RFC 3264 §6, §8.2).
func (e Endpoint) Removed() bool { return e.Port == 0 }

// OnHoldOldStyle reports whether the remote holds the stream the RFC 2543
// way, with a connection address of 0.0.0.0 (or ::).
func (e Endpoint) OnHoldOldStyle() bool { return e.Address.IsUnspecified() }

// Peer returns where to send media, or an invalid AddrPort when the m-line
// is removed or on old-style hold.
func (e Endpoint) Peer() netip.AddrPort {
	if e.Removed() || e.OnHoldOldStyle() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(e.Address, uint16(e.Port))
}

// ParseEndpoint reads the connection address, port and direction of the
// remote's m-line m within s (s may be nil). A port of 0 gives an Endpoint
// with only Port set and no error. A port out of range, or a connection
// address that is missing, is a host name or carries a zone, gives an error
// wrapping ErrInvalidStream: a stream cannot send to it.
func ParseEndpoint(s *sdp.SessionDescription, m *sdp.MediaDescription) (Endpoint, error) {
	port := m.MediaName.Port.Value
	if port == 0 {
		return Endpoint{}, nil
	}
	if port < 0 || port > 65535 {
		return Endpoint{}, Errorf(ErrInvalidStream, "m-line port %d is out of range", port)
	}
	text := ConnectionAddress(s, m)
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		return Endpoint{}, Errorf(ErrInvalidStream, "connection address %q is not an IP address", text)
	}
	return Endpoint{Address: addr.Unmap(), Port: port, Direction: RemoteDirection(s, m)}, nil
}

// ConnectionAddress returns the connection address for m: the media-level
// c= line, else the session-level one.
func ConnectionAddress(s *sdp.SessionDescription, m *sdp.MediaDescription) string {
	if m.ConnectionInformation != nil && m.ConnectionInformation.Address != nil {
		return m.ConnectionInformation.Address.Address
	}
	if s != nil && s.ConnectionInformation != nil && s.ConnectionInformation.Address != nil {
		return s.ConnectionInformation.Address.Address
	}
	return ""
}

// Matches reports whether the m-line m satisfies rule.
func (rule *MatchRule) Matches(m *sdp.MediaDescription) bool {
	if len(rule.Media) > 0 && !containsFold(rule.Media, m.MediaName.Media) {
		return false
	}
	if len(rule.Protos) > 0 && !containsFold(rule.Protos, strings.Join(m.MediaName.Protos, "/")) {
		return false
	}
	if len(rule.Formats) > 0 && !anyFold(rule.Formats, m.MediaName.Formats) {
		return false
	}
	if len(rule.AcceptTypes) > 0 {
		v, _ := m.Attribute("accept-types")
		if !anyFold(rule.AcceptTypes, strings.Fields(v)) {
			return false
		}
	}
	if len(rule.RTPMapNames) > 0 {
		var names []string
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			_, enc, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(enc, "/")
			names = append(names, name)
		}
		// Static payload types need no rtpmap (RFC 3551).
		for _, f := range m.MediaName.Formats {
			if pt, err := strconv.Atoi(f); err == nil {
				if n := staticPayloadName(pt); n != "" {
					names = append(names, n)
				}
			}
		}
		if !anyFold(rule.RTPMapNames, names) {
			return false
		}
	}
	return true
}

// staticPayloadName returns the encoding of a static RTP payload type.
func staticPayloadName(pt int) string {
	switch pt {
	case 0:
		return "PCMU"
	case 3:
		return "GSM"
	case 4:
		return "G723"
	case 8:
		return "PCMA"
	case 9:
		return "G722"
	case 18:
		return "G729"
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) || x == "*" {
			return true
		}
	}
	return false
}

func anyFold(want, have []string) bool {
	for _, h := range have {
		if containsFold(want, h) {
			return true
		}
	}
	return false
}
