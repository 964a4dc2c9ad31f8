package mixer

// Port is a participant of a Mixer: a Source, a Sink or both.
type Port interface {
	// Name identifies the port in logs and errors; unique within a Mixer.
	Name() string
}

// Source produces audio at the Mixer's sample rate (or its own: RatedPort).
type Source interface {
	Port
	// ReadFrame fills frame with the next 20 ms. It runs on one of the
	// clock's goroutines (never two calls of one port at once) and must
	// neither block nor call the Mixer.
	ReadFrame(frame []int16)
}

// Sink consumes audio at the Mixer's sample rate (or its own: RatedPort).
type Sink interface {
	Port
	// WriteFrame takes the next 20 ms; frame is only valid during the call
	// and must not be modified (it may be a Source's own frame). It runs on
	// one of the clock's goroutines (never two calls of one port at once)
	// and must neither block nor call the Mixer.
	WriteFrame(frame []int16)
}

// RatedPort is a Port that works at a sample rate of its own rather than
// the Mixer's: its frames hold 20 ms at SampleRate, which must be one of
// pcm.SupportedRates and may change between ticks (a re-INVITE changed the
// codec). The Mixer converts rates on the connections that need it, once
// per connection, and hands a Sink fed by one Source of its own rate that
// Source's frame as it is: a G.711 call playing an 8 kHz file is never
// resampled, nor mixed, at the sound device's rate (issue 14: pay only for
// what a call uses).
type RatedPort interface {
	Port
	SampleRate() int
}
