package config

import (
	"maps"
	"reflect"
	"strconv"
	"testing"

	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

func TestSettingsFlatten(t *testing.T) {
	s := Default()
	s.SIP.ListenAddresses = []string{"192.0.2.1", "::1"}
	got := s.Flatten()
	want := map[string]string{
		"user_agent":                      DefaultUserAgent,
		"default_account":                 "bonjour@local",
		"audio.input_device":              "system_default",
		"audio.output_device":             "system_default",
		"audio.alert_device":              "system_default",
		"audio.sample_rate":               "32000",
		"audio.recordings_directory":      "",
		"audio.max_streams":               "200",
		"audio.codec_directory":           "",
		"rtp.port_range":                  "50000-50500",
		"rtp.timeout":                     "30",
		"rtp.audio_codec_list":            "opus,G722,PCMU,PCMA",
		"rtp.srtp_encryption":             "opportunistic",
		"rtp.shared_sockets":              "0",
		"sip.udp_port":                    "0",
		"sip.tcp_port":                    "0",
		"sip.tls_port":                    "0",
		"sip.transport_list":              "tls,tcp,udp",
		"sip.invite_timeout":              "90",
		"sip.listen_addresses":            "192.0.2.1,::1",
		"sip.connection_idle_timeout":     "120",
		"sip.tls_handshake_timeout":       "10",
		"sip.max_connections_per_address": "64",
		"sip.max_sessions":                "1000",
		"sip.max_setup_delay":             "0.02",
		"sip.max_media_streams":           "16",
		"msrp.transport":                  "tls",
		"chat.prefer_cpim":                "true",
		"chat.max_message_size":           "16777216",
		"chat.max_reassembly_memory":      "33554432",
		"chat.send_window":                "512",
		"tls.ca_list":                     "",
		"tls.certificate":                 "",
		"tls.private_key":                 "",
		"tls.verify_server":               "true",
		"file_transfer.directory":         "",
		"desktop_sharing.vnc_server":      "127.0.0.1:5900",
		"desktop_sharing.handler":         "external",
		"desktop_sharing.viewer_timeout":  "5",
		"desktop_sharing.internal_window": "4194304",
		"logs.trace_sip":                  "false",
		"logs.trace_msrp":                 "false",
		"logs.trace_sip_keys":             "false",
	}
	if !maps.Equal(got, want) {
		t.Errorf("Flatten() =\n%v\nwant\n%v", got, want)
	}
}

func TestAccountFlatten(t *testing.T) {
	global := Default()
	global.RTP.Timeout = 1500000000 // 1.5 s
	global.FileTransfer.Directory = "/tmp/in"

	tests := []struct {
		name    string
		account Account
		want    map[string]string // keys that differ from global.Flatten()
		absent  []string
	}{
		{
			name:    "inherits",
			account: NewAccount("alice@example.com"),
			want: map[string]string{
				"account.id": "alice@example.com", "account.display_name": "", "account.peer_to_peer": "false",
				"nat_traversal.use_ice": "false", "nat_traversal.stun_servers": "", "nat_traversal.msrp_relay": "",
				"nat_traversal.use_msrp_relay_for_outbound": "false", "msrp.connection_model": "relay",
			},
			absent: []string{"auth.username", "auth.password", "sip.register", "sip.outbound_proxy"},
		},
		{
			name: "overrides",
			account: func() Account {
				a := NewAccount("alice@example.com")
				a.DisplayName = "Alice"
				a.RTP.AudioCodecList = []string{"PCMA", "G722"}
				a.RTP.SRTPEncryption = SRTPSDESMandatory
				a.MSRP.Transport = TransportTCP
				a.NATTraversal.UseICE = true
				a.NATTraversal.STUNServers = []string{"stun1.example.com", "stun2.example.com:3479"}
				a.NATTraversal.MSRPRelay = "relay.example.com;transport=tls"
				a.NATTraversal.UseMSRPRelayForOutbound = true
				a.MSRP.ConnectionModel = "acm"
				a.Auth.Password = "pw"
				return a
			}(),
			want: map[string]string{
				"account.id": "alice@example.com", "account.display_name": "Alice", "account.peer_to_peer": "false",
				"rtp.audio_codec_list": "PCMA,G722", "rtp.srtp_encryption": "sdes_mandatory", "msrp.transport": "tcp",
				"nat_traversal.use_ice": "true", "nat_traversal.stun_servers": "stun1.example.com,stun2.example.com:3479",
				"nat_traversal.msrp_relay":                  "relay.example.com;transport=tls",
				"nat_traversal.use_msrp_relay_for_outbound": "true", "msrp.connection_model": "acm",
				"auth.username": "alice", "auth.password": "pw",
			},
		},
		{
			name: "encryption off",
			account: func() Account {
				a := NewAccount("alice@example.com")
				a.RTP.EncryptionEnabled = false
				a.RTP.SRTPEncryption = SRTPSDESMandatory
				return a
			}(),
			want: map[string]string{
				"account.id": "alice@example.com", "account.display_name": "", "account.peer_to_peer": "false",
				"rtp.srtp_encryption":   "disabled",
				"nat_traversal.use_ice": "false", "nat_traversal.stun_servers": "", "nat_traversal.msrp_relay": "",
				"nat_traversal.use_msrp_relay_for_outbound": "false", "msrp.connection_model": "relay",
			},
		},
		{
			name:    "peer to peer",
			account: PeerToPeerAccount(),
			want: map[string]string{
				"account.id": "bonjour@local", "account.display_name": "", "account.peer_to_peer": "true",
				"tls.verify_server":     "false", // its MSRP peers' certificates are their own
				"nat_traversal.use_ice": "false", "nat_traversal.stun_servers": "", "nat_traversal.msrp_relay": "",
				"nat_traversal.use_msrp_relay_for_outbound": "false", "msrp.connection_model": "relay",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.account.Flatten(&global)
			want := global.Flatten()
			if want["rtp.timeout"] != "1.5" || want["file_transfer.directory"] != "/tmp/in" {
				t.Fatalf("global flatten %v", want)
			}
			maps.Copy(want, tt.want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Flatten =\n%v\nwant\n%v", got, want)
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("key %s present", k)
				}
			}
		})
	}

	a := NewAccount("a@b")
	if !maps.Equal(a.Flatten(nil), func() map[string]string { d := Default(); return a.Flatten(&d) }()) {
		t.Error("Flatten(nil) differs from Flatten(Default())")
	}
}

// TestAudioSettingKeys: the keys the audio plugin reads (sdk/audio) are the
// ones an account's flattened settings carry, with the plugin's defaults.
func TestAudioSettingKeys(t *testing.T) {
	a := NewAccount("alice@example.com")
	m := a.Flatten(nil)
	for _, k := range []string{
		sdkaudio.SettingCodecList, sdkaudio.SettingPortRange, sdkaudio.SettingSRTP, sdkaudio.SettingTimeout,
		sdkaudio.SettingUseICE, sdkaudio.SettingSTUNServers, sdkaudio.SettingInputDevice, sdkaudio.SettingOutputDevice,
		sdkaudio.SettingAlertDevice, sdkaudio.SettingRecordingsDirectory, sdkaudio.SettingSampleRate, sdkaudio.SettingMaxStreams,
		sdkaudio.SettingCodecDirectory,
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s is not passed to the audio plugin", k)
		}
	}
	if got, want := m[sdkaudio.SettingMaxStreams], strconv.Itoa(sdkaudio.DefaultMaxStreams); got != want {
		t.Errorf("%s = %q, want the plugin's default %q", sdkaudio.SettingMaxStreams, got, want)
	}
}
