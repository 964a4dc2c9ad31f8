package config

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// DefaultUserAgent is the user agent of [Default]. The host replaces it
// with [UserAgent](version) once it knows its build version.
const DefaultUserAgent = "sipstreams dev"

// UserAgent returns the user agent string for a build version, "sipstreams
// <version>". It is also the SDP s= line.
func UserAgent(version string) string { return "sipstreams " + version }

// Settings are the global settings (the reference's SIPSimpleSettings).
// The zero value is not useful: start from [Default]. The config tags give
// each field's name in the configuration file and in [Settings.Flatten].
type Settings struct {
	// UserAgent is sent in SIP requests and as the SDP s= line.
	UserAgent string `config:"user_agent"`
	// DefaultAccount is the ID of the account used when none is named:
	// [PeerToPeerAccountID], the ID of one of the document's accounts, or
	// "" for none.
	DefaultAccount string `config:"default_account"`

	Audio        AudioSettings        `config:"audio"`
	RTP          RTPSettings          `config:"rtp"`
	SIP          SIPSettings          `config:"sip"`
	MSRP         MSRPSettings         `config:"msrp"`
	Chat         ChatSettings         `config:"chat"`
	TLS          TLSSettings          `config:"tls"`
	FileTransfer FileTransferSettings `config:"file_transfer"`
	// DesktopSharing are read by the desktop sharing plugin.
	DesktopSharing DesktopSharingSettings `config:"desktop_sharing"`
	Logs           LogsSettings           `config:"logs"`
}

// AudioSettings are the audio device settings. The audio plugin owns the
// devices; the host only passes these names on.
type AudioSettings struct {
	// InputDevice, OutputDevice and AlertDevice name sound devices;
	// "system_default" is the system's default device and "" is none.
	InputDevice  string `config:"input_device"`
	OutputDevice string `config:"output_device"`
	AlertDevice  string `config:"alert_device"`
	// SampleRate is the mixers' sample rate in Hz: 16000, 32000 or 48000.
	SampleRate int `config:"sample_rate"`
	// RecordingsDirectory is where call recordings are written; "" lets
	// the audio plugin choose.
	RecordingsDirectory string `config:"recordings_directory"`
	// MaxStreams bounds the audio streams alive at once in the audio
	// plugin (each holds an RTP/RTCP port pair); beyond it a new audio
	// stream is refused.
	MaxStreams int `config:"max_streams"`
	// CodecDirectory is the directory of codec modules (WebAssembly
	// files, *.wasm) the audio plugin loads beside its built-in codecs;
	// "" is "codecs" beside the plugin binary. Adding, replacing or
	// removing a file there takes effect without a restart.
	CodecDirectory string `config:"codec_directory"`
}

// RTPSettings are the RTP media settings.
type RTPSettings struct {
	// PortRange is the local UDP port range for RTP and RTCP.
	PortRange PortRange `config:"port_range"`
	// Timeout is how long an established sendrecv stream may receive
	// nothing before RTPStreamDidTimeout; 0 disables the check.
	Timeout time.Duration `config:"timeout"`
	// AudioCodecList enables and orders audio codecs by name. Codecs come
	// from the audio plugin, so names are not restricted to a fixed list.
	AudioCodecList []string `config:"audio_codec_list"`
	// SRTPEncryption is the SRTP policy.
	SRTPEncryption SRTPEncryption `config:"srtp_encryption"`
	// SharedSockets is how many RTP/RTCP socket pairs the audio plugin's
	// streams share; 0 (the default) gives every stream a pair of its own.
	SharedSockets int `config:"shared_sockets"`
}

