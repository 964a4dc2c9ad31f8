package main

import (
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestBinary builds the plugin as `make` does and checks what `describe`
// prints, and that it refuses to run without a host.
func TestBinary(t *testing.T) {
	m := streamtest.Describe(t, streamtest.Build(t, ".", "1.2.3-test"))
	if m.Name != "audio" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	st := m.StreamTypes[0]
	if st.Type != "audio" || st.Priority != 1 || !st.HoldSupported || strings.Join(st.Codecs, ",") != "opus,G722,PCMU,PCMA" {
		t.Errorf("stream type %+v", st)
	}
	if got := strings.Join(m.Methods, ","); got != "list_codecs,list_devices,play_tones,play_wav,select_devices" {
		t.Errorf("methods %s", got)
	}
}
