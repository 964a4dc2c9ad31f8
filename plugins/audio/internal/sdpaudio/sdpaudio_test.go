package sdpaudio

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdes"
	"github.com/sipstreams/sipstreams/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func parseFile(t *testing.T, name string) Media {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var s sdp.SessionDescription
	if err := s.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	m, err := Parse(&s, s.MediaDescriptions[0])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseFiles(t *testing.T) {
	blink := parseFile(t, "blink-offer.sdp")
	if blink.Port != 55328 || blink.RTCPPort != 55329 || blink.Proto != ProtoAVP || blink.Address != netip.MustParseAddr("80.101.96.20") {
		t.Errorf("blink endpoint %+v", blink)
	}
	var names []string
	for _, f := range blink.Formats {
		names = append(names, f.RTPMap())
	}
	want := []string{"speex/32000", "speex/16000", "speex/8000", "GSM/8000", "G722/8000", "PCMU/8000", "PCMA/8000"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("blink formats %v, want %v", names, want)
	}
	if blink.Events == nil || blink.Events.PT != 101 || blink.Events.FMTP != "0-15" {
		t.Errorf("blink events %+v", blink.Events)
	}
	if len(blink.Crypto) != 2 || blink.Crypto[0].Suite != sdes.AESCM128HMACSHA180 || blink.Crypto[1].Tag != 2 {
		t.Errorf("blink crypto %+v", blink.Crypto)
	}
	if len(blink.ICE) != 6 || blink.ICE[0] != "ice-ufrag:2701ed80" {
		t.Errorf("blink ICE %q", blink.ICE)
	}
	if blink.Direction != sdk.SendRecv || blink.OnHoldOldStyle() {
		t.Errorf("blink direction %s", blink.Direction)
	}

	baresip := parseFile(t, "baresip-offer.sdp")
	if baresip.PTime != 20 || len(baresip.Formats) != 2 || baresip.Formats[0].Name != "PCMU" || baresip.Events.PT != 101 {
		t.Errorf("baresip %+v", baresip)
	}

	hold := parseFile(t, "oldstyle-hold.sdp")
	if !hold.OnHoldOldStyle() || hold.Direction != sdk.SendOnly || !hold.RTCPMux || hold.Proto != ProtoSAVP {
		t.Errorf("old-style hold %+v", hold)
	}
	// Static payload types without a=rtpmap get their RFC 3551 names.
	if len(hold.Formats) != 2 || hold.Formats[0].Name != "G722" || hold.Formats[1].Name != "PCMU" || hold.Events != nil {
		t.Errorf("old-style hold formats %+v", hold.Formats)
	}
}

func TestParseInvalid(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	tests := []struct{ name, media string }{
		{"not audio", "m=video 4000 RTP/AVP 96\r\n"},
		{"AVPF", "m=audio 4000 RTP/AVPF 0\r\n"},
		{"UDP/TLS", "m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n"},
		{"payload type not a number", "m=audio 4000 RTP/AVP x\r\n"},
		{"payload type 128", "m=audio 4000 RTP/AVP 128\r\n"},
		{"bad rtpmap", "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n"},
		{"bad rtpmap rate", "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/zero\r\n"},
		{"bad rtcp", "m=audio 4000 RTP/AVP 0\r\na=rtcp:99999\r\n"},
		{"hostname", "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 example.com\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sdp.SessionDescription
			if err := s.UnmarshalString(head + tt.media); err != nil {
				t.Skipf("pion refuses it already: %v", err)
			}
			if _, err := Parse(&s, s.MediaDescriptions[0]); !errors.Is(err, ErrInvalidMedia) {
				t.Fatalf("Parse = %v, want ErrInvalidMedia", err)
			}
		})
	}
	if _, err := Parse(nil, nil); !errors.Is(err, ErrInvalidMedia) {
		t.Errorf("Parse(nil) = %v", err)
	}
}

// goldenMedia is a fixed offer: every field Build writes.
func goldenMedia(t *testing.T) Media {
	t.Helper()
	c, err := sdes.Parse("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
	if err != nil {
		t.Fatal(err)
	}
	return Media{
		Port:     50000,
		Proto:    ProtoSAVP,
		Address:  netip.MustParseAddr("192.0.2.10"),
		RTCPPort: 50001,
		Formats: []Format{
			{PT: 96, Name: "opus", ClockRate: 48000, Channels: 2, FMTP: "stereo=0;sprop-stereo=0;useinbandfec=1"},
			{PT: 9, Name: "G722", ClockRate: 8000},
			{PT: 0, Name: "PCMU", ClockRate: 8000},
			{PT: 8, Name: "PCMA", ClockRate: 8000},
		},
		Events:    &Format{PT: 101, Name: TelephoneEvent, ClockRate: 8000, FMTP: "0-15"},
		PTime:     20,
		Crypto:    []sdes.Crypto{c},
		ICE:       []string{"ice-ufrag:abcd", "ice-pwd:0123456789abcdef01234567", "candidate:1 1 UDP 2130706431 192.0.2.10 50000 typ host"},
		Direction: sdk.SendOnly,
	}
}

func TestBuildGolden(t *testing.T) {
	tests := []struct {
		file string
		m    func() Media
	}{
		{"offer.golden.sdp", func() Media { return goldenMedia(t) }},
		{"answer-ipv6.golden.sdp", func() Media {
			return Media{Port: 40002, Proto: ProtoAVP, Address: netip.MustParseAddr("::1"), RTCPPort: 40003,
				Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000}}, PTime: 20, Direction: sdk.SendRecv}
		}},
		{"answer-ssrc.golden.sdp", func() Media {
			// Calls sharing a port (rtp.shared_sockets) say their SSRC.
			return Media{Port: 30000, Proto: ProtoAVP, Address: netip.MustParseAddr("127.0.0.1"), RTCPPort: 30001,
				Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000}}, PTime: 20, SSRC: 3735928559, CNAME: "deadbeef@sipstreams", Direction: sdk.SendRecv}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := sdp.SessionDescription{
				Origin:            sdp.Origin{Username: "-", SessionID: 1, SessionVersion: 1, NetworkType: "IN", AddressType: "IP4", UnicastAddress: "192.0.2.10"},
				SessionName:       "-",
				TimeDescriptions:  []sdp.TimeDescription{{}},
				MediaDescriptions: []*sdp.MediaDescription{tt.m().Build()},
			}
			got, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("Build:\n%s\nwant:\n%s", got, want)
			}
			// What Build writes, Parse reads back.
			var back sdp.SessionDescription
			if err := back.Unmarshal(got); err != nil {
				t.Fatal(err)
			}
			m, err := Parse(&back, back.MediaDescriptions[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tt.m()) {
				t.Fatalf("round trip:\n%+v\nwant\n%+v", m, tt.m())
			}
		})
	}
}

// FuzzParse checks that Parse never panics on network input, that its
// errors wrap ErrInvalidMedia, and that what it accepts survives Build and
// Parse unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s sdp.SessionDescription
		if s.Unmarshal(b) != nil {
			return
		}
		for _, md := range s.MediaDescriptions {
			m, err := Parse(&s, md)
			if err != nil {
				if !errors.Is(err, ErrInvalidMedia) {
					t.Fatalf("error %v does not wrap ErrInvalidMedia", err)
				}
				continue
			}
			if m.Port == 0 {
				continue
			}
			again, err := Parse(nil, m.Build())
			if err != nil {
				t.Fatalf("Build of %+v does not parse: %v", m, err)
			}
			if !reflect.DeepEqual(again, m) {
				t.Fatalf("round trip changed\n%+v\ninto\n%+v", m, again)
			}
		}
	})
}
