package msrpstream

import (
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// TestTransportTrace: with the account's logs.trace_msrp, each side posts
// MSRPTransportTrace for what it sends and receives, the SEND among it;
// without, nothing.
func TestTransportTrace(t *testing.T) {
	on := map[string]string{"msrp.transport": "tcp", SettingTraceMSRP: "true"}
	off := map[string]string{"msrp.transport": "tcp"}
	offerer, answerer := negotiate(t, on, off)
	send(t, offerer, answerer, "traced body")
	// Each side traces from its own goroutines: the SEND's trace may come
	// after the 200 that answered it.
	traced := func(dir string, has ...string) func(sdk.Notification) bool {
		return func(n sdk.Notification) bool {
			var d TraceData
			if n.Name != TransportTrace || n.Decode(&d) != nil || d.Direction != dir {
				return false
			}
			for _, h := range has {
				if !strings.Contains(d.Data, h) {
					return false
				}
			}
			return true
		}
	}
	offerer.rec.Wait(t, "the SEND traced out", traced("outgoing", " SEND\r\n", "traced body"))
	offerer.rec.Wait(t, "its 200 traced in", traced("incoming", " 200 OK"))
	for _, n := range answerer.rec.Names(0) {
		if n == TransportTrace || n == LibraryLog {
			t.Fatalf("the answerer traced without logs.trace_msrp: %s", n)
		}
	}
	// The library's own log lines (the connection made) as MSRPLibraryLog.
	var established bool
	for _, n := range offerer.rec.Of(0, LibraryLog) {
		d := data[LibraryLogData](t, &n)
		established = established || (d.Level == "DEBUG" && strings.HasPrefix(d.Message, "connection established") && strings.Contains(d.Message, "remote="))
	}
	if !established {
		t.Errorf("no MSRPLibraryLog for the connection made: %v", offerer.rec.Names(0))
	}
}
