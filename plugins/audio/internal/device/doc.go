// Package device is the sound-device layer under the audio mixers: it
// delivers a clock of 20 ms frames, with the captured input and a buffer for
// the output, to a Processor (a mixer).
//
// A Backend lists devices and opens Streams. Two implementations exist:
//
//   - Null (this package): no sound card at all. Its Stream is a clock of our
//     own, a ticker calling the Processor every 20 ms with silent input and
//     discarding the output. miniaudio's own null backend is not usable
//     through malgo (its context answers "No backend"), hence this one.
//   - device/system: real devices through miniaudio (malgo), PulseAudio
//     first, then ALSA.
//
// Driver owns the Stream of one mixer. Use switches devices at run time:
// it closes the current Stream and opens the new one; if that fails it falls
// back to the Null clock and returns an *OpenError, so the mixer keeps
// ticking (calls in progress go on, silently) and never panics. A Stream
// that implements LostStream (device/system does) and stops on its own, as
// when the sound server dies, also moves the Driver to the Null clock;
// Driver.Lost then reports ErrDeviceLost until the next Use.
//
// Ring is the bounded single-producer single-consumer sample queue that
// decouples a device's real-time callback from the Processor.
//
// Device names follow the reference's audio settings: SystemDefault
// ("system_default") is the backend's default device and None ("none")
// is no device.
package device
