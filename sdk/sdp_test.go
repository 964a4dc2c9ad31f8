package sdk

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture reads testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no SDP fixtures: %v", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestFixturesKeepCRLF(t *testing.T) {
	for _, name := range fixtureNames(t) {
		text := fixture(t, name)
		if strings.Count(text, "\n") != strings.Count(text, "\r\n") {
			t.Errorf("%s has bare LF line ends; check testdata/.gitattributes", name)
		}
	}
}

// TestMarshalMediaGolden marshals each m-line of each fixture with
// MarshalMedia and compares the sections with testdata/NAME.media.golden
// (go test -run TestMarshalMediaGolden -update rewrites them).
func TestMarshalMediaGolden(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			s, err := ParseSDP(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, m := range s.MediaDescriptions {
				text, err := MarshalMedia(m)
				if err != nil {
					t.Fatal(err)
				}
				got.WriteString(text)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(name, ".sdp")+".media.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("media sections differ from %s:\ngot  %q\nwant %q", golden, got.String(), want)
			}
		})
	}
}

func TestParseMediaRoundTrip(t *testing.T) {
	for _, name := range fixtureNames(t) {
		s, err := ParseSDP(fixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, m := range s.MediaDescriptions {
			text, err := MarshalMedia(m)
			if err != nil {
				t.Fatalf("%s m-line %d: %v", name, i, err)
			}
			if !strings.HasPrefix(text, "m=") || !strings.HasSuffix(text, "\r\n") {
				t.Errorf("%s m-line %d: section %q", name, i, text)
			}
			back, err := ParseMedia(text)
			if err != nil {
				t.Fatalf("%s m-line %d: ParseMedia(%q): %v", name, i, text, err)
			}
			if !reflect.DeepEqual(back, m) {
				t.Errorf("%s m-line %d: round trip\ngot  %+v\nwant %+v", name, i, back, m)
			}
			again, err := MarshalMedia(back)
			if err != nil || again != text {
				t.Errorf("%s m-line %d: marshal again %q, %v; want %q", name, i, again, err, text)
			}
		}
	}
}

func TestParseMediaErrors(t *testing.T) {
	for _, text := range []string{
		"",
		"a=sendrecv\r\n",
		fixture(t, "audio_offer.sdp"), // a session, not a section
		"m=audio 5000 RTP/AVP 0\r\nm=audio 5002 RTP/AVP 0\r\n",
		"m=bogus 5000 RTP/AVP 0\r\n",
		"m=audio port RTP/AVP 0\r\n",
	} {
		if m, err := ParseMedia(text); !errors.Is(err, ErrInvalidStream) {
			t.Errorf("ParseMedia(%q) = %v, %v; want ErrInvalidStream", text, m, err)
		}
	}
}

func TestMediaAt(t *testing.T) {
	multi := fixture(t, "multi_ipv6.sdp")
	for i, want := range []string{"audio", "message", "application"} {
		s, m, err := MediaAt(multi, i)
		if err != nil || s == nil || m.MediaName.Media != want {
			t.Errorf("MediaAt(multi, %d) = %v, %v; want %s", i, m, err, want)
		}
	}
	tests := []struct {
		name  string
		text  string
		index int
	}{
		{"malformed", "this is not SDP", 0},
		{"empty", "", 0},
		{"truncated", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n", 0},
		{"negative index", multi, -1},
		{"index past the end", multi, 3},
		{"no m-line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := MediaAt(tt.text, tt.index)
			if !errors.Is(err, ErrInvalidStream) {
				t.Fatalf("MediaAt = %v; want ErrInvalidStream", err)
			}
		})
	}
}

func TestDirection(t *testing.T) {
	const session = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
	tests := []struct {
		name  string
		text  string
		index int
		want  MediaDirection
	}{
		{"media level", fixture(t, "audio_offer.sdp"), 0, "sendrecv"},
		{"session level", fixture(t, "audio_hold_session.sdp"), 0, "sendonly"},
		{"media recvonly", fixture(t, "chat_offer.sdp"), 0, "recvonly"},
		{"media inactive", fixture(t, "multi_ipv6.sdp"), 0, "inactive"},
		{"default", fixture(t, "multi_ipv6.sdp"), 1, "sendrecv"},
		{"media sendonly", fixture(t, "multi_ipv6.sdp"), 2, "sendonly"},
		{"media overrides session", session + "a=inactive\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n", 0, "recvonly"},
		{"session applies to every m-line", session + "a=inactive\r\nm=audio 5000 RTP/AVP 0\r\nm=audio 5002 RTP/AVP 0\r\n", 1, "inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, err := MediaAt(tt.text, tt.index)
			if err != nil {
				t.Fatal(err)
			}
			if got := Direction(s, m); got != tt.want {
				t.Fatalf("Direction = %s, want %s", got, tt.want)
			}
		})
	}
	// Without a session, only the m-line counts.
	m, err := ParseMedia("m=audio 5000 RTP/AVP 0\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := Direction(nil, m); got != "sendrecv" {
		t.Errorf("Direction(nil, m) = %s", got)
	}
}

