package streamtest

import (
	"embed"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/sipstreams/sipstreams/sdk"
)

// fixtures are the recorded SDP the suite sends. They are embedded, so the
// suite finds them whatever package a vendor runs it from.
//
//go:embed testdata/*.sdp
var fixtures embed.FS

// fixture returns testdata/name.
func fixture(t tb, name string) string {
	t.Helper()
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return string(b)
}

// unclaimedFixtures are m-lines that no real stream type should claim, in
// order of preference; the suite sends the first one that no match rule of
// the plugin admits, so the refusal is the SDK's (or, failing that, the
// plugin's own) ErrUnknownStream.
var unclaimedFixtures = []string{
	"unclaimed-video.sdp",
	"unclaimed-text.sdp",
	"unclaimed-message.sdp",
	"unclaimed-audio.sdp",
	"unclaimed-application.sdp",
}

// side builds the session descriptions of one end of the suite's calls:
// v=, o= (its version grows with each description), s=, c= and t= around
// the media sections that the streams return.
type side struct {
	ip      string
	id      uint64
	version uint64
}

func newSide(ip string, id uint64) *side { return &side{ip: ip, id: id} }

// session returns a full session description holding media, in order.
func (s *side) session(media ...string) string {
	s.version++
	at := addrType(s.ip)
	var b strings.Builder
	b.WriteString("v=0\r\n")
	fmt.Fprintf(&b, "o=- %d %d IN %s %s\r\n", s.id, s.version, at, s.ip)
	b.WriteString("s=streamtest\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", at, s.ip)
	b.WriteString("t=0 0\r\n")
	for _, m := range media {
		b.WriteString(crlf(m))
	}
	return b.String()
}

// crlf normalises line ends to CRLF and makes sure text ends with one.
func crlf(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRight(text, "\n")
	return strings.ReplaceAll(text, "\n", "\r\n") + "\r\n"
}

// removed returns the m-line that takes the place of media when its stream
// is removed (RFC 3264 §8.2): the same media, protocol and formats with port
// 0, and no attributes, bandwidth or connection lines.
func removed(t tb, media string) string {
	t.Helper()
	m, err := sdk.ParseMedia(crlf(media))
	if err != nil {
		t.Fatalf("parsing media to remove: %v\n%s", err, media)
	}
	out := &sdp.MediaDescription{MediaName: m.MediaName}
	out.MediaName.Port = sdp.RangedPort{Value: 0}
	text, err := sdk.MarshalMedia(out)
	if err != nil {
		t.Fatalf("marshal removed media: %v", err)
	}
	return text
}

// direction returns the media direction of m-line index of session text.
func direction(t tb, text string, index int) string {
	t.Helper()
	s, m, err := sdk.MediaAt(text, index)
	if err != nil {
		t.Fatalf("parsing SDP the suite built: %v\n%s", err, text)
	}
	return string(sdk.Direction(s, m))
}
