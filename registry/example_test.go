package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// Example loads a plugin directory, lists what it found and builds a stream
// for an incoming m-line.
func Example() {
	dir, _ := os.MkdirTemp("", "plugins")
	defer os.RemoveAll(dir)
	bin, _ := os.ReadFile(echoBin) // the echo plugin, built by TestMain
	_ = os.WriteFile(filepath.Join(dir, "sipstreams-plugin-echo"), bin, 0o755)

	ctx := context.Background()
	reg := registry.New(registry.WithDir(dir))
	defer reg.Close(ctx)
	if err := reg.Discover(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range reg.Plugins() {
		fmt.Println(p.File, p.State)
	}
	for _, t := range reg.Types() {
		fmt.Println("type", t.Type, "priority", t.Priority)
	}
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 5004 RTP/AVP 0\r\n" +
		"m=application 5006 UDP x-sipstreams-echo\r\n"
	for i := range 2 {
		s, err := reg.NewFromSDP(ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer, StreamIndex: i})
		if err != nil {
			fmt.Printf("m-line %d: %v\n", i, err)
			continue
		}
		fmt.Printf("m-line %d: %s stream\n", i, s.Type())
		_ = s.End(ctx)
	}
	// Output:
	// sipstreams-plugin-echo ready
	// type echo priority 5
	// m-line 0: unknown stream: no stream type accepts m=audio RTP/AVP
	// m-line 1: echo stream
}