func TestConnectionAddress(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		index int
		want  string
	}{
		{"session level", fixture(t, "audio_offer.sdp"), 0, "192.0.2.10"},
		{"media level", fixture(t, "chat_offer.sdp"), 0, "198.51.100.7"},
		{"media overrides session", fixture(t, "multi_ipv6.sdp"), 2, "2001:db8::2"},
		{"session ipv6", fixture(t, "multi_ipv6.sdp"), 0, "2001:db8::1"},
		{"none", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, err := MediaAt(tt.text, tt.index)
			if err != nil {
				t.Fatal(err)
			}
			if got := ConnectionAddress(s, m); got != tt.want {
				t.Fatalf("ConnectionAddress = %q, want %q", got, tt.want)
			}
		})
	}
	m, _ := ParseMedia("m=audio 5000 RTP/AVP 0\r\n")
	if got := ConnectionAddress(nil, m); got != "" {
		t.Errorf("ConnectionAddress(nil, m) = %q", got)
	}
}

func TestMatchRule(t *testing.T) {
	media := func(t *testing.T, text string) *sdp.MediaDescription {
		t.Helper()
		m, err := ParseMedia(text)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const (
		pcmu     = "m=audio 5000 RTP/AVP 0\r\n"
		pcma     = "m=audio 5000 RTP/AVP 8\r\n"
		g722     = "m=audio 5000 RTP/AVP 9\r\n"
		opus     = "m=audio 5000 RTP/SAVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
		dynamic  = "m=audio 5000 RTP/AVP 96\r\n"
		chat     = "m=message 2855 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\n"
		file     = "m=message 2855 TCP/TLS/MSRP *\r\na=accept-types:message/cpim\r\na=file-selector:name:\"a.txt\" size:3\r\n"
		echo     = "m=application 4000 UDP x-sipstreams-echo\r\n"
		badRTP   = "m=audio 5000 RTP/AVP 97\r\na=rtpmap:97\r\n"
		video    = "m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
		multiFmt = "m=audio 5000 RTP/AVP 96 0\r\na=rtpmap:96 speex/16000\r\n"
	)
	tests := []struct {
		name string
		rule MatchRule
		m    string
		want bool
	}{
		{"media", MatchRule{Media: []string{"audio"}}, pcmu, true},
		{"media mismatch", MatchRule{Media: []string{"audio"}}, video, false},
		{"media case", MatchRule{Media: []string{"AUDIO"}}, pcmu, true},
		{"media wildcard", MatchRule{Media: []string{"*"}}, video, true},
		{"empty rule", MatchRule{}, video, true},
		{"proto", MatchRule{Media: []string{"audio"}, Protos: []string{"RTP/AVP", "RTP/SAVP"}}, opus, true},
		{"proto mismatch", MatchRule{Media: []string{"message"}, Protos: []string{"TCP/MSRP"}}, file, false},
		{"proto case", MatchRule{Media: []string{"application"}, Protos: []string{"udp"}}, echo, true},
		{"format", MatchRule{Media: []string{"application"}, Formats: []string{"x-sipstreams-echo"}}, echo, true},
		{"format mismatch", MatchRule{Media: []string{"application"}, Formats: []string{"other"}}, echo, false},
		{"accept-types", MatchRule{Media: []string{"message"}, AcceptTypes: []string{"text/plain"}}, chat, true},
		{"accept-types mismatch", MatchRule{Media: []string{"message"}, AcceptTypes: []string{"text/plain"}}, file, false},
		{"accept-types absent", MatchRule{Media: []string{"application"}, AcceptTypes: []string{"text/plain"}}, echo, false},
		{"static PCMU", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"PCMU"}}, pcmu, true},
		{"static PCMA", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"pcma"}}, pcma, true},
		{"static G722", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"G722"}}, g722, true},
		{"static mismatch", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"PCMA"}}, pcmu, false},
		{"rtpmap", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"opus"}}, opus, true},
		{"rtpmap among several", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"G729", "speex"}}, multiFmt, true},
		{"static among several", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"PCMU"}}, multiFmt, true},
		{"dynamic without rtpmap", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"PCMU", "opus"}}, dynamic, false},
		{"malformed rtpmap", MatchRule{Media: []string{"audio"}, RTPMapNames: []string{"opus"}}, badRTP, false},
		{"everything", MatchRule{Media: []string{"message"}, Protos: []string{"TCP/MSRP"}, Formats: []string{"*"}, AcceptTypes: []string{"message/CPIM"}}, chat, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Matches(media(t, tt.m)); got != tt.want {
				t.Fatalf("%+v.Matches(%q) = %t, want %t", tt.rule, tt.m, got, tt.want)
			}
		})
	}
}

