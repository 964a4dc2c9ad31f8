package sdpaudio

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdes"
	"github.com/sipstreams/sipstreams/sdk"
)

// RTP profiles an audio m-line may use (reference §3.2).
const (
	ProtoAVP  = "RTP/AVP"
	ProtoSAVP = "RTP/SAVP"
)

// TelephoneEvent is the encoding name of RFC 4733 events.
const TelephoneEvent = "telephone-event"

// Format is one payload format of an m-line: its payload type and what its
// a=rtpmap and a=fmtp say.
type Format struct {
	PT        uint8
	Name      string
	ClockRate int
	Channels  int
	FMTP      string
}

// RTPMap returns the a=rtpmap value after the payload type.
func (f Format) RTPMap() string {
	s := f.Name + "/" + strconv.Itoa(f.ClockRate)
	if f.Channels > 1 {
		s += "/" + strconv.Itoa(f.Channels)
	}
	return s
}

// Media is one RTP audio m-line.
type Media struct {
	// Port is the RTP port; 0 removes the stream.
	Port int
	// Proto is ProtoAVP or ProtoSAVP.
	Proto string
	// Address is the connection address (media-level c=, else
	// session-level); unspecified (0.0.0.0) is an old-style hold.
	Address netip.Addr
	// RTCPPort is the a=rtcp port, 0 when absent (RTP port + 1 then).
	RTCPPort int
	// RTCPMux is set by a=rtcp-mux.
	RTCPMux bool
	// Formats are the audio formats in m-line order, telephone-event
	// excluded.
	Formats []Format
	// Events is the telephone-event format, nil when none.
	Events *Format
	// PTime is the a=ptime value in milliseconds, 0 when absent.
	PTime int
	// Crypto are the a=crypto lines, in order; lines this plugin cannot
	// use (unknown suites) are left out.
	Crypto []sdes.Crypto
	// ICE holds the ICE attribute lines ("ice-ufrag:…", "candidate:…",
	// "ice-lite"), without "a=".
	ICE []string
	// SSRC and CNAME are the first a=ssrc line's source and its cname
	// attribute (RFC 5576), 0 and "" when absent. Build writes the line
	// when SSRC is not 0.
	SSRC  uint32
	CNAME string
	// Direction is the media direction (media level, else session level,
	// else sendrecv); an old-style hold loses "recv" (sdk.RemoteDirection).
	// Build writes sendrecv for the zero value.
	Direction sdk.MediaDirection
}

// Clone returns a copy of m that shares no memory with it.
func (m Media) Clone() Media {
	m.Formats = slices.Clone(m.Formats)
	if m.Events != nil {
		e := *m.Events
		m.Events = &e
	}
	m.Crypto = slices.Clone(m.Crypto)
	for i := range m.Crypto {
		m.Crypto[i].Key = slices.Clone(m.Crypto[i].Key)
	}
	m.ICE = slices.Clone(m.ICE)
	return m
}

// OnHoldOldStyle reports whether the remote asked for an old-style hold
// (c=0.0.0.0).
func (m Media) OnHoldOldStyle() bool { return m.Address.IsValid() && m.Address.IsUnspecified() }

// Format returns the audio format with payload type pt.
func (m Media) Format(pt uint8) (Format, bool) {
	for _, f := range m.Formats {
		if f.PT == pt {
			return f, true
		}
	}
	return Format{}, false
}

// staticFormats are the RFC 3551 static audio payload types a remote may
// use without a=rtpmap.
var staticFormats = map[uint8]Format{
	0:  {PT: 0, Name: "PCMU", ClockRate: 8000},
	3:  {PT: 3, Name: "GSM", ClockRate: 8000},
	4:  {PT: 4, Name: "G723", ClockRate: 8000},
	8:  {PT: 8, Name: "PCMA", ClockRate: 8000},
	9:  {PT: 9, Name: "G722", ClockRate: 8000},
	18: {PT: 18, Name: "G729", ClockRate: 8000},
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMedia, fmt.Sprintf(format, args...))
}

