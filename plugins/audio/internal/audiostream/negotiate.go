package audiostream

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v2"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/dtmf"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdes"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdpaudio"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
)

// Offer details the reference uses.
const (
	ptimeMillis  = 20
	eventsFMTP   = "0-15"
	eventsRate   = 8000
	firstDynamic = 96
)

// offeredSuites are the SRTP suites offered: only the 80-bit tag, as the
// reference since 5.4; both are accepted in an offer.
var offeredSuites = []sdes.Suite{sdes.AESCM128HMACSHA180}

func acceptedSuites() []sdes.Suite {
	return []sdes.Suite{sdes.AESCM128HMACSHA180, sdes.AESCM128HMACSHA132}
}

// invalidStream wraps a refusal reason in sdk.ErrInvalidStream.
func invalidStream(format string, args ...any) error {
	return sdk.Errorf(sdk.ErrInvalidStream, format, args...)
}

// parseRemote parses m-line index of text as an audio m-line. Not audio
// gives sdk.ErrUnknownStream, unusable audio sdk.ErrInvalidStream.
func parseRemote(text string, index int) (sdpaudio.Media, error) {
	s, m, err := sdk.MediaAt(text, index)
	if err != nil {
		return sdpaudio.Media{}, err
	}
	return remoteMedia(s, m, index)
}

// remoteMedia is parseRemote of m-line index m of s, parsed.
func remoteMedia(s *sdp.SessionDescription, m *sdp.MediaDescription, index int) (sdpaudio.Media, error) {
	if m.MediaName.Media != sdkaudio.Type {
		return sdpaudio.Media{}, sdk.Errorf(sdk.ErrUnknownStream, "m-line %d is %s, not audio", index, m.MediaName.Media)
	}
	media, err := sdpaudio.Parse(s, m)
	if err != nil {
		return sdpaudio.Media{}, invalidStream("%v", err)
	}
	return media, nil
}

// sdpMemo keeps the last description a stream parsed with parseRemote: the
// host sends the same offer to NewFromSDP, GetLocalMedia and Start, so a
// call parses it once. The zero value is empty.
type sdpMemo struct {
	text  string
	index int
	media sdpaudio.Media
	ok    bool
}

// parse is parseRemote, from the memo when text and index are the last
// ones parsed. The result shares no memory with the memo.
func (m *sdpMemo) parse(text string, index int) (sdpaudio.Media, error) {
	if m.ok && m.index == index && m.text == text {
		return m.media.Clone(), nil
	}
	media, err := parseRemote(text, index)
	if err != nil {
		return media, err
	}
	*m = sdpMemo{text: text, index: index, media: media.Clone(), ok: true}
	return media, nil
}

// parseOffer is parse of a NewFromSDP request's offer, on the parse the
// provider made of it (req.Offer) when it has one.
func (m *sdpMemo) parseOffer(req *sdk.NewFromSDPRequest) (sdpaudio.Media, error) {
	s, md, err := sdk.OfferMediaAt(req)
	if err != nil {
		return sdpaudio.Media{}, err
	}
	media, err := remoteMedia(s, md, req.StreamIndex)
	if err != nil {
		return media, err
	}
	*m = sdpMemo{text: req.RemoteSDP, index: req.StreamIndex, media: media.Clone(), ok: true}
	return media, nil
}

// formatOf is the SDP format of c with payload type pt.
func formatOf(c codec.Codec, pt uint8) sdpaudio.Format {
	info := c.Info()
	return sdpaudio.Format{PT: pt, Name: info.Name, ClockRate: info.ClockRate, Channels: info.Channels, FMTP: info.FMTP}
}

// offerFormats lists the codecs to offer with their payload types: static
// ones keep theirs, dynamic ones are numbered from 96, skipping 101.
func offerFormats(codecs []codec.Codec) []sdpaudio.Format {
	out := make([]sdpaudio.Format, 0, len(codecs))
	next := firstDynamic
	for _, c := range codecs {
		pt := c.Info().PayloadType
		if pt == codec.DynamicPayloadType {
			if next == dtmf.DefaultPayloadType {
				next++
			}
			pt = next
			next++
		}
		out = append(out, formatOf(c, uint8(pt)))
	}
	return out
}

func eventsFormat(pt uint8) *sdpaudio.Format {
	return &sdpaudio.Format{PT: pt, Name: sdpaudio.TelephoneEvent, ClockRate: eventsRate, FMTP: eventsFMTP}
}

