package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fullDocument sets every setting to a value other than its default,
// including strings that need quoting.
func fullDocument() *Document {
	return &Document{
		Settings: Settings{
			UserAgent:      "sipstreams 0.1",
			DefaultAccount: "alice@example.com",
			Audio: AudioSettings{
				InputDevice:         "USB Headset: Mic (hw:1,0)",
				OutputDevice:        " leading blank",
				AlertDevice:         "",
				SampleRate:          48000,
				RecordingsDirectory: "/home/alice/.sipstreams/history",
				MaxStreams:          20,
			},
			RTP: RTPSettings{
				PortRange:      PortRange{Start: 40000, End: 40100},
				Timeout:        1500 * time.Millisecond,
				AudioCodecList: []string{"G722", "opus", "AMR-WB"},
				SRTPEncryption: SRTPSDESMandatory,
			},
			SIP: SIPSettings{
				UDPPort:         5060,
				TCPPort:         5060,
				TLSPort:         5061,
				TransportList:   []Transport{TransportUDP, TransportTLS},
				InviteTimeout:   2 * time.Minute,
				ListenAddresses: []string{"192.0.2.1", "2001:db8::1"},

				ConnectionIdleTimeout:    45 * time.Second,
				TLSHandshakeTimeout:      2500 * time.Millisecond,
				MaxConnectionsPerAddress: 8,
				MaxSessions:              50,
				MaxMediaStreams:          4,
				MaxSetupDelay:            20 * time.Millisecond,
			},
			MSRP: MSRPSettings{Transport: TransportTCP},
			Chat: ChatSettings{PreferCPIM: false, MaxMessageSize: 1000, MaxReassemblyMemory: 4096, SendWindow: 16},
			TLS: TLSSettings{
				CAList:       "/etc/ssl/ca.pem",
				Certificate:  "/etc/sipstreams/cert.pem",
				PrivateKey:   "/etc/sipstreams/key.pem",
				VerifyServer: false,
			},
			FileTransfer: FileTransferSettings{Directory: `C:\Users\alice\Downloads`},
			DesktopSharing: DesktopSharingSettings{
				VNCServer: "[::1]:5901", Handler: "internal", ViewerTimeout: 30 * time.Second, InternalWindow: 65536,
			},
			Logs: LogsSettings{TraceSIP: true, TraceMSRP: true, TraceSIPKeys: true},
		},
		Accounts: []Account{
			{
				ID:          "alice@example.com",
				Enabled:     false,
				DisplayName: `Alice "Al" Liddell`,
				Auth:        AccountAuth{Username: "alice1", Password: "#se=cr et\t\n\"x\"\xff "},
				SIP: AccountSIP{
					OutboundProxy:    "proxy.example.com:5061;transport=tls",
					Register:         false,
					RegisterInterval: 3600 * time.Second,
					Transport:        TransportTLS,
				},
				RTP: AccountRTP{
					AudioCodecList:    []string{"PCMA", "PCMU"},
					SRTPEncryption:    SRTPSDESOptional,
					EncryptionEnabled: false,
				},
				NATTraversal: NATTraversal{
					UseICE:      true,
					STUNServers: []string{"stun.example.com", "[2001:db8::2]:3479"},
					MSRPRelay:   "relay.example.com;transport=tcp",
				},
				MSRP: AccountMSRP{Transport: TransportTCP},
			},
			func() Account {
				a := PeerToPeerAccount()
				a.DisplayName = "Alice on the LAN"
				a.SIP.Transport = TransportTLS
				return a
			}(),
			NewAccount("bob+work@[2001:db8::5]"),
		},
	}
}

