package audio

import "github.com/sipstreams/sipstreams/sdk"

// Type is the stream type name, and Priority its dispatch priority (the
// reference's AudioStream.type and priority).
const (
	Type     = "audio"
	Priority = 1
)

// Account settings read by the audio stream (sdk.Account.Settings keys).
const (
	// SettingCodecList orders the codecs offered and accepted, e.g.
	// "opus,G722,PCMU,PCMA" (the default).
	SettingCodecList = "rtp.audio_codec_list"
	// SettingPortRange is the RTP port range, "50000-50500" by default.
	SettingPortRange = "rtp.port_range"
	// SettingSRTP is the SRTP policy: one of the SRTP* constants.
	SettingSRTP = "rtp.srtp_encryption"
	// SettingTimeout is the RTP timeout in seconds ("30"; "0" disables it).
	SettingTimeout = "rtp.timeout"
	// SettingUseICE enables ICE ("true" or "false", the default).
	SettingUseICE = "nat_traversal.use_ice"
	// SettingSTUNServers lists STUN servers, comma-separated host[:port].
	SettingSTUNServers = "nat_traversal.stun_servers"
	// SettingInputDevice, SettingOutputDevice and SettingAlertDevice name
	// the sound devices ("system_default", "none" or a device name or ID).
	SettingInputDevice  = "audio.input_device"
	SettingOutputDevice = "audio.output_device"
	SettingAlertDevice  = "audio.alert_device"
	// SettingRecordingsDirectory is where StartRecording without a file
	// name records to.
	SettingRecordingsDirectory = "audio.recordings_directory"
	// SettingSampleRate is the voice mixer's rate in Hz (16000, 32000, the
	// default, or 48000).
	SettingSampleRate = "audio.sample_rate"
	// SettingInputFile, an extension of this plugin, makes a WAV file the
	// stream's input from the start, looped, instead of the microphone.
	SettingInputFile = "audio.input_file"
	// SettingMaxStreams bounds the audio streams alive at once in the
	// plugin, over all accounts and sessions (each holds an RTP/RTCP port
	// pair, and ICE sockets with ICE); beyond it a new stream is refused
	// with sdk.ErrInvalidStream. Default DefaultMaxStreams.
	SettingMaxStreams = "audio.max_streams"
	// SettingCodecDirectory is the directory of codec modules
	// (WebAssembly files, *.wasm) the plugin loads beside its built-in
	// codecs; default "codecs" beside the plugin binary. Files added,
	// replaced or removed there are seen by the next stream, listing or
	// RefreshCodecs, without a restart.
	SettingCodecDirectory = "audio.codec_directory"
	// SettingSharedSockets, an extension of this plugin, is how many
	// RTP/RTCP socket pairs the plugin's streams share ("0", the default:
	// a pair of its own for every stream, as the reference). With N > 0
	// every stream of the account advertises one of N shared pairs, its
	// packets read and sent in batches and told apart by source address
	// and SSRC (each m-line then carries a=ssrc): the media engine for
	// many calls, which neither uses a port per call nor reaches
	// rtp.port_range's limit.
	SettingSharedSockets = "rtp.shared_sockets"
)

// MaxSharedSockets bounds SettingSharedSockets.
const MaxSharedSockets = 64

// DefaultMaxStreams is the default of SettingMaxStreams: 200 streams, 400
// of the 500 ports of the default rtp.port_range.
const DefaultMaxStreams = 200

// SRTP policies, the values of SettingSRTP (the reference's
// rtp.encryption key_negotiation without ZRTP, plus "disabled").
const (
	// SRTPDisabled offers RTP/AVP without a=crypto and answers plain RTP.
	SRTPDisabled = "disabled"
	// SRTPOpportunistic offers RTP/AVP with a=crypto and takes what the
	// remote offers (the reference's default, ZRTP left out).
	SRTPOpportunistic = "opportunistic"
	// SRTPOptional offers RTP/AVP with a=crypto; plain RTP is accepted.
	SRTPOptional = "sdes_optional"
	// SRTPMandatory offers RTP/SAVP with a=crypto and refuses plain RTP.
	SRTPMandatory = "sdes_mandatory"
)

