// Command sipstreams-plugin-echo is the reference vendor plugin: it serves
// the "echo" stream type (package echostream) to a sipstreams host.
//
// Build it into the host's plugin directory, setting the version:
//
//	go build -ldflags "-X main.version=1.0.0" -o plugins/sipstreams-plugin-echo ./sdk/examples/echo
//
// Run by hand, `sipstreams-plugin-echo describe` prints its manifest.
package main

import (
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/examples/echo/echostream"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { sdk.Serve(echostream.Plugin(version)) }
