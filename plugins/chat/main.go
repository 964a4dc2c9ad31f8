// Command sipstreams-plugin-chat serves the "chat" stream type (package
// chatstream): the reference's ChatStream, instant messaging over MSRP with
// CPIM and is-composing indications. Callers use package sdk/chat.
//
// Build it into the host's plugin directory, setting the version:
//
//	go build -ldflags "-X main.version=1.0.0" -o plugins/sipstreams-plugin-chat ./plugins/chat
//
// Run by hand, `sipstreams-plugin-chat describe` prints its manifest.
package main

import (
	"github.com/sipstreams/sipstreams/plugins/chat/internal/chatstream"
	"github.com/sipstreams/sipstreams/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { sdk.Serve(chatstream.Plugin(version)) }
