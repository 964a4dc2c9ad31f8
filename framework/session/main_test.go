package session

import (
	"os"
	"testing"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/internal/plugintest"
)

// pluginDir holds the real echo plugin binary, built once for the tests.
var pluginDir string

func TestMain(m *testing.M) {
	engine.ReleaseAcceptedInvites() // as the host does
	os.Exit(plugintest.Main(m, func(dir, _ string) { pluginDir = dir }))
}
