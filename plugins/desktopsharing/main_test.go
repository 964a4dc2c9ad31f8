package main

import (
	"testing"

	"github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestDescribe builds the binary and checks what `describe` prints, and
// that it refuses to run without a host.
func TestDescribe(t *testing.T) {
	m := streamtest.Describe(t, streamtest.Build(t, ".", "1.2.3-test"))
	if m.Name != "desktopsharing" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 || m.StreamTypes[0].Type != desktopsharing.Type ||
		len(m.StreamTypes[0].Match.Media) != 1 || m.StreamTypes[0].Match.Media[0] != desktopsharing.MediaType {
		t.Fatalf("manifest %+v", m)
	}
}
