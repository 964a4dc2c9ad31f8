package session

import (
	"fmt"
	"net"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// origin keeps one session's o= line: the id is fixed and the version grows
// with every description we send (RFC 3264 §8).
type origin struct {
	id      uint64
	version uint64
	ip      string
	name    string // s= line: the user agent, as the reference does
}

func addrType(ip string) string {
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		return "IP6"
	}
	return "IP4"
}

func connection(ip string) *sdp.ConnectionInformation {
	return &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType(ip), Address: &sdp.Address{Address: ip}}
}

// hasICE reports whether m carries ICE attributes; the session then leaves
// its c= line alone (reference §2.3 step 3).
func hasICE(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		if a.Key == "ice-ufrag" || a.Key == "candidate" {
			return true
		}
	}
	return false
}

// build returns the next version of our session description holding media,
// in order. Each media's c= becomes the local address unless it uses ICE.
func (o *origin) build(media []*sdp.MediaDescription) (string, error) {
	o.version++
	name := o.name
	if name == "" {
		name = "-"
	}
	s := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "-", SessionID: o.id, SessionVersion: o.version,
			NetworkType: "IN", AddressType: addrType(o.ip), UnicastAddress: o.ip,
		},
		SessionName:           sdp.SessionName(name),
		ConnectionInformation: connection(o.ip),
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	for _, m := range media {
		if !hasICE(m) {
			m.ConnectionInformation = connection(o.ip)
		}
		s.MediaDescriptions = append(s.MediaDescriptions, m)
	}
	b, err := s.Marshal()
	if err != nil {
		return "", fmt.Errorf("session: marshal SDP: %w", err)
	}
	return string(b), nil
}

// parseMediaSections parses the sections GetLocalMedia returned.
func parseMediaSections(texts []string) ([]*sdp.MediaDescription, error) {
	out := make([]*sdp.MediaDescription, 0, len(texts))
	for i, t := range texts {
		m, err := sdk.ParseMedia(t)
		if err != nil {
			return nil, fmt.Errorf("stream %d returned bad media: %w", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// rejected is the answer to an offered m-line nobody accepts: a copy with
// port 0, the local c=, and every attribute and b= line removed (reference
// §1.3, RFC 3264 §6).
func rejected(offered *sdp.MediaDescription) *sdp.MediaDescription {
	return &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:   offered.MediaName.Media,
			Port:    sdp.RangedPort{Value: 0},
			Protos:  append([]string(nil), offered.MediaName.Protos...),
			Formats: append([]string(nil), offered.MediaName.Formats...),
		},
	}
}

// answer builds our answer to offer: accepted[i] is the media section a
// stream gave for m-line i; every other line is rejected.
func (o *origin) answer(offer *sdp.SessionDescription, accepted map[int]string) (string, error) {
	media := make([]*sdp.MediaDescription, len(offer.MediaDescriptions))
	for i, m := range offer.MediaDescriptions {
		text, ok := accepted[i]
		if !ok {
			media[i] = rejected(m)
			continue
		}
		am, err := sdk.ParseMedia(text)
		if err != nil {
			return "", fmt.Errorf("stream for m-line %d returned bad media: %w", i, err)
		}
		media[i] = am
	}
	return o.build(media)
}

// checkAnswer verifies that answer fits offer (RFC 3264 §6: as many m-lines,
// in the same order, of the same media types).
func checkAnswer(offer, answer *sdp.SessionDescription) error {
	if len(answer.MediaDescriptions) != len(offer.MediaDescriptions) {
		return fmt.Errorf("%w: answer has %d m-lines, offer %d", ErrSDPNegotiation,
			len(answer.MediaDescriptions), len(offer.MediaDescriptions))
	}
	for i, m := range answer.MediaDescriptions {
		if !strings.EqualFold(m.MediaName.Media, offer.MediaDescriptions[i].MediaName.Media) {
			return fmt.Errorf("%w: m-line %d is %s in the answer, %s in the offer", ErrSDPNegotiation,
				i, m.MediaName.Media, offer.MediaDescriptions[i].MediaName.Media)
		}
	}
	return nil
}

// mediaPort returns m-line i's port, 0 when it is refused or missing.
func mediaPort(s *sdp.SessionDescription, i int) int {
	if i < 0 || i >= len(s.MediaDescriptions) {
		return 0
	}
	return s.MediaDescriptions[i].MediaName.Port.Value
}
