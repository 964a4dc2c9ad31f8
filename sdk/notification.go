package sdk

import (
	"encoding/json"
	"fmt"
	"time"
)

// Generic notification names every stream posts (verbatim from the reference).
const (
	MediaStreamDidInitialize    = "MediaStreamDidInitialize"
	MediaStreamDidNotInitialize = "MediaStreamDidNotInitialize"
	MediaStreamDidStart         = "MediaStreamDidStart"
	MediaStreamDidFail          = "MediaStreamDidFail"
	MediaStreamWillEnd          = "MediaStreamWillEnd"
	MediaStreamDidEnd           = "MediaStreamDidEnd"
)

// Notification is one notification posted by a plugin. Handle is the stream
// it concerns (0 for plugin-scope notifications); Data is a JSON object.
type Notification struct {
	Handle uint64
	Name   string
	Time   time.Time
	Data   json.RawMessage
	Seq    uint64
}

// Decode decodes the notification's data into v.
func (n *Notification) Decode(v any) error {
	if len(n.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(n.Data, v); err != nil {
		return fmt.Errorf("sdk: decode %s data: %w", n.Name, err)
	}
	return nil
}

// DidNotInitializeData is the data of MediaStreamDidNotInitialize.
type DidNotInitializeData struct {
	Reason string `json:"reason"`
}

// DidFailData is the data of MediaStreamDidFail. Context is where it failed:
// sdp_negotiation, start, reading, sending, transferring, update, or plugin
// (the plugin process died).
type DidFailData struct {
	Context string `json:"context"`
	Reason  string `json:"reason"`
}

// DidEndData is the data of MediaStreamDidEnd: the last failure reason, or
// empty.
type DidEndData struct {
	Error string `json:"error,omitempty"`
}

// Notifier posts notifications on behalf of one stream (or of the plugin).
// Post never blocks on the host and never drops a notification; data is
// marshalled to JSON at once, so the caller may reuse it.
type Notifier interface {
	Post(name string, data any)
}

// StreamEvent is one of a stream's own notifications as the host hands it
// to the stream's owner (its session): Data is the typed struct above for
// MediaStreamDidFail, MediaStreamDidNotInitialize and MediaStreamDidEnd,
// nil for the other generic names, and the JSON object
// (json.RawMessage) for a type's own notifications.
type StreamEvent struct {
	Name string
	Time time.Time
	Data any
}

// Reason returns the reason of a MediaStreamDidFail or
// MediaStreamDidNotInitialize event ("" for other events).
func (e StreamEvent) Reason() string {
	switch d := e.Data.(type) {
	case DidFailData:
		return d.Reason
	case DidNotInitializeData:
		return d.Reason
	}
	return ""
}
