package msrpstream

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s:\n got %q\nwant %q", name, got, want)
	}
}

func readSDP(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuildGolden(t *testing.T) {
	tests := []struct {
		name  string
		media Media
	}{
		{"chat_offer_tls.media.golden", Media{
			Transport:          TransportTLS,
			Path:               []msrp.URI{msrp.MustParseURI("msrps://192.0.2.1:40123/abcdef0123456789abcd;tcp")},
			AcceptTypes:        []string{"message/cpim", "text/*", "image/*", "application/im-iscomposing+xml"},
			AcceptWrappedTypes: []string{"text/*", "image/*", "application/im-iscomposing+xml"},
			Setup:              SetupActive,
		}},
		{"chat_answer_tls_fingerprint.media.golden", Media{
			Transport:          TransportTLS,
			Path:               []msrp.URI{msrp.MustParseURI("msrps://192.0.2.1:40123/abcdef0123456789abcd;tcp")},
			AcceptTypes:        []string{"message/cpim", "text/*", "image/*", "application/im-iscomposing+xml"},
			AcceptWrappedTypes: []string{"text/*", "image/*", "application/im-iscomposing+xml"},
			Setup:              SetupPassive,
			Fingerprints:       []Fingerprint{{Hash: "sha-256", Value: []byte("0123456789abcdefghijklmnopqrstuv")}},
		}},
		{"file_answer_tcp_ipv6.media.golden", Media{
			Transport:   TransportTCP,
			Path:        []msrp.URI{msrp.MustParseURI("msrp://[2001:db8::1]:2856/s1;tcp")},
			Direction:   "recvonly",
			AcceptTypes: []string{"*"},
			Setup:       SetupPassive,
			MaxSize:     1 << 20,
			Attributes:  []sdp.Attribute{{Key: "file-selector", Value: `name:"a.txt" type:text/plain size:12`}},
		}},
		{"relay_offer_default_port.media.golden", Media{
			Transport: TransportTLS,
			Path: []msrp.URI{
				msrp.MustParseURI("msrps://relay.example.com:2855/r1;tcp"),
				msrp.MustParseURI("msrps://198.51.100.7/e2;tcp"),
			},
			AcceptTypes: []string{"text/plain"},
			Setup:       SetupActPass,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := tt.media.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, text)

			md, err := sdk.ParseMedia(text)
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromSDP(nil, md)
			if err != nil {
				t.Fatalf("FromSDP of our own media: %v", err)
			}
			want := tt.media
			want.MediaType = DefaultMediaType
			want.Port = md.MediaName.Port.Value
			want.Address = want.Path[len(want.Path)-1].Host
			if want.Direction == "" {
				want.Direction = "sendrecv"
			}
			if !reflect.DeepEqual(*back, want) {
				t.Fatalf("FromSDP(Build()) =\n%#v\nwant\n%#v", *back, want)
			}
			if err := back.Validate(tt.media.Transport); err != nil {
				t.Fatalf("Validate of our own media: %v", err)
			}
		})
	}
}

func TestParseMediaAt(t *testing.T) {
	m, err := ParseMediaAt(readSDP(t, "remote_offer_tls.sdp"), 1, TransportTLS)
	if err != nil {
		t.Fatal(err)
	}
	want := &Media{
		MediaType:          "message",
		Transport:          TransportTLS,
		Port:               2855,
		Address:            "192.0.2.10",
		Path:               []msrp.URI{msrp.MustParseURI("msrps://192.0.2.10:2855/9di4ea;tcp")},
		Direction:          "sendrecv",
		AcceptTypes:        []string{"message/cpim", "text/*", "image/*", "application/im-iscomposing+xml"},
		AcceptWrappedTypes: []string{"text/*", "image/*", "application/im-iscomposing+xml"},
		Setup:              SetupActPass,
		Attributes:         []sdp.Attribute{{Key: "chatroom", Value: "nickname private-messages"}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ParseMediaAt =\n%#v\nwant\n%#v", m, want)
	}

	m, err = ParseMediaAt(readSDP(t, "remote_offer_relay_tcp.sdp"), 0, TransportTCP)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Path) != 2 || m.Path[0].Host != "relay.example.com" || m.Path[1].Host != "2001:db8::2" ||
		m.Direction != "sendonly" || m.MaxSize != 1048576 || m.Setup != "" || m.Address != "2001:db8::2" ||
		len(m.Attributes) != 1 || m.Attributes[0].Key != "file-selector" {
		t.Fatalf("ParseMediaAt relay offer = %#v", m)
	}
}

