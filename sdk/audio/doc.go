// Package audio is the caller's side of the "audio" stream type served by
// the sipstreams-plugin-audio plugin: the Go counterpart of the reference
// SDK's AudioStream (sipsimple/streams/rtp/audio.py) and of the plugin-scope
// audio devices of its SIPApplication (voice and alert mixers).
//
// A host never imports the plugin. It drives an audio stream through
// sdk.Stream like any other stream and reaches what is specific to audio
// with the typed wrappers of this package, built on sdk.Call:
//
//   - stream scope: [SendDTMF], [StartRecording], [StopRecording],
//     [GetStatistics], [SetInput] (a WAV file as the stream's input instead
//     of the microphone, so a headless host can send a tone) and
//     [ReadAttributes] (the stream's own attributes, [Attributes]);
//   - plugin scope, on the sdk.Provider: [ListDevices], [SelectDevices],
//     [PlayWAV] and [PlayTones] on the alert device.
//
// The notifications an audio stream posts besides the generic MediaStream*
// ones are named by the constants below, each with its data struct: decode
// them with sdk.Notification.Decode. Where the seed's middleware API (the
// reference's documented API: AudioStream*, the recordings as
// AudioStream*RecordingAudio) and its 5.5 code (RTPStream*,
// AudioStream*Recording) name the same event differently, the plugin posts
// both, back to back with the same data, the seed's name first; the table
// above the constants lists the pairs.
//
// The account settings the stream reads are the Setting* constants; values
// arrive flattened in sdk.Account.Settings.
package audio
