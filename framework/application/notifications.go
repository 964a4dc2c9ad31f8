package application

// Notification names posted by the application (sender: the
// *Application), verbatim from the reference (§6.1).
const (
	SIPApplicationWillStart        = "SIPApplicationWillStart"
	SIPApplicationDidStart         = "SIPApplicationDidStart"
	SIPApplicationWillEnd          = "SIPApplicationWillEnd"
	SIPApplicationDidEnd           = "SIPApplicationDidEnd"
	SIPApplicationFailedToStartTLS = "SIPApplicationFailedToStartTLS"
)

// FailedToStartTLSData is the data of SIPApplicationFailedToStartTLS.
type FailedToStartTLSData struct {
	// Error is why TLS could not start; it matches engine.ErrTLS.
	Error error
}

// State is the application's life-cycle state.
type State int

// The application states of the reference: None is stopped.
const (
	StateStopped State = iota
	StateStarting
	StateStarted
	StateStopping
)

// String returns the reference's name of the state.
func (s State) String() string {
	switch s {
	case StateStopped:
		return "stopped"
	case StateStarting:
		return "starting"
	case StateStarted:
		return "started"
	case StateStopping:
		return "stopping"
	}
	return "unknown"
}