// chooseCodec returns the locally most preferred codec the remote offers
// and the remote's format for it (reference §3.3: the answer keeps one).
func chooseCodec(local []codec.Codec, remote sdpaudio.Media) (codec.Codec, sdpaudio.Format, bool) {
	for _, c := range local {
		info := c.Info()
		for _, f := range remote.Formats {
			if strings.EqualFold(f.Name, info.Name) && f.ClockRate == info.ClockRate {
				return c, f, true
			}
		}
	}
	return nil, sdpaudio.Format{}, false
}

// checkOffer applies the reference's acceptance rules (§3.2) to a remote
// offer under policy; the error wraps sdk.ErrInvalidStream.
func checkOffer(st *settings, remote sdpaudio.Media) error {
	if remote.Port == 0 {
		return nil
	}
	if _, _, ok := chooseCodec(st.codecs, remote); !ok {
		return invalidStream("no common codec")
	}
	hasCrypto := len(remote.Crypto) > 0
	switch {
	case st.srtp == sdkaudio.SRTPMandatory && !hasCrypto:
		return invalidStream("SRTP is mandatory (%s) and the offer (%s) has no usable a=crypto", sdkaudio.SRTPMandatory, remote.Proto)
	case remote.Proto == sdpaudio.ProtoSAVP && st.srtp == sdkaudio.SRTPDisabled:
		return invalidStream("%s offered but SRTP is disabled", sdpaudio.ProtoSAVP)
	case remote.Proto == sdpaudio.ProtoSAVP && !hasCrypto:
		return invalidStream("%s offered without a usable a=crypto", sdpaudio.ProtoSAVP)
	}
	return nil
}

// localEndpoint is where our RTP and RTCP listen.
type localEndpoint struct {
	addr     netip.Addr
	rtpPort  int
	rtcpPort int
	ice      []string
	// ssrc and cname are said in a=ssrc when the port is shared by
	// several streams (0: not said).
	ssrc  uint32
	cname string
}

// buildOffer writes our offer. crypto are the lines to offer (kept by the
// stream across re-offers so that keys do not change).
func buildOffer(st *settings, ep localEndpoint, crypto []sdes.Crypto, dir sdk.MediaDirection) sdpaudio.Media {
	proto := sdpaudio.ProtoAVP
	if st.srtp == sdkaudio.SRTPMandatory {
		proto = sdpaudio.ProtoSAVP
	}
	return sdpaudio.Media{
		Port:      ep.rtpPort,
		Proto:     proto,
		Address:   ep.addr,
		RTCPPort:  ep.rtcpPort,
		Formats:   offerFormats(st.codecs),
		Events:    eventsFormat(dtmf.DefaultPayloadType),
		PTime:     ptimeMillis,
		Crypto:    crypto,
		ICE:       ep.ice,
		SSRC:      ep.ssrc,
		CNAME:     ep.cname,
		Direction: dir,
	}
}

// buildAnswer writes our answer to remote: the one chosen codec, with the
// remote's payload type, telephone-event if offered, and a=crypto when the
// offer has it and the policy allows SRTP. prev is our previous answer's
// crypto line, whose key is kept in a re-answer. It returns the answer and
// its crypto line (zero when plain).
func buildAnswer(st *settings, ep localEndpoint, remote sdpaudio.Media, prev sdes.Crypto, dir sdk.MediaDirection) (sdpaudio.Media, sdes.Crypto, error) {
	if err := checkOffer(st, remote); err != nil {
		return sdpaudio.Media{}, sdes.Crypto{}, err
	}
	c, f, _ := chooseCodec(st.codecs, remote)
	ans := sdpaudio.Media{
		Port:      ep.rtpPort,
		Proto:     sdpaudio.ProtoAVP,
		Address:   ep.addr,
		RTCPPort:  ep.rtcpPort,
		Formats:   []sdpaudio.Format{formatOf(c, f.PT)},
		PTime:     ptimeMillis,
		ICE:       ep.ice,
		SSRC:      ep.ssrc,
		CNAME:     ep.cname,
		Direction: dir,
	}
	if ev := remote.Events; ev != nil && (ev.ClockRate == eventsRate || ev.ClockRate == c.Info().ClockRate) {
		ans.Events = eventsFormat(ev.PT)
		ans.Events.ClockRate = ev.ClockRate
	}
	var line sdes.Crypto
	if len(remote.Crypto) > 0 && st.srtp != sdkaudio.SRTPDisabled {
		_, local, err := sdes.Answer(remote.Crypto, acceptedSuites(), nil)
		switch {
		case err == nil:
			if len(prev.Key) == sdes.KeyLen && prev.Suite == local.Suite {
				local.Key = prev.Key // a re-answer keeps our key
			}
			line = local
			ans.Crypto = []sdes.Crypto{local}
			ans.Proto = remote.Proto
		case remote.Proto == sdpaudio.ProtoSAVP || st.srtp == sdkaudio.SRTPMandatory:
			return sdpaudio.Media{}, sdes.Crypto{}, invalidStream("no acceptable a=crypto: %v", err)
		}
	}
	return ans, line, nil
}

