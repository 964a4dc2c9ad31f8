// Command sipstreams-plugin-audio serves the "audio" stream type (the
// reference's AudioStream: RTP/SRTP, codecs, DTMF, hold, recording) and the
// plugin-scope sound-device methods to a sipstreams host.
//
//	go build -ldflags "-X main.version=1.0.0" -o plugins/sipstreams-plugin-audio ./plugins/audio
//
// Run by hand, `sipstreams-plugin-audio describe` prints its manifest.
package main

import (
	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/device/system"
	"github.com/sipstreams/sipstreams/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	var opts []audiostream.Option
	if backend, err := system.New(); err == nil { // else: the null clock
		opts = append(opts, audiostream.WithBackend(backend))
	}
	sdk.Serve(audiostream.Plugin(version, opts...))
}