// SIPSettings are the SIP signalling settings.
type SIPSettings struct {
	// UDPPort, TCPPort and TLSPort are the local listening ports; 0 picks
	// an ephemeral port.
	UDPPort int `config:"udp_port"`
	TCPPort int `config:"tcp_port"`
	TLSPort int `config:"tls_port"`
	// TransportList enables and orders the SIP transports.
	TransportList []Transport `config:"transport_list"`
	// InviteTimeout is how long an outgoing INVITE may stay unanswered.
	InviteTimeout time.Duration `config:"invite_timeout"`
	// ListenAddresses are the local IP addresses to listen on; empty
	// means every address.
	ListenAddresses []string `config:"listen_addresses"`
	// ConnectionIdleTimeout closes a SIP TCP or TLS connection on which
	// nothing arrived for this long while no transaction is in progress
	// on it, and one whose message has been arriving for this long (a
	// slowloris).
	ConnectionIdleTimeout time.Duration `config:"connection_idle_timeout"`
	// TLSHandshakeTimeout closes an accepted SIP TLS connection that has
	// not finished its handshake within it.
	TLSHandshakeTimeout time.Duration `config:"tls_handshake_timeout"`
	// MaxConnectionsPerAddress bounds the SIP TCP and TLS connections
	// accepted from one IP address; more are closed at once.
	MaxConnectionsPerAddress int `config:"max_connections_per_address"`
	// MaxSessions bounds the sessions alive at once; an INVITE beyond it
	// is refused with 503 and Retry-After.
	MaxSessions int `config:"max_sessions"`
	// MaxMediaStreams bounds the m-lines of an offer the host takes; a
	// larger offer is refused with 488 before any stream is built.
	MaxMediaStreams int `config:"max_media_streams"`
	// MaxSetupDelay is the overload control's target, in seconds: while
	// setting up new sessions takes longer, the host sets up fewer at
	// once and answers the INVITEs beyond 503 with Retry-After at once
	// (framework/session's overload control); 0 turns it off.
	MaxSetupDelay time.Duration `config:"max_setup_delay"`
}

// MSRPSettings are the MSRP settings.
type MSRPSettings struct {
	// Transport is the MSRP transport: "tls" or "tcp".
	Transport Transport `config:"transport"`
}

// ChatSettings are the chat stream's settings (sdk/chat's
// chat.prefer_cpim, chat.max_message_size, chat.max_reassembly_memory and
// chat.send_window).
type ChatSettings struct {
	// PreferCPIM wraps every message in Message/CPIM when both ends accept
	// it (the reference's prefer_cpim); false sends plain bodies unless
	// metadata needs CPIM.
	PreferCPIM bool `config:"prefer_cpim"`
	// MaxMessageSize bounds an incoming chat message in bytes; a larger
	// one is refused with MSRP 413.
	MaxMessageSize int `config:"max_message_size"`
	// MaxReassemblyMemory bounds, in bytes, the incoming chat messages
	// still arriving that the chat plugin holds over all its sessions; a
	// chunk beyond it is refused with MSRP 413.
	MaxReassemblyMemory int `config:"max_reassembly_memory"`
	// SendWindow is how many outgoing chat messages a stream sends ahead
	// of their MSRP transaction responses (in order: the connection keeps
	// it); once that many wait, the next waits for the oldest.
	SendWindow int `config:"send_window"`
}

// TLSSettings are the TLS settings, shared by SIP and MSRP.
type TLSSettings struct {
	// CAList is a PEM file of trusted certificate authorities; "" means
	// the system's.
	CAList string `config:"ca_list"`
	// Certificate is a PEM file with the local certificate chain; ""
	// means none.
	Certificate string `config:"certificate"`
	// PrivateKey is a PEM file with the certificate's private key; ""
	// means the key is in the Certificate file.
	PrivateKey string `config:"private_key"`
	// VerifyServer makes TLS clients verify the server's certificate
	// against the system's roots and CAList, and its name (the default);
	// false accepts any certificate. SIP only for the peer-to-peer
	// account, whose MSRP peers present certificates no authority signs
	// (see [Account.Flatten]).
	VerifyServer bool `config:"verify_server"`
}

// FileTransferSettings are the file transfer settings.
type FileTransferSettings struct {
	// Directory is where received files are stored; "" lets the file
	// transfer plugin choose (the reference uses ~/Downloads).
	Directory string `config:"directory"`
}

// DesktopSharingSettings are the desktop sharing settings (the plugin's
// desktop_sharing.vnc_server, handler, viewer_timeout and
// internal_window; see sdk/desktopsharing).
type DesktopSharingSettings struct {
	// VNCServer is the host:port of the VNC server whose screen is shared
	// when a peer asks to view ours.
	VNCServer string `config:"vnc_server"`
	// Handler is the handler of incoming streams: external (a real VNC
	// server or viewer) or internal (the application's own VNC code).
	Handler string `config:"handler"`
	// ViewerTimeout is how long the external viewer handler waits for the
	// local VNC viewer to connect.
	ViewerTimeout time.Duration `config:"viewer_timeout"`
	// InternalWindow bounds, in bytes, the data an internal handler
	// delivers and the application has not acknowledged.
	InternalWindow int `config:"internal_window"`
}

// LogsSettings select protocol traces.
type LogsSettings struct {
	TraceSIP  bool `config:"trace_sip"`
	TraceMSRP bool `config:"trace_msrp"`
	// TraceSIPKeys shows the SRTP keys of SDP bodies (a=crypto inline
	// keys, a=key-mgmt) in the SIP trace; they are masked otherwise.
	TraceSIPKeys bool `config:"trace_sip_keys"`
}