func TestStaticPayloadNames(t *testing.T) {
	for pt, want := range map[int]string{0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729", 96: "", 1: ""} {
		if got := staticPayloadName(pt); got != want {
			t.Errorf("staticPayloadName(%d) = %q, want %q", pt, got, want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	tests := []struct {
		name    string
		sdp     string
		want    Endpoint
		peer    string // "" for an invalid AddrPort
		removed bool
		oldHold bool
		err     error
	}{
		{"media-level c=", head + "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.5\r\n",
			Endpoint{netip.MustParseAddr("192.0.2.5"), 5000, SendRecv}, "192.0.2.5:5000", false, false, nil},
		{"session-level c=, IPv6", head + "c=IN IP6 2001:db8::5\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n",
			Endpoint{netip.MustParseAddr("2001:db8::5"), 5000, RecvOnly}, "[2001:db8::5]:5000", false, false, nil},
		{"mapped IPv4", head + "c=IN IP6 ::ffff:192.0.2.5\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
			Endpoint{netip.MustParseAddr("192.0.2.5"), 5000, SendRecv}, "192.0.2.5:5000", false, false, nil},
		{"old-style hold", head + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
			Endpoint{netip.MustParseAddr("0.0.0.0"), 5000, SendOnly}, "", false, true, nil},
		{"removed", head + "t=0 0\r\nm=audio 0 RTP/AVP 0\r\n", Endpoint{}, "", true, false, nil},
		{"host name", head + "c=IN IP4 host.example.com\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", Endpoint{}, "", false, false, ErrInvalidStream},
		{"zoned", head + "c=IN IP6 fe80::1%eth0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", Endpoint{}, "", false, false, ErrInvalidStream},
		{"no c=", head + "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", Endpoint{}, "", false, false, ErrInvalidStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, err := MediaAt(tt.sdp, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseEndpoint(s, m)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			peer := ""
			if p := got.Peer(); p.IsValid() {
				peer = p.String()
			}
			if got != tt.want || peer != tt.peer || got.Removed() != tt.removed || got.OnHoldOldStyle() != tt.oldHold {
				t.Fatalf("ParseEndpoint = %+v (peer %q, removed %t, old-style hold %t), want %+v (peer %q)",
					got, peer, got.Removed(), got.OnHoldOldStyle(), tt.want, tt.peer)
			}
		})
	}
}

// TestParseEndpointPortRange: pion/sdp refuses such ports when parsing,
// but a media description may be built by hand.
func TestParseEndpointPortRange(t *testing.T) {
	for _, port := range []int{-1, 65536} {
		m := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}}, ConnectionInformation: Connection("192.0.2.1")}
		if _, err := ParseEndpoint(nil, m); !errors.Is(err, ErrInvalidStream) {
			t.Errorf("port %d: %v", port, err)
		}
	}
}

func TestConnectionAndLocalMediaResponse(t *testing.T) {
	tests := []struct{ host, line string }{
		{"192.0.2.1", "c=IN IP4 192.0.2.1"},
		{"2001:db8::1", "c=IN IP6 2001:db8::1"},
		{"::ffff:192.0.2.1", "c=IN IP4 192.0.2.1"},
		{"fe80::1%eth0", "c=IN IP6 fe80::1"},
		{"relay.example.com", "c=IN IP4 relay.example.com"},
	}
	for _, tt := range tests {
		m := &sdp.MediaDescription{
			MediaName:             sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: 5000}, Protos: []string{"RTP", "AVP"}, Formats: []string{"0"}},
			ConnectionInformation: Connection(tt.host),
			Attributes:            []sdp.Attribute{SendOnly.Attribute()},
		}
		res, err := LocalMediaResponse(m)
		if err != nil {
			t.Fatal(err)
		}
		want := "m=audio 5000 RTP/AVP 0\r\n" + tt.line + "\r\na=sendonly\r\n"
		if res.Media != want {
			t.Errorf("Connection(%q): media %q, want %q", tt.host, res.Media, want)
		}
	}
}