// Parse reads the audio m-line m of session s (s may be nil). The error
// wraps ErrInvalidMedia. A removed m-line (port 0) parses with Port 0 and
// is not checked further.
func Parse(s *sdp.SessionDescription, m *sdp.MediaDescription) (Media, error) {
	var out Media
	if m == nil {
		return out, invalid("no m-line")
	}
	if m.MediaName.Media != "audio" {
		return out, invalid("media %q is not audio", m.MediaName.Media)
	}
	out.Proto = strings.Join(m.MediaName.Protos, "/")
	if out.Proto != ProtoAVP && out.Proto != ProtoSAVP {
		return out, invalid("transport %q is neither %s nor %s", out.Proto, ProtoAVP, ProtoSAVP)
	}
	ep, err := sdk.ParseEndpoint(s, m)
	if err != nil {
		return out, invalid("%s", sdk.ReasonOf(err))
	}
	out.Port = ep.Port
	if ep.Removed() {
		return out, nil
	}
	out.Address, out.Direction = ep.Address, ep.Direction

	// Formats in m-line order; rtpmap and fmtp fill them in.
	byPT := map[uint8]*Format{}
	var order []uint8
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return out, invalid("format %q is not an RTP payload type", f)
		}
		if _, dup := byPT[uint8(pt)]; dup {
			continue
		}
		format := staticFormats[uint8(pt)]
		format.PT = uint8(pt)
		byPT[uint8(pt)] = &format
		order = append(order, uint8(pt))
	}
	for _, a := range m.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, f, ok := parseRTPMap(a.Value)
			if !ok {
				return out, invalid("malformed a=rtpmap:%s", a.Value)
			}
			if p, listed := byPT[pt]; listed {
				p.Name, p.ClockRate, p.Channels = f.Name, f.ClockRate, f.Channels
			}
		case "fmtp":
			ptText, params, _ := strings.Cut(a.Value, " ")
			pt, err := strconv.ParseUint(ptText, 10, 7)
			if err != nil {
				continue // an fmtp for a format we do not know: harmless
			}
			if p, listed := byPT[uint8(pt)]; listed {
				p.FMTP = strings.TrimSpace(params)
			}
		case "rtcp":
			portText, _, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			port, err := strconv.Atoi(portText)
			if err != nil || port <= 0 || port > 65535 {
				return out, invalid("malformed a=rtcp:%s", a.Value)
			}
			out.RTCPPort = port
		case "rtcp-mux":
			out.RTCPMux = true
		case "ptime":
			if v, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && v > 0 && v <= 1000 {
				out.PTime = v
			}
		case "crypto":
			c, err := sdes.Parse(a.Value)
			if err != nil {
				continue // an unsupported suite or key: RFC 4568 §7.1.2 skips it
			}
			out.Crypto = append(out.Crypto, c)
		case "ssrc":
			if out.SSRC != 0 {
				continue // the first source is the stream's
			}
			idText, attr, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			id, err := strconv.ParseUint(idText, 10, 32)
			if err != nil || id == 0 {
				continue // malformed: a=ssrc is informative only
			}
			out.SSRC = uint32(id)
			if v, ok := strings.CutPrefix(strings.TrimSpace(attr), "cname:"); ok {
				out.CNAME = v
			}
		case "ice-ufrag", "ice-pwd", "candidate", "ice-lite", "ice-options", "remote-candidates":
			if a.Value == "" {
				out.ICE = append(out.ICE, a.Key)
			} else {
				out.ICE = append(out.ICE, a.Key+":"+a.Value)
			}
		}
	}
	if s != nil {
		for _, a := range s.Attributes {
			switch a.Key {
			case "ice-ufrag", "ice-pwd", "ice-lite":
				out.ICE = append(out.ICE, strings.TrimSuffix(a.Key+":"+a.Value, ":"))
			}
		}
	}
	for _, pt := range order {
		f := *byPT[pt]
		if f.Name == "" {
			continue // a dynamic payload type without a=rtpmap: unusable
		}
		if strings.EqualFold(f.Name, TelephoneEvent) {
			if out.Events == nil || f.ClockRate == 8000 {
				ev := f
				out.Events = &ev
			}
			continue
		}
		out.Formats = append(out.Formats, f)
	}
	return out, nil
}

// parseRTPMap reads "PT NAME/RATE[/CHANNELS]".
func parseRTPMap(v string) (uint8, Format, bool) {
	ptText, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return 0, Format{}, false
	}
	pt, err := strconv.ParseUint(ptText, 10, 7)
	if err != nil {
		return 0, Format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return 0, Format{}, false
	}
	rate, err := strconv.Atoi(parts[1])
	if err != nil || rate <= 0 || rate > 1_000_000 {
		return 0, Format{}, false
	}
	f := Format{PT: uint8(pt), Name: parts[0], ClockRate: rate}
	if len(parts) == 3 {
		ch, err := strconv.Atoi(parts[2])
		if err != nil || ch <= 0 || ch > 255 {
			return 0, Format{}, false
		}
		if ch > 1 {
			f.Channels = ch // one channel is what no channel count means
		}
	}
	return uint8(pt), f, true
}

// Build returns the m-line for m. Formats are written in order, then
// Events; Crypto, ICE and a=ssrc lines follow, and the direction comes
// last.
func (m Media) Build() *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:  "audio",
			Port:   sdp.RangedPort{Value: m.Port},
			Protos: strings.Split(m.Proto, "/"),
		},
		ConnectionInformation: sdk.Connection(m.Address.String()),
	}
	formats := m.Formats
	if m.Events != nil {
		formats = append(append([]Format(nil), formats...), *m.Events)
	}
	if m.RTCPPort != 0 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(m.RTCPPort)))
	}
	if m.RTCPMux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	}
	for _, f := range formats {
		pt := strconv.Itoa(int(f.PT))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+f.RTPMap()))
		if f.FMTP != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" "+f.FMTP))
		}
	}
	if m.PTime > 0 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", strconv.Itoa(m.PTime)))
	}
	for _, c := range m.Crypto {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", c.String()))
	}
	for _, line := range m.ICE {
		k, v, _ := strings.Cut(line, ":")
		if v == "" {
			md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(k))
		} else {
			md.Attributes = append(md.Attributes, sdp.NewAttribute(k, v))
		}
	}
	if m.SSRC != 0 {
		v := strconv.FormatUint(uint64(m.SSRC), 10)
		if m.CNAME != "" {
			v += " cname:" + m.CNAME
		}
		md.Attributes = append(md.Attributes, sdp.NewAttribute("ssrc", v))
	}
	md.Attributes = append(md.Attributes, m.Direction.Attribute())
	return md
}