// Stream-scope methods (sdk.Stream.Invoke).
const (
	MethodSendDTMF       = "send_dtmf"       // SendDTMFArgs → nothing
	MethodStartRecording = "start_recording" // RecordingArgs → RecordingResult
	MethodStopRecording  = "stop_recording"  // nothing → RecordingResult
	MethodStatistics     = "statistics"      // nothing → Statistics
	MethodSetInput       = "set_input"       // SetInputArgs → nothing
	// MethodRefreshCodecs takes the codec directory's current modules
	// into the stream's codec list for its next offer (nothing → Codecs).
	MethodRefreshCodecs = "refresh_codecs"
)

// Plugin-scope methods (sdk.Provider.Invoke).
const (
	MethodListDevices   = "list_devices"   // nothing → DeviceList
	MethodSelectDevices = "select_devices" // SelectDevicesArgs → Devices
	MethodPlayWAV       = "play_wav"       // PlayWAVArgs → nothing, once played
	MethodPlayTones     = "play_tones"     // PlayTonesArgs → nothing, once played
	MethodListCodecs    = "list_codecs"    // ListCodecsArgs → CodecList
)

// Notifications posted by an audio stream, besides the generic ones.
//
// The seed's middleware API (the reference's documented AudioStream API)
// and the reference's 5.5 code name several events differently. The plugin
// posts such an event under both names, back to back with the same data,
// the seed's name first:
//
//	seed's name (posted first)               also posted as
//	AudioStreamDidTimeout                    RTPStreamDidTimeout
//	AudioStreamWillStartRecordingAudio       AudioStreamWillStartRecording
//	AudioStreamDidStartRecordingAudio        AudioStreamDidStartRecording
//	AudioStreamWillStopRecordingAudio        AudioStreamWillStopRecording
//	AudioStreamDidStopRecordingAudio         AudioStreamDidStopRecording
//	AudioStreamDidChangeHoldState            RTPStreamDidChangeHoldState
//	AudioStreamDidChangeRTPParameters        RTPStreamDidChangeRTPParameters
//	AudioStreamICENegotiationStateDidChange  RTPStreamICENegotiationStateDidChange
//	AudioStreamICENegotiationDidSucceed      RTPStreamICENegotiationDidSucceed
//	AudioStreamICENegotiationDidFail         RTPStreamICENegotiationDidFail
//
// An application written against either API gets every event once.
const (
	// GotDTMF: a DTMF digit arrived (DTMFData).
	GotDTMF = "AudioStreamGotDTMF"
	// DidTimeout and RTPDidTimeout: no RTP arrived for rtp.timeout seconds
	// while the direction is sendrecv (no data).
	DidTimeout    = "AudioStreamDidTimeout"
	RTPDidTimeout = "RTPStreamDidTimeout"
	// WillStartRecordingAudio, DidStartRecordingAudio,
	// WillStopRecordingAudio and DidStopRecordingAudio frame a recording
	// (RecordingData): the seed's names.
	WillStartRecordingAudio = "AudioStreamWillStartRecordingAudio"
	DidStartRecordingAudio  = "AudioStreamDidStartRecordingAudio"
	WillStopRecordingAudio  = "AudioStreamWillStopRecordingAudio"
	DidStopRecordingAudio   = "AudioStreamDidStopRecordingAudio"
	// WillStartRecording, DidStartRecording, WillStopRecording and
	// DidStopRecording are the same events under the reference code's
	// names, each posted right after its seed name.
	WillStartRecording = "AudioStreamWillStartRecording"
	DidStartRecording  = "AudioStreamDidStartRecording"
	WillStopRecording  = "AudioStreamWillStopRecording"
	DidStopRecording   = "AudioStreamDidStopRecording"
	// DidChangeHoldState and RTPDidChangeHoldState: a hold flag changed
	// (HoldStateData).
	DidChangeHoldState    = "AudioStreamDidChangeHoldState"
	RTPDidChangeHoldState = "RTPStreamDidChangeHoldState"
	// DidChangeRTPParameters and RTPDidChangeRTPParameters: a re-INVITE
	// changed the codec or the remote address (RTPParametersData).
	DidChangeRTPParameters    = "AudioStreamDidChangeRTPParameters"
	RTPDidChangeRTPParameters = "RTPStreamDidChangeRTPParameters"
	// DidEnableEncryption: SRTP is active (EncryptionData).
	DidEnableEncryption = "RTPStreamDidEnableEncryption"
	// DidNotEnableEncryption: SRTP was offered but is not used
	// (NotEncryptedData).
	DidNotEnableEncryption = "RTPStreamDidNotEnableEncryption"
	// ICENegotiationDidSucceed and ICENegotiationDidFail report ICE
	// (ICESucceededData, ICEFailedData); MediaStreamDidStart follows
	// either way. RTPICENegotiationDidSucceed and RTPICENegotiationDidFail
	// are the reference code's names for them.
	ICENegotiationDidSucceed    = "AudioStreamICENegotiationDidSucceed"
	ICENegotiationDidFail       = "AudioStreamICENegotiationDidFail"
	RTPICENegotiationDidSucceed = "RTPStreamICENegotiationDidSucceed"
	RTPICENegotiationDidFail    = "RTPStreamICENegotiationDidFail"
	// ICENegotiationStateDidChange (and RTPICENegotiationStateDidChange)
	// follows each ICE component's state (ICEStateData).
	ICENegotiationStateDidChange    = "AudioStreamICENegotiationStateDidChange"
	RTPICENegotiationStateDidChange = "RTPStreamICENegotiationStateDidChange"
)