func TestMarshalGolden(t *testing.T) {
	got := Marshal(NewDocument())
	golden := filepath.Join("testdata", "config.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("Marshal(defaults) differs from %s (run go test -update if the change is intended):\n%s", golden, got)
	}
	if string(Marshal(nil)) != string(got) {
		t.Error("Marshal(nil) differs from Marshal(NewDocument())")
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		doc  *Document
	}{
		{"defaults", NewDocument()},
		{"full", fullDocument()},
		{"no accounts, empty lists", func() *Document {
			d := NewDocument()
			d.Settings.RTP.AudioCodecList = nil
			d.Settings.SIP.TransportList = nil
			d.Settings.UserAgent = ""
			return d
		}()},
		{"awkward strings", func() *Document {
			d := NewDocument()
			d.Settings.UserAgent = "\"quoted\" at start"
			d.Settings.Audio.InputDevice = "trailing tab\t"
			d.Settings.Audio.OutputDevice = "\u00a0nbsp\u2028"
			d.Settings.SIP.ListenAddresses = []string{"", "a,b", " c", "\"", "d\"e", "\x00"}
			d.Settings.RTP.AudioCodecList = []string{"x y", "#z"}
			d.Settings.DefaultAccount = "= not an id :"
			return d
		}()},
		{"extreme durations", func() *Document {
			d := NewDocument()
			d.Settings.RTP.Timeout = -1 << 63
			d.Settings.SIP.InviteTimeout = 1<<63 - 1
			d.Accounts = []Account{NewAccount("a@b")}
			d.Accounts[0].SIP.RegisterInterval = time.Nanosecond
			return d
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := Marshal(tt.doc)
			got, err := Unmarshal(text, "test")
			if err != nil {
				t.Fatalf("Unmarshal(Marshal(d)): %v\n%s", err, text)
			}
			if !reflect.DeepEqual(got, tt.doc) {
				t.Errorf("Unmarshal(Marshal(d)) != d\ntext:\n%s\ngot:  %+v\nwant: %+v", text, got, tt.doc)
			}
			if again := Marshal(got); string(again) != string(text) {
				t.Errorf("Marshal is not stable:\n%s\n---\n%s", text, again)
			}
		})
	}
}

func TestFullDocumentIsValid(t *testing.T) {
	if err := fullDocument().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUnmarshalTestdata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "full.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(data, "full.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	want := fullDocument()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("testdata/full.conf:\ngot:  %+v\nwant: %+v", got, want)
	}
}