// Default returns the default settings, which mirror the reference's. Every
// call returns fresh slices.
func Default() Settings {
	return Settings{
		UserAgent:      DefaultUserAgent,
		DefaultAccount: PeerToPeerAccountID,
		Audio: AudioSettings{
			InputDevice:  "system_default",
			OutputDevice: "system_default",
			AlertDevice:  "system_default",
			SampleRate:   32000,
			MaxStreams:   200,
		},
		RTP: RTPSettings{
			PortRange:      PortRange{Start: 50000, End: 50500},
			Timeout:        30 * time.Second,
			AudioCodecList: []string{"opus", "G722", "PCMU", "PCMA"},
			SRTPEncryption: SRTPOpportunistic,
		},
		SIP: SIPSettings{
			TransportList:            []Transport{TransportTLS, TransportTCP, TransportUDP},
			InviteTimeout:            90 * time.Second,
			ConnectionIdleTimeout:    2 * time.Minute,
			TLSHandshakeTimeout:      10 * time.Second,
			MaxConnectionsPerAddress: 64,
			MaxSessions:              1000,
			MaxMediaStreams:          16,
			MaxSetupDelay:            20 * time.Millisecond,
		},
		MSRP: MSRPSettings{Transport: TransportTLS},
		Chat: ChatSettings{PreferCPIM: true, MaxMessageSize: 16 << 20, MaxReassemblyMemory: 32 << 20, SendWindow: 512},
		TLS:  TLSSettings{VerifyServer: true},
		DesktopSharing: DesktopSharingSettings{
			VNCServer: "127.0.0.1:5900", Handler: "external",
			ViewerTimeout: 5 * time.Second, InternalWindow: 4 << 20,
		},
	}
}

