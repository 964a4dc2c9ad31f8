package sdk_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/examples/echo/echostream"
)

// ExampleNewProvider runs the reference echo plugin in-process, as a test or
// an embedding host does, and drives one stream through its life: the same
// calls a host makes to a plugin process over gRPC.
func ExampleNewProvider() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p, err := sdk.NewProvider(echostream.Plugin("example"))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)

	// An outgoing stream: create it, join it to a session, build the offer.
	o, err := p.Create(ctx, &sdk.CreateRequest{Type: "echo"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stream type:", o.Type)
	session := &sdk.SessionInfo{ID: "example", Direction: sdk.DirectionOutgoing, LocalIP: "127.0.0.1"}
	if err := o.Stream.Initialize(ctx, &sdk.InitializeRequest{Session: session, Direction: sdk.DirectionOutgoing}); err != nil {
		log.Fatal(err)
	}
	offer, err := o.Stream.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		log.Fatal(err)
	}
	m, err := sdk.ParseMedia(offer.Media)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("offer:", m.MediaName.Media, m.MediaName.Protos, m.MediaName.Formats, sdk.Direction(nil, m))
	if err := o.Stream.End(ctx); err != nil {
		log.Fatal(err)
	}

	// What the stream posted, in order.
	ns, err := p.Notifications(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for {
		n, err := ns.Recv()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("notification:", n.Name)
		if n.Name == sdk.MediaStreamDidEnd {
			break
		}
	}
	// Output:
	// stream type: echo
	// offer: application [UDP] [x-sipstreams-echo] sendrecv
	// notification: MediaStreamDidInitialize
	// notification: MediaStreamWillEnd
	// notification: MediaStreamDidEnd
}

// ExamplePlugin_close gives a plugin a Close: what its streams share (here
// a count of the streams made; a sound device or a cache in a real plugin)
// is released once, after the live streams ended, when the provider closes
// — or, for a plugin process, when the host stops it.
func ExamplePlugin_close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	plugin := echostream.Plugin("example")
	made := 0
	create := plugin.Types[0].Create
	plugin.Types[0].Create = func(ctx context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
		made++
		return create(ctx, req, env)
	}
	plugin.Close = func(context.Context) error {
		fmt.Println("plugin closed after", made, "streams")
		return nil
	}
	p, err := sdk.NewProvider(plugin)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		if _, err := p.Create(ctx, &sdk.CreateRequest{Type: "echo"}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("live streams:", p.Len())
	if err := p.Close(ctx); err != nil { // ends the two streams, then calls Close
		log.Fatal(err)
	}
	fmt.Println("live streams:", p.Len())
	// Output:
	// live streams: 2
	// plugin closed after 2 streams
	// live streams: 0
}