// Values of HoldStateData.Originator.
const (
	OriginatorLocal  = sdk.OriginatorLocal
	OriginatorRemote = sdk.OriginatorRemote
)

// ChangeRemotePeerRebind is RTPParametersData.Change when a re-INVITE moved
// the remote address or port; ChangeCodec when it changed the codec.
const (
	ChangeRemotePeerRebind = "remote_peer_rebind"
	ChangeCodec            = "codec"
)

// DTMFData is the data of GotDTMF.
type DTMFData struct {
	Digit string `json:"digit"`
}

// RecordingData is the data of the four recording notifications. Reason is
// set on DidStopRecording when the recording ended on an error.
type RecordingData struct {
	Filename string `json:"filename"`
	Reason   string `json:"reason,omitempty"`
}

// HoldStateData is the data of DidChangeHoldState: the SDK's, posted by
// sdk.HoldState.
type HoldStateData = sdk.HoldStateData

// RTPParametersData is the data of DidChangeRTPParameters.
type RTPParametersData struct {
	Change           string `json:"change"`
	OldRemoteAddress string `json:"old_remote_address,omitempty"`
	OldRemotePort    int    `json:"old_remote_port,omitempty"`
	NewRemoteAddress string `json:"new_remote_address,omitempty"`
	NewRemotePort    int    `json:"new_remote_port,omitempty"`
	Codec            string `json:"codec,omitempty"`
	SampleRate       int    `json:"sample_rate,omitempty"`
}

// EncryptionData is the data of DidEnableEncryption.
type EncryptionData struct {
	Type   string `json:"type"`   // "SRTP/SDES"
	Cipher string `json:"cipher"` // e.g. "AES_CM_128_HMAC_SHA1_80"
}

// NotEncryptedData is the data of DidNotEnableEncryption.
type NotEncryptedData struct {
	Reason string `json:"reason"`
}

// ICESucceededData is the data of ICENegotiationDidSucceed.
type ICESucceededData struct {
	DurationMillis   int64    `json:"duration_ms"`
	LocalCandidates  []string `json:"local_candidates"`
	RemoteCandidates []string `json:"remote_candidates"`
	ValidList        []string `json:"valid_list"`
}

// ICEStateData is the data of ICENegotiationStateDidChange: pion's state
// names ("New", "Checking", "Connected", "Failed", "Closed", …) of one
// component (1 RTP, 2 RTCP).
type ICEStateData struct {
	Component int    `json:"component"`
	PrevState string `json:"prev_state"`
	State     string `json:"state"`
}

// ICEFailedData is the data of ICENegotiationDidFail.
type ICEFailedData struct {
	Reason string `json:"reason"`
}

// SendDTMFArgs are the arguments of MethodSendDTMF.
type SendDTMFArgs struct {
	Digit string `json:"digit"`
}

