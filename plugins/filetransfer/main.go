// Command sipstreams-plugin-filetransfer serves the "file-transfer" stream
// type (package ftstream): the reference's FileTransferStream, files
// pushed or pulled over MSRP (RFC 5547), verified by SHA-1 and resumed
// after an interruption. Callers use package sdk/filetransfer.
//
// Build it into the host's plugin directory, setting the version:
//
//	go build -ldflags "-X main.version=1.0.0" -o plugins/sipstreams-plugin-filetransfer ./plugins/filetransfer
//
// Run by hand, `sipstreams-plugin-filetransfer describe` prints its manifest.
package main

import (
	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/ftstream"
	"github.com/sipstreams/sipstreams/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { sdk.Serve(ftstream.Plugin(version)) }