func TestValidateRefuses(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	tests := []struct {
		name string
		sdp  string
		want Transport
		kind error
	}{
		{"tcp offer to a tls account", "m=message 2855 TCP/MSRP *\r\na=path:msrp://192.0.2.1:2855/x;tcp\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"tls offer to a tcp account", "m=message 2855 TCP/TLS/MSRP *\r\na=path:msrps://192.0.2.1:2855/x;tcp\r\n", TransportTCP, sdk.ErrInvalidStream},
		{"no path", "m=message 2855 TCP/TLS/MSRP *\r\na=accept-types:*\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"path of the other scheme", "m=message 2855 TCP/TLS/MSRP *\r\na=path:msrp://192.0.2.1:2855/x;tcp\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"bad path uri", "m=message 2855 TCP/TLS/MSRP *\r\na=path:sip:bob@example.com\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"path over udp", "m=message 2855 TCP/TLS/MSRP *\r\na=path:msrps://192.0.2.1:2855/x;udp\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"formats not *", "m=message 2855 TCP/TLS/MSRP text/plain\r\na=path:msrps://192.0.2.1:2855/x;tcp\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"bad setup", "m=message 2855 TCP/TLS/MSRP *\r\na=path:msrps://192.0.2.1:2855/x;tcp\r\na=setup:holdconn\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"bad max-size", "m=message 2855 TCP/TLS/MSRP *\r\na=path:msrps://192.0.2.1:2855/x;tcp\r\na=max-size:lots\r\n", TransportTLS, sdk.ErrInvalidStream},
		{"not msrp", "m=audio 4000 RTP/AVP 0\r\n", TransportTLS, sdk.ErrUnknownStream},
		{"no such m-line", "", TransportTLS, sdk.ErrInvalidStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMediaAt(head+tt.sdp, 0, tt.want)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("ParseMediaAt error %v, want %v", err, tt.kind)
			}
			if sdk.ReasonOf(err) == "" {
				t.Fatal("error without a reason")
			}
		})
	}
}

func TestTransportSetting(t *testing.T) {
	tests := []struct {
		settings map[string]string
		want     Transport
		wantErr  bool
	}{
		{nil, TransportTLS, false},
		{map[string]string{SettingTransport: "tls"}, TransportTLS, false},
		{map[string]string{SettingTransport: "TCP"}, TransportTCP, false},
		{map[string]string{SettingTransport: "udp"}, 0, true},
	}
	for _, tt := range tests {
		got, err := TransportSetting(&sdk.Account{Settings: tt.settings})
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("TransportSetting(%v) = %v, %v; want %v (error %v)", tt.settings, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("error %v does not wrap ErrInvalidArgument", err)
		}
	}
	if got, err := TransportSetting(nil); err != nil || got != TransportTLS {
		t.Errorf("TransportSetting(nil) = %v, %v; want tls", got, err)
	}
}

func TestAccepts(t *testing.T) {
	types := []string{"message/cpim", "text/*", "application/im-iscomposing+xml"}
	tests := []struct {
		ct   string
		want bool
	}{
		{"message/cpim", true},
		{"text/plain; charset=utf-8", true},
		{"TEXT/HTML", true},
		{"application/im-iscomposing+xml", true},
		{"image/png", false},
		{"texture/x", false},
	}
	for _, tt := range tests {
		if got := Accepts(types, tt.ct); got != tt.want {
			t.Errorf("Accepts(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
	if !Accepts([]string{"*"}, "anything/at-all") {
		t.Error(`"*" must accept everything`)
	}
}
