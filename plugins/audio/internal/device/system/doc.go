// Package system is the device.Backend for real sound devices, through
// miniaudio (github.com/gen2brain/malgo, cgo).
//
// New initialises a miniaudio context trying PulseAudio first, then ALSA
// (the order that works on a Linux desktop and on a headless machine
// running PulseAudio with a null sink). Devices lists playback and capture
// devices with their miniaudio IDs (hex) and names; either is accepted in a
// device.Config, as are device.SystemDefault and device.None.
//
// Open starts a duplex device (or a playback-only one when the input is
// device.None, or capture-only when the output is) in mono signed 16-bit at
// the requested rate with 20 ms periods. miniaudio calls back on its own
// real-time thread; the callback only moves samples between the device and
// two device.Rings and wakes the stream's goroutine, which calls the
// Processor a whole 20 ms frame at a time and keeps the playback ring three
// frames ahead (more if the device's callbacks are longer than asked); the
// capture ring is a small jitter buffer. Thus the output device's callback
// is the mixer's clock and the Processor never runs on the audio thread.
//
// A device that stops calling back for two seconds, or that miniaudio
// stops, is reported lost (device.LostStream): miniaudio does not report a
// PulseAudio server that died, and cannot uninitialise such a device
// (ma_device_uninit blocks forever), so a lost device is abandoned.
package system
