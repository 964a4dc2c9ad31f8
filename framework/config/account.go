package config

import (
	"strings"
	"time"
	"unicode"
)

// PeerToPeerAccountID is the ID of the peer-to-peer account, the
// reference's BonjourAccount: a serverless account that listens locally and
// is called directly by address.
const PeerToPeerAccountID = "bonjour@local"

// Account holds one account's settings (the reference's Account settings).
// The zero value is not useful: start from [NewAccount] or
// [PeerToPeerAccount]. Fields whose documentation says "inherit" fall back
// to the global [Settings] when empty.
type Account struct {
	// ID is the account's address of record, user@domain. In the
	// configuration file it is the name of the account's group.
	ID string `config:"-"`
	// Enabled accounts register and place and receive calls.
	Enabled bool `config:"enabled"`
	// DisplayName is the display name sent in From headers.
	DisplayName string `config:"display_name"`

	Auth         AccountAuth  `config:"auth"`
	SIP          AccountSIP   `config:"sip"`
	RTP          AccountRTP   `config:"rtp"`
	NATTraversal NATTraversal `config:"nat_traversal"`
	MSRP         AccountMSRP  `config:"msrp"`
}

// AccountAuth are the digest credentials, also used for MSRP relay AUTH.
// The password is stored in clear in the configuration file (mode 0600,
// as in the reference); errors never show it.
type AccountAuth struct {
	// Username defaults to the user part of the account ID when empty.
	Username string `config:"username"`
	Password string `config:"password,secret"`
}

// AccountSIP are the account's SIP settings.
type AccountSIP struct {
	// OutboundProxy is "host[:port][;transport=udp|tcp|tls]", or "" to
	// route by DNS (RFC 3263) to the account's domain.
	OutboundProxy string `config:"outbound_proxy"`
	// Register makes the account REGISTER with its registrar.
	Register bool `config:"register"`
	// RegisterInterval is the requested registration lifetime.
	RegisterInterval time.Duration `config:"register_interval"`
	// Transport forces a SIP transport for this account; "" chooses from
	// sip.transport_list.
	Transport Transport `config:"transport"`
}

// AccountRTP are the account's RTP settings.
type AccountRTP struct {
	// AudioCodecList overrides rtp.audio_codec_list; empty inherits it.
	AudioCodecList []string `config:"audio_codec_list"`
	// SRTPEncryption overrides rtp.srtp_encryption; "" inherits it.
	SRTPEncryption SRTPEncryption `config:"srtp_encryption"`
	// EncryptionEnabled false disables SRTP for this account whatever the
	// policy (the reference's rtp.encryption.enabled).
	EncryptionEnabled bool `config:"encryption_enabled"`
}

// NATTraversal are the account's NAT traversal settings.
type NATTraversal struct {
	// UseICE enables ICE for RTP streams.
	UseICE bool `config:"use_ice"`
	// STUNServers are "host[:port]" (port 3478 by default); empty means a
	// DNS SRV lookup of stun for the account's domain.
	STUNServers []string `config:"stun_servers"`
	// MSRPRelay is "host[:port][;transport=tls|tcp]" (port 2855 and tls
	// by default), or "" for no relay.
	MSRPRelay string `config:"msrp_relay"`
	// UseMSRPRelayForOutbound makes outgoing MSRP streams go through the
	// relay too (the reference's use_msrp_relay_for_outbound; off: an
	// offerer connects directly).
	UseMSRPRelayForOutbound bool `config:"use_msrp_relay_for_outbound"`
}

// AccountMSRP are the account's MSRP settings.
type AccountMSRP struct {
	// Transport overrides msrp.transport; "" inherits it.
	Transport Transport `config:"transport"`
	// ConnectionModel is the reference's msrp.connection_model: "relay"
	// (the default; a relay when one is set, RFC 4976) or "acm" (RFC 6135
	// alternative connection model: the answerer listens).
	ConnectionModel string `config:"connection_model"`
}

// NewAccount returns an account with the given ID and default settings:
// enabled, registering every 600 s, SRTP on with the global policy, and
// everything else inherited from the global settings. NewAccount of
// [PeerToPeerAccountID] returns [PeerToPeerAccount].
func NewAccount(id string) Account {
	if id == PeerToPeerAccountID {
		return PeerToPeerAccount()
	}
	return Account{
		ID:      id,
		Enabled: true,
		SIP: AccountSIP{
			Register:         true,
			RegisterInterval: 600 * time.Second,
		},
		RTP: AccountRTP{EncryptionEnabled: true},
	}
}

// PeerToPeerAccount returns the peer-to-peer account (the reference's
// BonjourAccount) with its default settings. It has no registrar and no
// credentials; its fixed settings (no registration, no outbound proxy, no
// ICE, no STUN, no MSRP relay) are enforced by [Account.Validate]. SIP
// defaults to TCP and MSRP to TLS, as in the reference.
func PeerToPeerAccount() Account {
	return Account{
		ID:      PeerToPeerAccountID,
		Enabled: true,
		SIP: AccountSIP{
			Register:         false,
			RegisterInterval: 600 * time.Second,
			Transport:        TransportTCP,
		},
		RTP:  AccountRTP{EncryptionEnabled: true},
		MSRP: AccountMSRP{Transport: TransportTLS},
	}
}

// IsPeerToPeer reports whether a is the peer-to-peer account.
func (a *Account) IsPeerToPeer() bool { return a.ID == PeerToPeerAccountID }

