package msrpstream

import (
	"strings"
	"testing"
)

// TestTransportTrace: with the account's logs.trace_msrp, each side posts
// MSRPTransportTrace for what it sends and receives, the SEND among it;
// without, nothing.
func TestTransportTrace(t *testing.T) {
	on := map[string]string{"msrp.transport": "tcp", SettingTraceMSRP: "true"}
	off := map[string]string{"msrp.transport": "tcp"}
	offerer, answerer := negotiate(t, on, off)
	send(t, offerer, answerer, "traced body")
	var out, in bool
	for _, n := range offerer.rec.Of(0, TransportTrace) {
		d := data[TraceData](t, &n)
		out = out || (d.Direction == "outgoing" && strings.Contains(d.Data, " SEND\r\n") && strings.Contains(d.Data, "traced body"))
		in = in || (d.Direction == "incoming" && strings.Contains(d.Data, " 200 OK"))
	}
	if !out || !in {
		t.Errorf("offerer traced the SEND out: %v, its 200 in: %v; names %v", out, in, offerer.rec.Names(0))
	}
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
