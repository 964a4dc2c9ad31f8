// Command sipstreams-plugin-desktopsharing serves the "desktop-sharing"
// stream type (package dsstream): the reference's DesktopSharingStream, a
// VNC desktop tunnelled over MSRP, in the server role (our screen is
// shared) or the viewer role. Callers use package sdk/desktopsharing.
//
// Build it into the host's plugin directory, setting the version:
//
//	go build -ldflags "-X main.version=1.0.0" -o plugins/sipstreams-plugin-desktopsharing ./plugins/desktopsharing
//
// Run by hand, `sipstreams-plugin-desktopsharing describe` prints its
// manifest.
package main

import (
	"github.com/sipstreams/sipstreams/plugins/desktopsharing/internal/dsstream"
	"github.com/sipstreams/sipstreams/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { sdk.Serve(dsstream.Plugin(version)) }
