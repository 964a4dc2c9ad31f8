package mixer

// Port is a participant of a Mixer: a Source, a Sink or both.
type Port interface {
	// Name identifies the port in logs and errors; unique within a Mixer.
	Name() string
}

// Source produces audio at the Mixer's sample rate.
type Source interface {
	Port
	// ReadFrame fills frame with the next 20 ms. It runs on the clock's
	// goroutine and must neither block nor call the Mixer.
	ReadFrame(frame []int16)
}

// Sink consumes audio at the Mixer's sample rate.
type Sink interface {
	Port
	// WriteFrame takes the next 20 ms; frame is only valid during the call.
	// It runs on the clock's goroutine and must neither block nor call the
	// Mixer.
	WriteFrame(frame []int16)
}