func TestUnmarshalBriefExample(t *testing.T) {
	const text = `# sipstreams configuration
user_agent = sipstreams 0.1
rtp:
    port_range = 50000-50500
    audio_codec_list = opus, G722, PCMU, PCMA
accounts:
    alice@example.com:
        display_name = Alice
        auth:
            password = secret
`
	got, err := Unmarshal([]byte(text), "config")
	if err != nil {
		t.Fatal(err)
	}
	want := NewDocument()
	want.Settings.UserAgent = "sipstreams 0.1"
	a := NewAccount("alice@example.com")
	a.DisplayName = "Alice"
	a.Auth.Password = "secret"
	want.Accounts = []Account{a}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestUnmarshalValues(t *testing.T) {
	tests := []struct {
		name string
		text string
		// check inspects the result.
		check func(d *Document) bool
	}{
		{"empty", "", func(d *Document) bool { return reflect.DeepEqual(d, NewDocument()) }},
		{"comments and blanks", "\n  # indented comment\n\t# tab comment\n#x = y\n\n", func(d *Document) bool { return reflect.DeepEqual(d, NewDocument()) }},
		{"crlf and bom", "\uFEFFrtp:\r\n  timeout = 5\r\n", func(d *Document) bool { return d.Settings.RTP.Timeout == 5*time.Second }},
		{"two-space indent", "rtp:\n  timeout = 5\nsip:\n  invite_timeout = 1m\n", func(d *Document) bool {
			return d.Settings.RTP.Timeout == 5*time.Second && d.Settings.SIP.InviteTimeout == time.Minute
		}},
		{"blanks around", "  \nuser_agent=x y  \t\nlogs :\n     trace_sip   =   yes\n", func(d *Document) bool {
			return d.Settings.UserAgent == "x y" && d.Settings.Logs.TraceSIP
		}},
		{"empty groups", "rtp:\nsip:\naccounts:\n", func(d *Document) bool { return reflect.DeepEqual(d, NewDocument()) }},
		{"empty account", "accounts:\n  bob@example.org:\n", func(d *Document) bool {
			return len(d.Accounts) == 1 && reflect.DeepEqual(d.Accounts[0], NewAccount("bob@example.org"))
		}},
		{"peer-to-peer defaults", "accounts:\n  bonjour@local:\n    display_name = me\n", func(d *Document) bool {
			want := PeerToPeerAccount()
			want.DisplayName = "me"
			return reflect.DeepEqual(d.Accounts, []Account{want})
		}},
		{"booleans", "tls:\n verify_server = ON\nlogs:\n trace_sip = no\n trace_msrp = True\n", func(d *Document) bool {
			return d.Settings.TLS.VerifyServer && !d.Settings.Logs.TraceSIP && d.Settings.Logs.TraceMSRP
		}},
		{"durations", "rtp:\n timeout = 0.25\nsip:\n invite_timeout = 1m30s\n", func(d *Document) bool {
			return d.Settings.RTP.Timeout == 250*time.Millisecond && d.Settings.SIP.InviteTimeout == 90*time.Second
		}},
		{"quoted string", `user_agent = "  a\tb = c"` + "\n", func(d *Document) bool { return d.Settings.UserAgent == "  a\tb = c" }},
		{"hash in value", "user_agent = a # not a comment\n", func(d *Document) bool { return d.Settings.UserAgent == "a # not a comment" }},
		{"list elements", `rtp:` + "\n" + ` audio_codec_list = opus ,"G,722",  PCMU` + "\n", func(d *Document) bool {
			return reflect.DeepEqual(d.Settings.RTP.AudioCodecList, []string{"opus", "G,722", "PCMU"})
		}},
		{"empty list", "rtp:\n audio_codec_list =\n", func(d *Document) bool { return d.Settings.RTP.AudioCodecList == nil }},
		{"values mention only", "audio:\n    sample_rate = 16000\n", func(d *Document) bool {
			want := NewDocument()
			want.Settings.Audio.SampleRate = 16000
			return reflect.DeepEqual(d, want)
		}},
		{"dedent to top after nesting", "accounts:\n    a@b:\n        auth:\n            username = u\nuser_agent = z\n", func(d *Document) bool {
			return d.Settings.UserAgent == "z" && d.Accounts[0].Auth.Username == "u"
		}},
		{"account order kept", "accounts:\n z@b:\n a@b:\n", func(d *Document) bool {
			return d.Accounts[0].ID == "z@b" && d.Accounts[1].ID == "a@b"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Unmarshal([]byte(tt.text), "t")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(d) {
				t.Errorf("unexpected result %+v", d)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		msg  string // a substring of the message
	}{
		{"unexpected indent", "user_agent = x\n  default_account = a@b\n", 2, "unexpected indentation"},
		{"bad dedent", "rtp:\n    timeout = 1\n  port_range = 50000-50500\n", 3, "does not match"},
		{"tab indent", "rtp:\n\ttimeout = 1\n", 2, "tab in indentation"},
		{"missing equals", "rtp:\n    timeout 30\n", 2, `want "name = value" or "group:"`},
		{"unknown key", "user_agent = x\nuser_agnet = y\n", 2, `unknown setting "user_agnet" at the top level`},
		{"unknown key in group", "rtp:\n    prot_range = 1-2\n", 2, `unknown setting "prot_range" in rtp (known: port_range,`},
		{"unknown group", "rtpp:\n", 1, `unknown setting "rtpp"`},
		{"unknown account key", "accounts:\n a@b:\n  sip:\n   proxy = x\n", 4, `account a@b: unknown setting "proxy" in sip`},
		{"port range not a range", "rtp:\n    port_range = abc\n", 2, `invalid rtp.port_range "abc": want START-END`},
		{"port range signs", "rtp:\n    port_range = -1-5\n", 2, "invalid rtp.port_range"},
		{"int", "audio:\n sample_rate = 32k\n", 2, "invalid audio.sample_rate"},
		{"int overflow", "sip:\n udp_port = 99999999999999999999999\n", 2, "want a whole number"},
		{"bool", "tls:\n verify_server = maybe\n", 2, "want true or false"},
		{"duration", "rtp:\n timeout = 30 seconds\n", 2, "want seconds"},
		{"duration overflow", "rtp:\n timeout = 99999999999\n", 2, "want seconds"},
		{"bad quote", "user_agent = \"abc\n", 1, "bad quoted string"},
		{"text after quote", "user_agent = \"abc\" d\n", 1, "bad quoted string"},
		{"empty list element", "rtp:\n audio_codec_list = opus,,PCMU\n", 2, "empty list element"},
		{"trailing comma", "rtp:\n audio_codec_list = opus,\n", 2, "trailing comma"},
		{"junk after quoted element", "rtp:\n audio_codec_list = \"opus\" x\n", 2, "want ','"},
		{"duplicate key", "user_agent = a\nuser_agent = b\n", 2, `"user_agent" set twice (first on line 1)`},
		{"duplicate group", "rtp:\n timeout = 1\nrtp:\n", 3, `"rtp" set twice`},
		{"duplicate account", "accounts:\n a@b:\n a@b:\n", 3, "account a@b listed twice (first on line 2)"},
		{"group as value", "rtp = 1\n", 1, `rtp is a group: write "rtp:"`},
		{"accounts as value", "accounts = 1\n", 1, "accounts is a group"},
		{"value as group", "user_agent:\n", 1, "user_agent is a setting, not a group"},
		{"setting in accounts", "accounts:\n  enabled = true\n", 2, "one group per account"},
		{"bad account id", "accounts:\n  alice:\n", 2, `invalid account ID "alice"`},
		{"missing name", "= x\n", 1, "missing name"},
		{"missing group name", ":\n", 1, "missing group name"},
		{"secret not shown", "accounts:\n a@b:\n  auth:\n   password = \"hunter2\n", 4, `account a@b: invalid auth.password (value hidden): bad quoted string`},
		{"nested too deep after value", "user_agent = x\n    rtp:\n", 2, "unexpected indentation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.text), "cfg/config")
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *SyntaxError", err, err)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Error("errors.Is(err, ErrSyntax) is false")
			}
			if se.File != "cfg/config" || se.Line != tt.line {
				t.Errorf("at %s:%d, want cfg/config:%d", se.File, se.Line, tt.line)
			}
			if !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", se.Msg, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "cfg/config:") {
				t.Errorf("Error() = %q, want it to start with file:line:", err.Error())
			}
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	tests := []struct {
		err  *SyntaxError
		want string
	}{
		{&SyntaxError{File: "/x/config", Line: 3, Msg: "bad"}, "/x/config:3: bad"},
		{&SyntaxError{Line: 7, Msg: "bad"}, "line 7: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestFormatSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{30 * time.Second, "30"},
		{1500 * time.Millisecond, "1.5"},
		{time.Nanosecond, "0.000000001"},
		{-2 * time.Second, "-2"},
		{-1 << 63, "-9223372036.854775808"},
	}
	for _, tt := range tests {
		if got := formatSeconds(tt.d); got != tt.want {
			t.Errorf("formatSeconds(%d) = %q, want %q", tt.d, got, tt.want)
		}
		back, err := parseSeconds(tt.want)
		if err != nil || back != tt.d {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v", tt.want, back, err, tt.d)
		}
	}
}