// RecordingArgs are the arguments of MethodStartRecording; an empty
// Filename records under the recordings directory with a generated name.
type RecordingArgs struct {
	Filename string `json:"filename,omitempty"`
}

// RecordingResult names the file being (or just) recorded.
type RecordingResult struct {
	Filename string `json:"filename"`
}

// SetInputArgs are the arguments of MethodSetInput: a WAV file to send
// instead of the microphone, played Loops times (0 forever); an empty File
// goes back to the microphone.
type SetInputArgs struct {
	File  string `json:"file,omitempty"`
	Loops int    `json:"loops,omitempty"`
}

// RTTStatistics are round-trip figures from RTCP.
type RTTStatistics struct {
	LastMillis float64 `json:"last_ms"`
}

// RXStatistics describe what the stream received.
type RXStatistics struct {
	Packets      uint64  `json:"packets"`
	Bytes        uint64  `json:"bytes"`
	PacketsLost  int64   `json:"packets_lost"`
	LossRate     float64 `json:"loss_rate"`
	JitterMillis float64 `json:"jitter_ms"`
	SRTPFailures uint64  `json:"srtp_failures"`
	Dropped      uint64  `json:"dropped"`
	DTMFDigits   uint64  `json:"dtmf_digits"`
	// Played and Concealed count the 20 ms frames the jitter buffer gave
	// to the decoder and those concealed as lost.
	Played    uint64 `json:"played"`
	Concealed uint64 `json:"concealed"`
}

// TXStatistics describe what the stream sent and what the remote reports
// about it.
type TXStatistics struct {
	Packets      uint64  `json:"packets"`
	Bytes        uint64  `json:"bytes"`
	PacketsLost  int64   `json:"packets_lost"`
	LossRate     float64 `json:"loss_rate"`
	JitterMillis float64 `json:"jitter_ms"`
}

// Statistics is the result of MethodStatistics, the reference's
// statistics attribute (rtt, rx, tx).
type Statistics struct {
	RTT          RTTStatistics `json:"rtt"`
	RX           RXStatistics  `json:"rx"`
	TX           TXStatistics  `json:"tx"`
	RTCPSent     uint64        `json:"rtcp_sent"`
	RTCPReceived uint64        `json:"rtcp_received"`
	// Ticks counts the 20 ms clock ticks the stream has seen since it
	// started: a time base for the packet counters that needs no clock.
	Ticks uint64 `json:"ticks"`
}

// Encryption describes the stream's encryption (the reference's
// stream.encryption without ZRTP).
type Encryption struct {
	Type   string `json:"type,omitempty"` // "SRTP/SDES" or empty
	Active bool   `json:"active"`
	Cipher string `json:"cipher,omitempty"`
}

// Attributes are the audio stream's own attributes, the JSON object in
// sdk.Attributes.Extra. Addresses are IPs and ports; empty or zero while
// unknown.
type Attributes struct {
	Codec string `json:"codec,omitempty"`
	// CodecModule is the file of the codec module that provides Codec
	// and CodecVersion the module's version; both empty for a built-in
	// codec.
	CodecModule              string             `json:"codec_module,omitempty"`
	CodecVersion             string             `json:"codec_version,omitempty"`
	SampleRate               int                `json:"sample_rate,omitempty"`
	Direction                sdk.MediaDirection `json:"direction,omitempty"`
	SRTPActive               bool               `json:"srtp_active"`
	Encryption               Encryption         `json:"encryption"`
	ICEActive                bool               `json:"ice_active"`
	LocalRTPAddress          string             `json:"local_rtp_address,omitempty"`
	LocalRTPPort             int                `json:"local_rtp_port,omitempty"`
	RemoteRTPAddress         string             `json:"remote_rtp_address,omitempty"`
	RemoteRTPPort            int                `json:"remote_rtp_port,omitempty"`
	RemoteRTPAddressSDP      string             `json:"remote_rtp_address_sdp,omitempty"`
	RemoteRTPAddressReceived string             `json:"remote_rtp_address_received,omitempty"`
	LocalRTPCandidateType    string             `json:"local_rtp_candidate_type,omitempty"`
	RemoteRTPCandidateType   string             `json:"remote_rtp_candidate_type,omitempty"`
	RecordingFilename        string             `json:"recording_filename,omitempty"`
	// SignalLevel is the peak level, 0..255, of the last 20 ms sent (the
	// input) and received: the reference's signal_level (tx, rx).
	SignalLevel [2]int     `json:"signal_level"`
	InputFile   string     `json:"input_file,omitempty"`
	Statistics  Statistics `json:"statistics"`
}

