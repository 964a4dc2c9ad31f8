// Package mixer is the audio plugin's conference bridge: the reference's
// AudioMixer, AudioBridge and IAudioPort (sipsimple/audio.py over pjmedia's
// conference bridge).
//
// A Port is anything with a name that is a Source (produces 20 ms frames),
// a Sink (consumes them), or both. A Mixer holds ports and directed
// connections between them and runs a 20 ms clock at its sample rate
// (DefaultSampleRate, 32000 Hz, as the reference's audio.sample_rate). On
// every tick it reads one frame from each Source that is connected to
// something, then gives each Sink the saturating mix of the Sources
// connected to it, never including the Sink itself (conference semantics: a
// port that both produces and consumes does not hear itself). Connections
// can change and ports can be muted while the clock runs.
//
// A port may work at a rate of its own (RatedPort: a call at its codec's
// rate, a file at the file's). The Mixer then converts on the connections
// whose ends differ, once per connection, and a Sink fed by a single Source
// of its own rate gets that Source's frame untouched: a G.711 call playing
// an 8 kHz file into the network costs an encode and a decode, not two
// resamplings and a mix at the device's rate. A device that captures or
// plays nothing (the null clock) is left out of the mix altogether.
//
// The clock comes from the sound device: a device.Driver calls the Mixer's
// ProcessFrame from the output device's callback, or from a ticker of its
// own when the device is "none" or fails to open. Device() is the port of
// the sound card (the microphone as a Source, the speaker as a Sink).
// NewVoice builds the voice mixer (input and output device) and NewAlert the
// alert mixer (output only), the two mixers of the reference's
// SIPApplication.
//
// Bridge connects its ports as a full mesh, like the reference's
// AudioBridge: every Source in it feeds every other Sink in it. Connections
// are counted, so a pair of ports can share two bridges.
//
// The ports provided here are WAVPlayer (a file, looped, paused, delayed,
// signalling when done), WAVRecorder (records whatever is connected to it:
// in a call's bridge both the remote party and the microphone) and
// ToneGenerator. Ports run on the clock's goroutines (a mixer of many
// ports spreads a tick over the processors; one port's calls never
// overlap): ReadFrame and WriteFrame must not block and must not call back
// into the Mixer.
package mixer
