// Package audiostream is the "audio" stream type of the audio plugin: the
// Go counterpart of the reference SDK's AudioStream (RTPStream over
// pjmedia, sipsimple/streams/rtp), assembled from the plugin's parts.
//
// [Plugin] returns the sdk.Plugin that the plugin binary serves and tests
// run in-process. Its callers' contract (method names, argument and result
// types, notification names and data, account settings) is package
// sdk/audio; this package implements it.
//
// # A stream's life
//
// The states, the generic notifications, the goroutine that gathers or
// checks ICE and End are an sdk.Lifecycle's; the hold request, the
// directions of reference §3.5 and the hold flags an sdk.HoldState's.
//
//   - NewFromSDP accepts an m=audio line as the reference's new_from_sdp
//     (§3.2): RTP/AVP or RTP/SAVP, a codec in common with
//     rtp.audio_codec_list, and an offer the SRTP policy allows (no plain
//     offer under sdes_mandatory, no RTP/SAVP when SRTP is disabled);
//     anything else is sdk.ErrInvalidStream. Create makes an outgoing one.
//     Both refuse a stream beyond audio.max_streams alive in the plugin
//     (sdk.ErrBusy: the host answers the call 503 with Retry-After).
//   - Initialize binds an even/odd RTP/RTCP port pair from rtp.port_range
//     and, with nat_traversal.use_ice, gathers ICE candidates on a goroutine
//     the stream owns (initializing) before MediaStreamDidInitialize.
//   - GetLocalMedia writes the offer (codecs in rtp.audio_codec_list order,
//     telephone-event/8000 on payload type 101 with 0-15, a=ptime:20,
//     a=rtcp, a=crypto per rtp.srtp_encryption, ICE attributes) or the
//     answer (one common codec, §3.3, plus telephone-event if offered). The
//     direction follows §3.5 (sdk.HoldState).
//   - Start negotiates from both descriptions, runs ICE checks when both
//     sides offered ICE (starting; plain RTP if they fail), builds the
//     rtpsession.Session (SRTP keys from the a=crypto pair), joins the
//     voice mixer and posts RTPStreamDidEnableEncryption or
//     RTPStreamDidNotEnableEncryption, then MediaStreamDidStart.
//   - Update applies a re-INVITE in place: a new codec replaces encoder and
//     decoder, a new remote address rebinds the peer keeping SSRC, sequence
//     and SRTP state (AudioStreamDidChangeRTPParameters), a new direction
//     changes the hold flags (AudioStreamDidChangeHoldState).
//   - Events that the seed's API and the reference's code name differently
//     are posted under both names, the seed's first (see package
//     sdk/audio).
//   - Hold takes the stream out of the media path at once; while either
//     side holds, nothing is sent but keep-alives.
//   - End stops a recording, leaves the mixer, closes RTP and ICE and waits
//     for every goroutine the stream started. A stream that fails to
//     initialize or to start closes its ports and ICE sockets at once,
//     before MediaStreamDidNotInitialize or MediaStreamDidFail.
//
// # Media path
//
// The voice mixer (package mixer) is shared by the plugin's streams and runs
// only while a stream uses it — with a sound-device backend, and 1 s more
// after the last (WithDeviceLinger), so that calls in a row open the sound
// device once, as a softphone keeps it a moment after a call; its 20 ms clock (the sound card's, or the
// null clock on a headless machine or when a device fails to open) drives
// each stream's port: WriteFrame resamples what the stream's input produced
// (the microphone, or a WAV file set with set_input or audio.input_file) to
// the codec's rate, encodes it and sends it, or sends the next RFC 4733
// packet while a digit is queued; ReadFrame pops the jitter buffer, decodes
// (or conceals a loss) and resamples to the mixer's rate. Received
// telephone-events become AudioStreamGotDTMF. A recording is a WAV
// recorder port fed by the stream and its input (microphone or file), as
// the reference's recorder in the stream's bridge.
//
// Plugin-scope methods play WAV files and tone lists on the alert mixer,
// list the sound devices and switch them.
package audiostream
