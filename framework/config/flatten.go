package config

import (
	"reflect"
	"strconv"
	"strings"
)

// Flatten returns every global setting keyed by its dotted name, as passed
// to stream plugins: for example "rtp.port_range" → "50000-50500",
// "rtp.audio_codec_list" → "opus,G722,PCMU,PCMA", "rtp.timeout" → "30".
// Lists are joined with "," (no spaces), durations are decimal seconds,
// booleans are "true" or "false", and strings are as they are.
func (s *Settings) Flatten() map[string]string {
	m := make(map[string]string, 32)
	flatten(m, "", reflect.ValueOf(s).Elem())
	return m
}

func flatten(m map[string]string, prefix string, v reflect.Value) {
	for _, f := range fields(v.Type()) {
		if f.group {
			flatten(m, prefix+f.name+".", v.Field(f.index))
			continue
		}
		m[prefix+f.name] = formatValue(v.Field(f.index), false)
	}
}

// Flatten returns the settings passed to stream plugins for a call on this
// account: global's [Settings.Flatten], with the account's values where it
// sets them, plus the account's own keys.
//
// Overridden keys: "rtp.audio_codec_list" ([Account.EffectiveAudioCodecList]),
// "rtp.srtp_encryption" ([Account.EffectiveSRTPEncryption]),
// "msrp.transport" ([Account.EffectiveMSRPTransport]), and, for the
// peer-to-peer account only, "tls.verify_server", which is "false": its
// MSRP peers are other hosts presenting certificates of their own making
// (sdk/msrpstream makes one when tls.certificate is empty), which no
// certificate authority signs and only the signalling can vouch for
// (RFC 8122 a=fingerprint). SIP over TLS verifies servers as
// tls.verify_server says for every account.
//
// Added keys: "account.id", "account.display_name", "account.peer_to_peer",
// "nat_traversal.use_ice", "nat_traversal.stun_servers",
// "nat_traversal.msrp_relay", "nat_traversal.use_msrp_relay_for_outbound"
// and "msrp.connection_model" ("relay" when unset); and, only when an MSRP relay is set (the
// relay's AUTH needs them), "auth.username" (the ID's user part when not
// set) and "auth.password". SIP-only account settings (registration,
// outbound proxy, SIP transport) stay in the host.
//
// global nil means [Default].
func (a *Account) Flatten(global *Settings) map[string]string {
	global = orDefault(global)
	m := global.Flatten()
	m["account.id"] = a.ID
	m["account.display_name"] = a.DisplayName
	m["account.peer_to_peer"] = strconv.FormatBool(a.IsPeerToPeer())
	m["rtp.audio_codec_list"] = formatValue(reflect.ValueOf(a.EffectiveAudioCodecList(global)), false)
	m["rtp.srtp_encryption"] = string(a.EffectiveSRTPEncryption(global))
	m["msrp.transport"] = string(a.EffectiveMSRPTransport(global))
	if a.IsPeerToPeer() {
		m["tls.verify_server"] = "false"
	}
	m["nat_traversal.use_ice"] = strconv.FormatBool(a.NATTraversal.UseICE)
	m["nat_traversal.stun_servers"] = formatValue(reflect.ValueOf(a.NATTraversal.STUNServers), false)
	m["nat_traversal.msrp_relay"] = a.NATTraversal.MSRPRelay
	m["nat_traversal.use_msrp_relay_for_outbound"] = strconv.FormatBool(a.NATTraversal.UseMSRPRelayForOutbound)
	model := a.MSRP.ConnectionModel
	if model == "" {
		model = "relay"
	}
	m["msrp.connection_model"] = model
	if a.NATTraversal.MSRPRelay != "" {
		user := a.Auth.Username
		if user == "" {
			user, _, _ = strings.Cut(a.ID, "@")
		}
		m["auth.username"] = user
		m["auth.password"] = a.Auth.Password
	}
	return m
}