// negotiation is the outcome of an offer/answer exchange for our m-line.
type negotiation struct {
	removed    bool
	codec      codec.Codec
	sendPT     uint8 // the remote's payload type for the codec
	recvPT     uint8 // ours
	events     bool  // both sides negotiated telephone-event
	sendEvPT   uint8
	recvEvPT   uint8
	evRate     int          // telephone-event clock rate
	remoteRTP  *net.UDPAddr // nil while the remote holds old-style
	remoteRTCP *net.UDPAddr
	direction  sdk.MediaDirection
	srtp       *srtpParams
	// notEncrypted is why SRTP was offered but is not used ("" when it
	// was not offered or is used).
	notEncrypted string
	remoteICE    []string
	remoteSSRC   uint32 // the remote's a=ssrc, 0 when absent
}

// srtpParams are the keys in use.
type srtpParams struct {
	suite     sdes.Suite
	profile   srtp.ProtectionProfile
	localKey  []byte
	remoteKey []byte
}

// errNoSRTP means the policy requires SRTP and the exchange has none.
var errNoSRTP = errors.New("SRTP is mandatory but was not negotiated")

// negotiate reads our m-line index in the local and remote descriptions,
// the remote one through memo.
// The error wraps sdk.ErrInvalidStream.
func negotiate(st *settings, memo *sdpMemo, localSDP, remoteSDP string, index int) (negotiation, error) {
	remote, err := memo.parse(remoteSDP, index)
	if err != nil {
		return negotiation{}, err
	}
	if remote.Port == 0 {
		return negotiation{removed: true}, nil
	}
	local, err := parseRemote(localSDP, index)
	if err != nil {
		return negotiation{}, err
	}
	var n negotiation
	// The codec: the first of the remote's formats that we also listed
	// (the answer holds exactly one).
	for _, rf := range remote.Formats {
		for _, lf := range local.Formats {
			if strings.EqualFold(rf.Name, lf.Name) && rf.ClockRate == lf.ClockRate {
				for _, c := range st.codecs {
					info := c.Info()
					if strings.EqualFold(info.Name, lf.Name) && info.ClockRate == lf.ClockRate {
						n.codec, n.sendPT, n.recvPT = c, rf.PT, lf.PT
						break
					}
				}
			}
			if n.codec != nil {
				break
			}
		}
		if n.codec != nil {
			break
		}
	}
	if n.codec == nil {
		return negotiation{}, invalidStream("no common codec")
	}
	if remote.Events != nil && local.Events != nil {
		n.events, n.sendEvPT, n.recvEvPT, n.evRate = true, remote.Events.PT, local.Events.PT, remote.Events.ClockRate
	}
	if !remote.OnHoldOldStyle() {
		n.remoteRTP = &net.UDPAddr{IP: remote.Address.AsSlice(), Port: remote.Port}
		rtcp := remote.RTCPPort
		if rtcp == 0 {
			rtcp = remote.Port + 1
		}
		n.remoteRTCP = &net.UDPAddr{IP: remote.Address.AsSlice(), Port: rtcp}
	}
	n.direction = sdk.NegotiatedDirection(local.Direction, remote.Direction)
	n.remoteICE = remote.ICE
	n.remoteSSRC = remote.SSRC

	// SRTP: a local and a remote line with the same tag and suite.
	for _, r := range remote.Crypto {
		for _, l := range local.Crypto {
			if r.Tag == l.Tag && r.Suite == l.Suite {
				profile, err := r.Suite.Profile()
				if err != nil {
					continue
				}
				n.srtp = &srtpParams{suite: r.Suite, profile: profile, localKey: l.Key, remoteKey: r.Key}
				break
			}
		}
		if n.srtp != nil {
			break
		}
	}
	if n.srtp == nil {
		if st.srtp == sdkaudio.SRTPMandatory || remote.Proto == sdpaudio.ProtoSAVP || local.Proto == sdpaudio.ProtoSAVP {
			return negotiation{}, fmt.Errorf("%w: %w", sdk.ErrInvalidStream, errNoSRTP)
		}
		if len(local.Crypto) > 0 {
			n.notEncrypted = "Not supported by remote"
		}
	}
	return n, nil
}
