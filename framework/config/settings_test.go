package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// settingErrors returns every *SettingError in err (which may be joined).
func settingErrors(t *testing.T, err error) []*SettingError {
	t.Helper()
	var out []*SettingError
	var walk func(error)
	walk = func(e error) {
		var se *SettingError
		if errors.As(e, &se) && reflect.TypeOf(e) == reflect.TypeOf(se) {
			out = append(out, se)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// checkKeys asserts that err holds SettingErrors for exactly the given
// "account/key" pairs (account empty for global settings).
func checkKeys(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalidSetting) {
		t.Fatalf("errors.Is(%v, ErrInvalidSetting) is false", err)
	}
	var got []string
	for _, se := range settingErrors(t, err) {
		got = append(got, se.Account+"/"+se.Key)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors for %q, want %q; error: %v", got, want, err)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	s := Default()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []Account{NewAccount("alice@example.com"), PeerToPeerAccount()} {
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := NewDocument().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultValues(t *testing.T) {
	s := Default()
	if got := s.RTP.PortRange; got != (PortRange{50000, 50500}) {
		t.Errorf("rtp.port_range = %v", got)
	}
	if s.RTP.Timeout != 30*time.Second || s.SIP.InviteTimeout != 90*time.Second {
		t.Errorf("timeouts %v, %v", s.RTP.Timeout, s.SIP.InviteTimeout)
	}
	if !reflect.DeepEqual(s.RTP.AudioCodecList, []string{"opus", "G722", "PCMU", "PCMA"}) {
		t.Errorf("codecs %v", s.RTP.AudioCodecList)
	}
	if !reflect.DeepEqual(s.SIP.TransportList, []Transport{"tls", "tcp", "udp"}) {
		t.Errorf("transports %v", s.SIP.TransportList)
	}
	if s.RTP.SRTPEncryption != SRTPOpportunistic || s.MSRP.Transport != TransportTLS || s.Audio.SampleRate != 32000 ||
		s.Audio.AlertDevice != "system_default" || s.DefaultAccount != PeerToPeerAccountID || !s.TLS.VerifyServer ||
		s.SIP.ConnectionIdleTimeout != 2*time.Minute || s.SIP.TLSHandshakeTimeout != 10*time.Second || s.SIP.MaxConnectionsPerAddress != 64 || s.Logs.TraceSIPKeys {
		t.Errorf("defaults %+v", s)
	}
	// Default returns fresh slices.
	s.RTP.AudioCodecList[0] = "changed"
	if Default().RTP.AudioCodecList[0] != "opus" {
		t.Error("Default shares its slices")
	}
	if UserAgent("1.2") != "sipstreams 1.2" {
		t.Error(UserAgent("1.2"))
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *Settings)
		keys   []string
	}{
		{"defaults", func(s *Settings) {}, nil},
		{"empty user agent", func(s *Settings) { s.UserAgent = " " }, []string{"/user_agent"}},
		{"bad default account", func(s *Settings) { s.DefaultAccount = "nobody" }, []string{"/default_account"}},
		{"no default account", func(s *Settings) { s.DefaultAccount = "" }, nil},
		{"sample rate", func(s *Settings) { s.Audio.SampleRate = 44100 }, []string{"/audio.sample_rate"}},
		{"audio max streams", func(s *Settings) { s.Audio.MaxStreams = 0 }, []string{"/audio.max_streams"}},
		{"port range reversed", func(s *Settings) { s.RTP.PortRange = PortRange{50500, 50000} }, []string{"/rtp.port_range"}},
		{"port range empty", func(s *Settings) { s.RTP.PortRange = PortRange{50000, 50000} }, []string{"/rtp.port_range"}},
		{"port range odd", func(s *Settings) { s.RTP.PortRange = PortRange{50001, 50500} }, []string{"/rtp.port_range"}},
		{"port range low", func(s *Settings) { s.RTP.PortRange = PortRange{1000, 50500} }, []string{"/rtp.port_range"}},
		{"port range high", func(s *Settings) { s.RTP.PortRange = PortRange{50000, 65536} }, []string{"/rtp.port_range"}},
		{"port range edges", func(s *Settings) { s.RTP.PortRange = PortRange{1024, 65535} }, nil},
		{"negative rtp timeout", func(s *Settings) { s.RTP.Timeout = -time.Second }, []string{"/rtp.timeout"}},
		{"rtp timeout off", func(s *Settings) { s.RTP.Timeout = 0 }, nil},
		{"no codecs", func(s *Settings) { s.RTP.AudioCodecList = nil }, []string{"/rtp.audio_codec_list"}},
		{"duplicate codec", func(s *Settings) { s.RTP.AudioCodecList = []string{"opus", "PCMU", "OPUS"} }, []string{"/rtp.audio_codec_list"}},
		{"codec not a token", func(s *Settings) { s.RTP.AudioCodecList = []string{"opus", "G 722"} }, []string{"/rtp.audio_codec_list"}},
		{"empty codec", func(s *Settings) { s.RTP.AudioCodecList = []string{""} }, []string{"/rtp.audio_codec_list"}},
		{"unknown codec accepted", func(s *Settings) { s.RTP.AudioCodecList = []string{"AMR-WB", "speex"} }, nil},
		{"srtp", func(s *Settings) { s.RTP.SRTPEncryption = "zrtp" }, []string{"/rtp.srtp_encryption"}},
		{"srtp values", func(s *Settings) { s.RTP.SRTPEncryption = SRTPDisabled }, nil},
		{"sip port", func(s *Settings) { s.SIP.UDPPort = 70000; s.SIP.TCPPort = -1 }, []string{"/sip.udp_port", "/sip.tcp_port"}},
		{"tcp tls same port", func(s *Settings) { s.SIP.TCPPort = 5060; s.SIP.TLSPort = 5060 }, []string{"/sip.tls_port"}},
		{"udp tcp same port", func(s *Settings) { s.SIP.UDPPort = 5060; s.SIP.TCPPort = 5060 }, nil},
		{"no transports", func(s *Settings) { s.SIP.TransportList = nil }, []string{"/sip.transport_list"}},
		{"bad transport", func(s *Settings) { s.SIP.TransportList = []Transport{"sctp"} }, []string{"/sip.transport_list"}},
		{"duplicate transport", func(s *Settings) { s.SIP.TransportList = []Transport{"udp", "udp"} }, []string{"/sip.transport_list"}},
		{"invite timeout", func(s *Settings) { s.SIP.InviteTimeout = 0 }, []string{"/sip.invite_timeout"}},
		{"connection timeouts", func(s *Settings) { s.SIP.ConnectionIdleTimeout = 0; s.SIP.TLSHandshakeTimeout = -time.Second },
			[]string{"/sip.connection_idle_timeout", "/sip.tls_handshake_timeout"}},
		{"connections per address", func(s *Settings) { s.SIP.MaxConnectionsPerAddress = 0 }, []string{"/sip.max_connections_per_address"}},
		{"connections per address too many", func(s *Settings) { s.SIP.MaxConnectionsPerAddress = 70000 }, []string{"/sip.max_connections_per_address"}},
		{"no session allowed", func(s *Settings) { s.SIP.MaxSessions = 0 }, []string{"/sip.max_sessions"}},
		{"negative setup delay", func(s *Settings) { s.SIP.MaxSetupDelay = -time.Second }, []string{"/sip.max_setup_delay"}},
		{"no media stream allowed", func(s *Settings) { s.SIP.MaxMediaStreams = 0 }, []string{"/sip.max_media_streams"}},
		{"listen address", func(s *Settings) { s.SIP.ListenAddresses = []string{"::1", "localhost"} }, []string{"/sip.listen_addresses"}},
		{"msrp transport", func(s *Settings) { s.MSRP.Transport = TransportUDP }, []string{"/msrp.transport"}},
		{"chat max message size", func(s *Settings) { s.Chat.MaxMessageSize = 0 }, []string{"/chat.max_message_size"}},
		{"chat max reassembly memory", func(s *Settings) { s.Chat.MaxReassemblyMemory = -1 }, []string{"/chat.max_reassembly_memory"}},
		{"chat send window", func(s *Settings) { s.Chat.SendWindow = 0 }, []string{"/chat.send_window"}},
		{"desktop sharing vnc server", func(s *Settings) { s.DesktopSharing.VNCServer = "localhost" }, []string{"/desktop_sharing.vnc_server"}},
		{"desktop sharing handler", func(s *Settings) { s.DesktopSharing.Handler = "vnc" }, []string{"/desktop_sharing.handler"}},
		{"desktop sharing viewer timeout", func(s *Settings) { s.DesktopSharing.ViewerTimeout = 0 }, []string{"/desktop_sharing.viewer_timeout"}},
		{"desktop sharing window", func(s *Settings) { s.DesktopSharing.InternalWindow = 0 }, []string{"/desktop_sharing.internal_window"}},
		{"key without cert", func(s *Settings) { s.TLS.PrivateKey = "k.pem" }, []string{"/tls.private_key"}},
		{"cert with key inside", func(s *Settings) { s.TLS.Certificate = "c.pem" }, nil},
		{"several", func(s *Settings) { s.Audio.SampleRate = 1; s.MSRP.Transport = "" }, []string{"/audio.sample_rate", "/msrp.transport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Default()
			tt.change(&s)
			checkKeys(t, s.Validate(), tt.keys...)
		})
	}
}

func TestAccountValidate(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		change func(a *Account)
		keys   []string
	}{
		{"defaults", "alice@example.com", func(a *Account) {}, nil},
		{"ipv4 domain", "alice@192.0.2.1", func(a *Account) {}, nil},
		{"ipv6 domain", "alice@[2001:db8::1]", func(a *Account) {}, nil},
		{"escaped user", "al%20ice+x@example.com", func(a *Account) {}, nil},
		{"no at", "alice", func(a *Account) {}, []string{"alice/id"}},
		{"empty user", "@example.com", func(a *Account) {}, []string{"@example.com/id"}},
		{"empty domain", "alice@", func(a *Account) {}, []string{"alice@/id"}},
		{"two ats", "a@b@c", func(a *Account) {}, []string{"a@b@c/id"}},
		{"equals in user", "a=b@c", func(a *Account) {}, []string{"a=b@c/id"}},
		{"bad escape", "a%2@c", func(a *Account) {}, []string{"a%2@c/id"}},
		{"bare ipv6", "a@::1", func(a *Account) {}, []string{"a@::1/id"}},
		{"bad label", "a@-x.com", func(a *Account) {}, []string{"a@-x.com/id"}},
		{"empty label", "a@x..com", func(a *Account) {}, []string{"a@x..com/id"}},
		{"display name newline", "a@b", func(a *Account) { a.DisplayName = "A\r\nVia: x" }, []string{"a@b/display_name"}},
		{"username control", "a@b", func(a *Account) { a.Auth.Username = "a\x00" }, []string{"a@b/auth.username"}},
		{"proxy ok", "a@b", func(a *Account) { a.SIP.OutboundProxy = "[2001:db8::1]:5070;transport=udp" }, nil},
		{"proxy bad transport", "a@b", func(a *Account) { a.SIP.OutboundProxy = "p.example.com;transport=sctp" }, []string{"a@b/sip.outbound_proxy"}},
		{"proxy bad port", "a@b", func(a *Account) { a.SIP.OutboundProxy = "p.example.com:0" }, []string{"a@b/sip.outbound_proxy"}},
		{"proxy uri", "a@b", func(a *Account) { a.SIP.OutboundProxy = "sip:p.example.com" }, []string{"a@b/sip.outbound_proxy"}},
		{"register interval", "a@b", func(a *Account) { a.SIP.RegisterInterval = 0 }, []string{"a@b/sip.register_interval"}},
		{"sip transport", "a@b", func(a *Account) { a.SIP.Transport = "ws" }, []string{"a@b/sip.transport"}},
		{"codecs override", "a@b", func(a *Account) { a.RTP.AudioCodecList = []string{"PCMU", "pcmu"} }, []string{"a@b/rtp.audio_codec_list"}},
		{"srtp override", "a@b", func(a *Account) { a.RTP.SRTPEncryption = "on" }, []string{"a@b/rtp.srtp_encryption"}},
		{"stun", "a@b", func(a *Account) { a.NATTraversal.STUNServers = []string{"stun.x.org:3478", "stun.y.org;transport=tcp"} }, []string{"a@b/nat_traversal.stun_servers"}},
		{"relay", "a@b", func(a *Account) { a.NATTraversal.MSRPRelay = "relay.x.org:2855;transport=udp" }, []string{"a@b/nat_traversal.msrp_relay"}},
		{"relay ok", "a@b", func(a *Account) { a.NATTraversal.MSRPRelay = "relay.x.org" }, nil},
		{"msrp transport", "a@b", func(a *Account) { a.MSRP.Transport = "udp" }, []string{"a@b/msrp.transport"}},
		{"msrp connection model", "a@b", func(a *Account) { a.MSRP.ConnectionModel = "direct" }, []string{"a@b/msrp.connection_model"}},
		{"msrp acm", "a@b", func(a *Account) { a.MSRP.ConnectionModel = "acm" }, nil},
		{"p2p defaults", PeerToPeerAccountID, func(a *Account) {}, nil},
		{"p2p changeable", PeerToPeerAccountID, func(a *Account) {
			a.Enabled = false
			a.DisplayName = "me"
			a.SIP.Transport = TransportTLS
			a.RTP.SRTPEncryption = SRTPSDESMandatory
		}, nil},
		{"p2p fixed", PeerToPeerAccountID, func(a *Account) {
			a.Auth.Password = "x"
			a.SIP.OutboundProxy = "p.example.com"
			a.SIP.Register = true
			a.NATTraversal.UseICE = true
			a.NATTraversal.STUNServers = []string{"stun.x.org"}
			a.NATTraversal.MSRPRelay = "relay.x.org"
		}, []string{
			"bonjour@local/auth.password", "bonjour@local/sip.outbound_proxy", "bonjour@local/sip.register",
			"bonjour@local/nat_traversal.use_ice", "bonjour@local/nat_traversal.stun_servers", "bonjour@local/nat_traversal.msrp_relay",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccount(tt.id)
			tt.change(&a)
			checkKeys(t, a.Validate(), tt.keys...)
		})
	}
}

func TestDocumentValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Document)
		keys   []string
	}{
		{"defaults", func(d *Document) {}, nil},
		{"default account exists", func(d *Document) {
			d.Accounts = []Account{NewAccount("a@b")}
			d.Settings.DefaultAccount = "a@b"
		}, nil},
		{"default account missing", func(d *Document) { d.Settings.DefaultAccount = "a@b" }, []string{"/default_account"}},
		{"default account malformed, reported once", func(d *Document) { d.Settings.DefaultAccount = "ab" }, []string{"/default_account"}},
		{"duplicate id", func(d *Document) { d.Accounts = []Account{NewAccount("a@b"), NewAccount("a@b")} }, []string{"a@b/id"}},
		{"settings and account", func(d *Document) {
			d.Settings.Audio.SampleRate = 8000
			d.Accounts = []Account{NewAccount("a@b")}
			d.Accounts[0].MSRP.Transport = "x"
		}, []string{"/audio.sample_rate", "a@b/msrp.transport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDocument()
			tt.change(d)
			checkKeys(t, d.Validate(), tt.keys...)
		})
	}
}