// Clone returns a deep copy of a.
func (a *Account) Clone() Account {
	c := *a
	c.RTP.AudioCodecList = cloneSlice(a.RTP.AudioCodecList)
	c.NATTraversal.STUNServers = cloneSlice(a.NATTraversal.STUNServers)
	return c
}

// EffectiveAudioCodecList returns the account's codec list, or the global
// one when the account does not set it. global nil means [Default].
func (a *Account) EffectiveAudioCodecList(global *Settings) []string {
	if len(a.RTP.AudioCodecList) > 0 {
		return a.RTP.AudioCodecList
	}
	return orDefault(global).RTP.AudioCodecList
}

// EffectiveSRTPEncryption returns the SRTP policy for the account's
// streams: [SRTPDisabled] when the account disables encryption, else the
// account's policy, else the global one. global nil means [Default].
func (a *Account) EffectiveSRTPEncryption(global *Settings) SRTPEncryption {
	switch {
	case !a.RTP.EncryptionEnabled:
		return SRTPDisabled
	case a.RTP.SRTPEncryption != "":
		return a.RTP.SRTPEncryption
	}
	return orDefault(global).RTP.SRTPEncryption
}

// EffectiveMSRPTransport returns the account's MSRP transport, or the
// global one when the account does not set it. global nil means
// [Default].
func (a *Account) EffectiveMSRPTransport(global *Settings) Transport {
	if a.MSRP.Transport != "" {
		return a.MSRP.Transport
	}
	return orDefault(global).MSRP.Transport
}

func orDefault(s *Settings) *Settings {
	if s == nil {
		d := Default()
		return &d
	}
	return s
}

// Validate checks the account's settings and returns nil or the
// *SettingErrors found, joined with errors.Join; each names the account.
func (a *Account) Validate() error {
	c := checker{account: a.ID}
	a.validate(&c)
	return c.err()
}

func (a *Account) validate(c *checker) {
	if err := checkAccountID(a.ID); err != nil {
		c.add("id", a.ID, "%v", err)
	}
	if hasControl(a.DisplayName) {
		c.add("display_name", a.DisplayName, "control characters are not allowed")
	}
	if hasControl(a.Auth.Username) {
		c.add("auth.username", a.Auth.Username, "control characters are not allowed")
	}
	if p := a.SIP.OutboundProxy; p != "" {
		if err := checkAddress(p, TransportUDP, TransportTCP, TransportTLS); err != nil {
			c.add("sip.outbound_proxy", p, "%v; want host[:port][;transport=udp|tcp|tls]", err)
		}
	}
	if a.SIP.RegisterInterval < time.Second {
		c.add("sip.register_interval", formatSeconds(a.SIP.RegisterInterval), "must be at least 1 second")
	}
	switch a.SIP.Transport {
	case "", TransportUDP, TransportTCP, TransportTLS:
	default:
		c.add("sip.transport", string(a.SIP.Transport), "allowed values are udp, tcp, tls, or empty for any")
	}
	if len(a.RTP.AudioCodecList) > 0 {
		c.checkCodecList("rtp.audio_codec_list", a.RTP.AudioCodecList)
	}
	if e := a.RTP.SRTPEncryption; e != "" && !e.valid() {
		c.add("rtp.srtp_encryption", string(e), "allowed values are disabled, opportunistic, sdes_optional, sdes_mandatory, or empty to inherit")
	}
	for _, s := range a.NATTraversal.STUNServers {
		if err := checkAddress(s); err != nil {
			c.add("nat_traversal.stun_servers", strings.Join(a.NATTraversal.STUNServers, ", "), "%q: %v", s, err)
		}
	}
	if r := a.NATTraversal.MSRPRelay; r != "" {
		if err := checkAddress(r, TransportTLS, TransportTCP); err != nil {
			c.add("nat_traversal.msrp_relay", r, "%v; want host[:port][;transport=tls|tcp]", err)
		}
	}
	switch a.MSRP.Transport {
	case "", TransportTLS, TransportTCP:
	default:
		c.add("msrp.transport", string(a.MSRP.Transport), "allowed values are tls, tcp, or empty to inherit")
	}
	switch a.MSRP.ConnectionModel {
	case "", "relay", "acm":
	default:
		c.add("msrp.connection_model", a.MSRP.ConnectionModel, "allowed values are relay and acm")
	}

	if a.IsPeerToPeer() {
		const fixed = "fixed for the peer-to-peer account"
		if a.Auth.Username != "" {
			c.add("auth.username", a.Auth.Username, "%s: it has no credentials", fixed)
		}
		if a.Auth.Password != "" {
			c.add("auth.password", "(hidden)", "%s: it has no credentials", fixed)
		}
		if a.SIP.OutboundProxy != "" {
			c.add("sip.outbound_proxy", a.SIP.OutboundProxy, "%s: it has no proxy", fixed)
		}
		if a.SIP.Register {
			c.add("sip.register", "true", "%s: it never registers", fixed)
		}
		if a.NATTraversal.UseICE {
			c.add("nat_traversal.use_ice", "true", "%s: ICE is off", fixed)
		}
		if len(a.NATTraversal.STUNServers) > 0 {
			c.add("nat_traversal.stun_servers", strings.Join(a.NATTraversal.STUNServers, ", "), "%s: no STUN", fixed)
		}
		if a.NATTraversal.MSRPRelay != "" {
			c.add("nat_traversal.msrp_relay", a.NATTraversal.MSRPRelay, "%s: MSRP is direct", fixed)
		}
	}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
