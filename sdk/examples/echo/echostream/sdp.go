package echostream

import (
	"net/netip"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// matchRule is the m-line the echo type claims: "m=application <port> udp
// x-sipstreams-echo".
func matchRule() sdk.MatchRule {
	return sdk.MatchRule{
		Media:   []string{"application"},
		Protos:  []string{"UDP"},
		Formats: []string{Format},
	}
}

// isEcho reports whether m is an echo m-line.
func isEcho(m *sdp.MediaDescription) bool {
	rule := matchRule()
	return rule.Matches(m)
}

// endpoint validates the remote echo m-line m of sess and returns where to
// send to and the remote's direction. An old-style hold (c=0.0.0.0, or ::)
// gives no address and a direction without "recv": the remote does not want
// to receive (reference §3.5). The error wraps sdk.ErrInvalidStream.
func endpoint(sess *sdp.SessionDescription, m *sdp.MediaDescription) (netip.AddrPort, string, error) {
	port := m.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return netip.AddrPort{}, "", sdk.Errorf(sdk.ErrInvalidStream, "echo m-line has port %d", port)
	}
	text := sdk.ConnectionAddress(sess, m)
	addr, err := netip.ParseAddr(text)
	if err != nil {
		return netip.AddrPort{}, "", sdk.Errorf(sdk.ErrInvalidStream, "echo m-line connection address %q is not an IP address", text)
	}
	dir := sdk.Direction(sess, m)
	if addr.IsUnspecified() {
		return netip.AddrPort{}, withoutRecv(dir), nil
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), dir, nil
}

// negotiation is the outcome of an offer/answer exchange for one echo
// m-line.
type negotiation struct {
	// peer is where pings go; invalid while the remote holds old-style.
	peer netip.AddrPort
	// direction is our negotiated local direction.
	direction string
	// removed is true when the remote m-line has port 0.
	removed bool
}

// negotiate reads m-line index of the local and remote session
// descriptions. The error wraps sdk.ErrInvalidStream.
func negotiate(localSDP, remoteSDP string, index int) (negotiation, error) {
	rs, rm, err := sdk.MediaAt(remoteSDP, index)
	if err != nil {
		return negotiation{}, err
	}
	if !isEcho(rm) {
		return negotiation{}, sdk.Errorf(sdk.ErrInvalidStream, "remote m-line %d is not an echo stream", index)
	}
	if rm.MediaName.Port.Value == 0 {
		return negotiation{removed: true}, nil
	}
	ls, lm, err := sdk.MediaAt(localSDP, index)
	if err != nil {
		return negotiation{}, err
	}
	if !isEcho(lm) {
		return negotiation{}, sdk.Errorf(sdk.ErrInvalidStream, "local m-line %d is not an echo stream", index)
	}
	peer, remoteDir, err := endpoint(rs, rm)
	if err != nil {
		return negotiation{}, err
	}
	// Our direction as written in our SDP, narrowed by what the remote
	// allows: the same in a well-formed exchange, and what protects us from
	// sending to an old-style hold.
	localDir := sdk.Direction(ls, lm)
	dir := makeDirection(hasSend(localDir) && hasRecv(remoteDir), hasRecv(localDir) && hasSend(remoteDir))
	return negotiation{peer: peer, direction: dir}, nil
}

// localMedia is our m-line at local with direction dir.
func localMedia(local netip.AddrPort, dir string) *sdp.MediaDescription {
	addrType := "IP4"
	if local.Addr().Is6() {
		addrType = "IP6"
	}
	return &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:   "application",
			Port:    sdp.RangedPort{Value: int(local.Port())},
			Protos:  []string{"UDP"},
			Formats: []string{Format},
		},
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &sdp.Address{Address: local.Addr().WithZone("").String()},
		},
		Attributes: []sdp.Attribute{sdp.NewPropertyAttribute(dir)},
	}
}