func TestSettingErrorMessage(t *testing.T) {
	s := Default()
	s.RTP.PortRange = PortRange{50001, 50500}
	err := s.Validate()
	want := `config: invalid setting rtp.port_range = "50001-50500": start must be even (RTP uses the even port of each pair)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	var se *SettingError
	if !errors.As(err, &se) || se.Key != "rtp.port_range" || se.Value != "50001-50500" {
		t.Errorf("errors.As: %+v", se)
	}

	a := NewAccount("a@b")
	a.MSRP.Transport = "udp"
	if got := a.Validate().Error(); !strings.HasPrefix(got, "config: account a@b: invalid setting msrp.transport = \"udp\": ") {
		t.Errorf("account error %q", got)
	}
}

func TestEffectiveAccountSettings(t *testing.T) {
	global := Default()
	global.RTP.SRTPEncryption = SRTPSDESOptional
	global.MSRP.Transport = TransportTCP

	a := NewAccount("a@b")
	if got := a.EffectiveAudioCodecList(&global); !reflect.DeepEqual(got, global.RTP.AudioCodecList) {
		t.Errorf("codecs %v", got)
	}
	if got := a.EffectiveSRTPEncryption(&global); got != SRTPSDESOptional {
		t.Errorf("srtp %v", got)
	}
	if got := a.EffectiveMSRPTransport(&global); got != TransportTCP {
		t.Errorf("msrp %v", got)
	}
	if got := a.EffectiveSRTPEncryption(nil); got != SRTPOpportunistic {
		t.Errorf("srtp with nil global %v", got)
	}

	a.RTP.AudioCodecList = []string{"PCMU"}
	a.RTP.SRTPEncryption = SRTPSDESMandatory
	a.MSRP.Transport = TransportTLS
	if got := a.EffectiveAudioCodecList(&global); !reflect.DeepEqual(got, []string{"PCMU"}) {
		t.Errorf("codecs %v", got)
	}
	if got := a.EffectiveSRTPEncryption(&global); got != SRTPSDESMandatory {
		t.Errorf("srtp %v", got)
	}
	if got := a.EffectiveMSRPTransport(&global); got != TransportTLS {
		t.Errorf("msrp %v", got)
	}
	a.RTP.EncryptionEnabled = false
	if got := a.EffectiveSRTPEncryption(&global); got != SRTPDisabled {
		t.Errorf("srtp with encryption off %v", got)
	}
}

func TestDocumentAccountAndClone(t *testing.T) {
	d := fullDocument()
	c := d.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("Clone differs")
	}
	c.Settings.RTP.AudioCodecList[0] = "x"
	c.Settings.SIP.TransportList[0] = "x"
	c.Settings.SIP.ListenAddresses[0] = "x"
	c.Accounts[0].RTP.AudioCodecList[0] = "x"
	c.Accounts[0].NATTraversal.STUNServers[0] = "x"
	c.Accounts[0].DisplayName = "x"
	if !reflect.DeepEqual(d, fullDocument()) {
		t.Fatal("Clone shares memory with the original")
	}

	a, ok := d.Account("alice@example.com")
	if !ok || a.DisplayName != `Alice "Al" Liddell` {
		t.Errorf("Account(alice) = %+v, %v", a, ok)
	}
	a.RTP.AudioCodecList[0] = "x"
	if d.Accounts[0].RTP.AudioCodecList[0] != "PCMA" {
		t.Error("Account returns shared memory")
	}
	if p, ok := d.Account(PeerToPeerAccountID); !ok || p.DisplayName != "Alice on the LAN" {
		t.Errorf("listed peer-to-peer account: %+v, %v", p, ok)
	}
	if p, ok := NewDocument().Account(PeerToPeerAccountID); !ok || !reflect.DeepEqual(p, PeerToPeerAccount()) {
		t.Errorf("unlisted peer-to-peer account: %+v, %v", p, ok)
	}
	if _, ok := d.Account("nobody@example.com"); ok {
		t.Error("found a missing account")
	}
	if !reflect.DeepEqual(NewAccount(PeerToPeerAccountID), PeerToPeerAccount()) {
		t.Error("NewAccount(PeerToPeerAccountID) is not PeerToPeerAccount()")
	}
}
