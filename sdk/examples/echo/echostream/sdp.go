package echostream

import (
	"net/netip"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// errRemoved is parseRemote's error for a refused or removed m-line (port 0).
var errRemoved = sdk.Errorf(sdk.ErrInvalidStream, "the remote m-line is refused or removed (port 0)")

// matchRule is the m-line the echo type claims: "m=application <port> UDP
// x-sipstreams-echo".
func matchRule() sdk.MatchRule {
	return sdk.MatchRule{Media: []string{"application"}, Protos: []string{"UDP"}, Formats: []string{Format}}
}

// parseRemote reads where the remote's m-line index of text sends from and
// its direction. The error wraps sdk.ErrUnknownStream when the m-line is
// not an echo m-line, and sdk.ErrInvalidStream when it cannot be used; it
// is errRemoved when its port is 0.
func parseRemote(text string, index int) (sdk.Endpoint, error) {
	sess, m, err := sdk.MediaAt(text, index)
	if err != nil {
		return sdk.Endpoint{}, err
	}
	if rule := matchRule(); !rule.Matches(m) {
		return sdk.Endpoint{}, sdk.Errorf(sdk.ErrUnknownStream, "m-line %d is not an echo stream", index)
	}
	remote, err := sdk.ParseEndpoint(sess, m)
	if err == nil && remote.Removed() {
		err = errRemoved
	}
	return remote, err
}

// negotiate reads m-line index of both session descriptions after an
// exchange and returns the remote's end and our negotiated direction: the
// one our SDP says, narrowed by what the remote's allows (which keeps us
// from sending to an old-style hold).
func negotiate(localSDP, remoteSDP string, index int) (sdk.Endpoint, sdk.MediaDirection, error) {
	remote, err := parseRemote(remoteSDP, index)
	if err != nil {
		return remote, "", err
	}
	ls, lm, err := sdk.MediaAt(localSDP, index)
	if err != nil {
		return remote, "", err
	}
	return remote, sdk.NegotiatedDirection(sdk.Direction(ls, lm), remote.Direction), nil
}

// localMedia is our m-line at local with direction dir.
func localMedia(local netip.AddrPort, dir sdk.MediaDirection) *sdp.MediaDescription {
	return &sdp.MediaDescription{
		MediaName:             sdp.MediaName{Media: "application", Port: sdp.RangedPort{Value: int(local.Port())}, Protos: []string{"UDP"}, Formats: []string{Format}},
		ConnectionInformation: sdk.Connection(local.Addr().String()),
		Attributes:            []sdp.Attribute{dir.Attribute()},
	}
}
