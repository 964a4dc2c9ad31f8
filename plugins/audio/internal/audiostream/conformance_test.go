package audiostream_test

import (
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestConformance runs the contract's conformance suite against the audio
// plugin, in-process (with its goroutine leak check) and over gRPC.
func TestConformance(t *testing.T) {
	streamtest.Run(t, audiostream.Plugin("test"))
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it.
func TestConformanceBinary(t *testing.T) {
	streamtest.RunBinary(t, buildPlugin(t))
}

// TestConformanceICE runs the suite with ICE and SRTP on: gathering,
// checks and teardown at every point of the life cycle, leak-checked.
func TestConformanceICE(t *testing.T) {
	streamtest.Run(t, audiostream.Plugin("test"), streamtest.WithAccount(&sdk.Account{
		ID:  "ice",
		URI: "sip:ice@127.0.0.1",
		Settings: map[string]string{
			sdkaudio.SettingUseICE: "true",
			sdkaudio.SettingSRTP:   sdkaudio.SRTPMandatory,
		},
	}))
}
