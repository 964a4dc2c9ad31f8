package main

import (
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestBinary builds the plugin as a vendor's `go build` does and checks
// what `describe` prints, and that it refuses to run without a host.
func TestBinary(t *testing.T) {
	bin := streamtest.Build(t, ".", "1.2.3-test")
	m := streamtest.Describe(t, bin)
	if m.Name != "echo" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 || m.StreamTypes[0].Type != "echo" {
		t.Fatalf("manifest %+v", m)
	}
	if _, stderr, _ := streamtest.Exec(t, bin); !strings.Contains(stderr, "plugin") {
		t.Errorf("without a host, stderr does not say it is a plugin: %q", stderr)
	}
}