// Device is one sound device.
type Device struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Input   bool   `json:"input"`
	Output  bool   `json:"output"`
	Default bool   `json:"default,omitempty"`
}

// Devices are the devices the plugin's mixers use. A device that could not
// be opened leaves its mixer on the null clock: OnNull tells.
type Devices struct {
	Input  string `json:"input"`
	Output string `json:"output"`
	Alert  string `json:"alert"`
	OnNull bool   `json:"on_null"`
}

// DeviceList is the result of MethodListDevices.
type DeviceList struct {
	Devices []Device `json:"devices"`
	Current Devices  `json:"current"`
}

// SelectDevicesArgs are the arguments of MethodSelectDevices; an empty
// field keeps the current device.
type SelectDevicesArgs struct {
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	Alert  string `json:"alert,omitempty"`
}

// PlayWAVArgs are the arguments of MethodPlayWAV: the file, how many times
// (0 forever, until the call's context ends) and the volume in percent
// (0 means 100).
type PlayWAVArgs struct {
	File   string `json:"file"`
	Loops  int    `json:"loops,omitempty"`
	Volume int    `json:"volume,omitempty"`
}

// Tone is one entry of a tone list: two frequencies in Hz (0 for none)
// and a duration in milliseconds. F1 = F2 = 0 is a pause, as in the
// reference's play_tones([(f1, f2, ms), ...]).
type Tone struct {
	F1     float64 `json:"f1"`
	F2     float64 `json:"f2"`
	Millis int     `json:"ms"`
}

// PlayTonesArgs are the arguments of MethodPlayTones.
type PlayTonesArgs struct {
	Tones  []Tone `json:"tones"`
	Volume int    `json:"volume,omitempty"`
}

// Values of CodecInfo.State.
const (
	// CodecBuiltIn: a built-in codec in use.
	CodecBuiltIn = "built-in"
	// CodecOverridden: a built-in codec that a module of the same name
	// replaces.
	CodecOverridden = "overridden"
	// CodecLoaded: a module that new streams use.
	CodecLoaded = "loaded"
	// CodecRetired: a module that was replaced or removed, still used by
	// running streams until they end.
	CodecRetired = "retired"
	// CodecRefused: a file that could not be loaded (Reason says why).
	CodecRefused = "refused"
)

// CodecInfo describes one codec of the plugin, built in or from a module
// file, or a module file that was refused.
type CodecInfo struct {
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	File        string `json:"file,omitempty"`   // module file, in the codec directory
	SHA256      string `json:"sha256,omitempty"` // of the module file
	State       string `json:"state"`            // one of the Codec* states
	Reason      string `json:"reason,omitempty"` // why refused or overridden
	PayloadType int    `json:"payload_type"`     // -1: dynamic
	ClockRate   int    `json:"clock_rate,omitempty"`
	SampleRate  int    `json:"sample_rate,omitempty"`
	Channels    int    `json:"channels,omitempty"`
	// Streams counts the encoders and decoders of a module in use.
	Streams int `json:"streams,omitempty"`
	// Failures counts the module's instances discarded after a trap, a
	// timeout or running out of memory.
	Failures int `json:"failures,omitempty"`
}

// CodecList is the result of MethodListCodecs.
type CodecList struct {
	// Directory is the codec directory listed; DirectoryError why it
	// could not be read ("" when it was).
	Directory      string      `json:"directory"`
	DirectoryError string      `json:"directory_error,omitempty"`
	Codecs         []CodecInfo `json:"codecs"`
}

// ListCodecsArgs are the arguments of MethodListCodecs: the codec
// directory to list ("" for the plugin's default).
type ListCodecsArgs struct {
	Directory string `json:"directory,omitempty"`
}

// Codecs is the result of MethodRefreshCodecs: the stream's codec list
// now, in offer order, and whether it changed.
type Codecs struct {
	Codecs  []string `json:"codecs"`
	Changed bool     `json:"changed"`
}
