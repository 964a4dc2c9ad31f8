package main

import (
	"testing"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestDescribe builds the binary and checks what `describe` prints, and
// that it refuses to run without a host.
func TestDescribe(t *testing.T) {
	m := streamtest.Describe(t, streamtest.Build(t, ".", "1.2.3-test"))
	if m.Name != "filetransfer" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 ||
		m.StreamTypes[0].Type != filetransfer.Type || m.StreamTypes[0].Priority != filetransfer.Priority {
		t.Fatalf("manifest %+v", m)
	}
}
