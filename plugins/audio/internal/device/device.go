package device

import (
	"context"
	"fmt"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
)

// Pseudo device names, as in the reference's audio settings.
const (
	SystemDefault = "system_default"
	None          = "none"
)

// Info describes one device.
type Info struct {
	ID      string // backend-specific, stable while the device exists
	Name    string // human-readable; also accepted where an ID is
	Input   bool   // can capture
	Output  bool   // can play
	Default bool   // the backend's default for its direction
}

// Processor consumes and produces audio one 20 ms frame at a time. in holds
// the captured frame, or is nil when nothing is captured (the Null clock);
// the Processor fills out with the frame to play, unless it is nil because
// nothing plays it (the Null clock without an Output). Both have
// SamplesPerFrame(rate) samples and are only valid during the call. Calls
// never overlap.
type Processor interface {
	ProcessFrame(in, out []int16)
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(in, out []int16)

// ProcessFrame calls f.
func (f ProcessorFunc) ProcessFrame(in, out []int16) { f(in, out) }

// Config selects the devices of a Stream by name or ID (SystemDefault, None,
// or an Info's ID or Name) and its sample rate.
type Config struct {
	Input      string
	Output     string
	SampleRate int
}

// Validate checks the sample rate.
func (c Config) Validate() error {
	if err := pcm.CheckRate(c.SampleRate); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	return nil
}

// IsNull reports whether the configuration uses no device at all.
func (c Config) IsNull() bool {
	return (c.Input == None || c.Input == "") && (c.Output == None || c.Output == "")
}

// Stream is an open device calling a Processor.
type Stream interface {
	// Close stops the Stream. When it returns, the Processor is no longer
	// being called and will not be called again.
	Close() error
}

// LostStream is implemented by Streams that can stop on their own, such as
// a device being unplugged or the sound server going away. Lost is closed
// when that happens (not when Close is called).
type LostStream interface {
	Stream
	Lost() <-chan struct{}
}

// Backend lists and opens devices.
type Backend interface {
	// Name identifies the backend in logs and errors.
	Name() string
	// Devices lists the backend's devices.
	Devices(ctx context.Context) ([]Info, error)
	// Open starts a Stream calling p every 20 ms of audio.
	Open(ctx context.Context, cfg Config, p Processor) (Stream, error)
}

// List returns the devices of b preceded by the SystemDefault and None
// pseudo devices, the choices of the reference's device settings.
func List(ctx context.Context, b Backend) ([]Info, error) {
	out := []Info{
		{ID: SystemDefault, Name: "System default", Input: true, Output: true},
		{ID: None, Name: "None", Input: true, Output: true},
	}
	devs, err := b.Devices(ctx)
	if err != nil {
		return out, fmt.Errorf("device: list %s: %w", b.Name(), err)
	}
	return append(out, devs...), nil
}
