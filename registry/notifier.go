package registry

import (
	"encoding/json"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Notification is what the registry posts for every plugin notification:
// its name, the host-side *Stream (or the *Plugin, for plugin-scope ones)
// as Sender, and its data — the sdk's typed struct for the generic
// MediaStream* names, json.RawMessage for type-specific ones.
type Notification struct {
	Name   string
	Sender any
	Time   time.Time
	Data   any
}

// Notifier receives every notification the registry posts, in order per
// sender. It must not block: it is called from the goroutine that reads
// a plugin's notification stream. The host's notification center is
// plugged in here (framework/application does it); the registry itself
// depends on no observation mechanism.
type Notifier interface {
	Notify(Notification)
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(Notification)

// Notify calls f(n).
func (f NotifierFunc) Notify(n Notification) { f(n) }

// discard is the Notifier of a registry built without WithNotifier.
type discard struct{}

func (discard) Notify(Notification) {}

// decodeData turns a plugin notification's JSON data into the sdk's typed
// struct for the generic MediaStream* names, and json.RawMessage otherwise.
func decodeData(n *sdk.Notification) any {
	switch n.Name {
	case sdk.MediaStreamDidFail:
		var d sdk.DidFailData
		_ = n.Decode(&d)
		return d
	case sdk.MediaStreamDidNotInitialize:
		var d sdk.DidNotInitializeData
		_ = n.Decode(&d)
		return d
	case sdk.MediaStreamDidEnd:
		var d sdk.DidEndData
		_ = n.Decode(&d)
		return d
	case sdk.MediaStreamDidInitialize, sdk.MediaStreamDidStart, sdk.MediaStreamWillEnd:
		return nil
	}
	if len(n.Data) == 0 {
		return nil
	}
	return json.RawMessage(n.Data)
}