// Clone returns a deep copy of s.
func (s *Settings) Clone() Settings {
	c := *s
	c.RTP.AudioCodecList = cloneSlice(s.RTP.AudioCodecList)
	c.SIP.TransportList = cloneSlice(s.SIP.TransportList)
	c.SIP.ListenAddresses = cloneSlice(s.SIP.ListenAddresses)
	return c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// Validate checks every setting and returns nil or the *SettingErrors
// found, joined with errors.Join. It checks the form of DefaultAccount;
// [Document.Validate] also checks that the account exists.
func (s *Settings) Validate() error {
	var c checker
	s.validate(&c)
	return c.err()
}

func (s *Settings) validate(c *checker) {
	if strings.TrimSpace(s.UserAgent) == "" {
		c.add("user_agent", s.UserAgent, "must not be empty")
	}
	if s.DefaultAccount != "" {
		if err := checkAccountID(s.DefaultAccount); err != nil {
			c.add("default_account", s.DefaultAccount, "%v", err)
		}
	}

	switch s.Audio.SampleRate {
	case 16000, 32000, 48000:
	default:
		c.add("audio.sample_rate", strconv.Itoa(s.Audio.SampleRate), "allowed values are 16000, 32000 and 48000")
	}
	if s.Audio.MaxStreams <= 0 {
		c.add("audio.max_streams", strconv.Itoa(s.Audio.MaxStreams), "must be a positive number of streams")
	}

	r := s.RTP.PortRange
	switch {
	case r.Start < 1024 || r.Start > 65535 || r.End < 1024 || r.End > 65535:
		c.add("rtp.port_range", r.String(), "ports must be between 1024 and 65535")
	case r.Start >= r.End:
		c.add("rtp.port_range", r.String(), "start must be below end")
	case r.Start%2 != 0:
		c.add("rtp.port_range", r.String(), "start must be even (RTP uses the even port of each pair)")
	}
	if s.RTP.SharedSockets < 0 || s.RTP.SharedSockets > 64 {
		c.add("rtp.shared_sockets", strconv.Itoa(s.RTP.SharedSockets), "must be 0 (a socket pair per stream) to 64")
	}
	if s.RTP.Timeout < 0 {
		c.add("rtp.timeout", formatSeconds(s.RTP.Timeout), "must not be negative (0 disables the timeout)")
	}
	c.checkCodecList("rtp.audio_codec_list", s.RTP.AudioCodecList)
	if !s.RTP.SRTPEncryption.valid() {
		c.add("rtp.srtp_encryption", string(s.RTP.SRTPEncryption), "allowed values are disabled, opportunistic, sdes_optional and sdes_mandatory")
	}

	for _, p := range []struct {
		key  string
		port int
	}{{"sip.udp_port", s.SIP.UDPPort}, {"sip.tcp_port", s.SIP.TCPPort}, {"sip.tls_port", s.SIP.TLSPort}} {
		if p.port < 0 || p.port > 65535 {
			c.add(p.key, strconv.Itoa(p.port), "must be between 1 and 65535, or 0 for an ephemeral port")
		}
	}
	if s.SIP.TCPPort != 0 && s.SIP.TCPPort == s.SIP.TLSPort {
		c.add("sip.tls_port", strconv.Itoa(s.SIP.TLSPort), "TCP and TLS cannot listen on the same port")
	}
	c.checkTransportList("sip.transport_list", s.SIP.TransportList)
	if s.SIP.InviteTimeout <= 0 {
		c.add("sip.invite_timeout", formatSeconds(s.SIP.InviteTimeout), "must be positive")
	}
	if s.SIP.ConnectionIdleTimeout <= 0 {
		c.add("sip.connection_idle_timeout", formatSeconds(s.SIP.ConnectionIdleTimeout), "must be positive")
	}
	if s.SIP.TLSHandshakeTimeout <= 0 {
		c.add("sip.tls_handshake_timeout", formatSeconds(s.SIP.TLSHandshakeTimeout), "must be positive")
	}
	if n := s.SIP.MaxConnectionsPerAddress; n < 1 || n > 65535 {
		c.add("sip.max_connections_per_address", strconv.Itoa(n), "must be between 1 and 65535")
	}
	if n := s.SIP.MaxSessions; n < 1 {
		c.add("sip.max_sessions", strconv.Itoa(n), "must be at least 1")
	}
	if s.SIP.MaxSetupDelay < 0 {
		c.add("sip.max_setup_delay", formatSeconds(s.SIP.MaxSetupDelay), "must not be negative (0 turns the overload control off)")
	}
	if n := s.SIP.MaxMediaStreams; n < 1 || n > 1024 {
		c.add("sip.max_media_streams", strconv.Itoa(n), "must be between 1 and 1024")
	}
	for _, a := range s.SIP.ListenAddresses {
		if _, err := netip.ParseAddr(a); err != nil {
			c.add("sip.listen_addresses", strings.Join(s.SIP.ListenAddresses, ", "), "%q is not an IP address", a)
		}
	}

	if t := s.MSRP.Transport; t != TransportTLS && t != TransportTCP {
		c.add("msrp.transport", string(t), "allowed values are tls and tcp")
	}
	if s.Chat.MaxMessageSize <= 0 {
		c.add("chat.max_message_size", strconv.Itoa(s.Chat.MaxMessageSize), "must be a positive number of bytes")
	}
	if _, _, err := net.SplitHostPort(s.DesktopSharing.VNCServer); err != nil {
		c.add("desktop_sharing.vnc_server", s.DesktopSharing.VNCServer, "must be host:port")
	}
	if h := s.DesktopSharing.Handler; h != "external" && h != "internal" {
		c.add("desktop_sharing.handler", h, "allowed values are external, internal")
	}
	if s.DesktopSharing.ViewerTimeout <= 0 {
		c.add("desktop_sharing.viewer_timeout", s.DesktopSharing.ViewerTimeout.String(), "must be positive")
	}
	if s.DesktopSharing.InternalWindow <= 0 {
		c.add("desktop_sharing.internal_window", strconv.Itoa(s.DesktopSharing.InternalWindow), "must be a positive number of bytes")
	}
	if s.Chat.MaxReassemblyMemory <= 0 {
		c.add("chat.max_reassembly_memory", strconv.Itoa(s.Chat.MaxReassemblyMemory), "must be a positive number of bytes")
	}
	if s.Chat.SendWindow <= 0 || s.Chat.SendWindow > 65536 {
		c.add("chat.send_window", strconv.Itoa(s.Chat.SendWindow), "must be a number of messages from 1 to 65536")
	}
	if s.TLS.PrivateKey != "" && s.TLS.Certificate == "" {
		c.add("tls.private_key", s.TLS.PrivateKey, "a private key needs tls.certificate")
	}
}

func (c *checker) checkTransportList(key string, list []Transport) {
	value := joinTransports(list)
	if len(list) == 0 {
		c.add(key, value, "at least one transport is needed: udp, tcp or tls")
		return
	}
	seen := make(map[Transport]bool, len(list))
	for _, t := range list {
		switch t {
		case TransportUDP, TransportTCP, TransportTLS:
		default:
			c.add(key, value, "unknown transport %q; allowed are udp, tcp and tls", string(t))
			continue
		}
		if seen[t] {
			c.add(key, value, "transport %q listed twice", string(t))
		}
		seen[t] = true
	}
}
