package application_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// Alice calls Bob on loopback with audio and chat; Bob answers every call.
// The chat message is queued on Alice's chat stream before the call starts.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	doc := config.NewDocument() // no sound card: the audio streams run on the null clock
	doc.Settings.Audio.InputDevice, doc.Settings.Audio.OutputDevice, doc.Settings.Audio.AlertDevice = "none", "none", "none"
	conf := storage.NewMemory()
	_ = conf.Save(ctx, doc)
	start := func(user string) *application.Application {
		app := application.New(application.WithUser(user), application.WithPluginDir(os.Getenv("SIPSTREAMS_PLUGIN_DIR")),
			application.WithListen([]engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}))
		if err := app.Start(ctx, conf); err != nil {
			panic(err)
		}
		return app
	}
	alice, bob := start("alice"), start("bob")
	defer alice.Stop(ctx)
	defer bob.Stop(ctx)

	got := make(chan string, 1)
	defer bob.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		switch n.Name {
		case session.SIPSessionNewIncoming:
			_ = bob.Answer(ctx, n.Sender.(*session.Session))
		case chat.GotMessage:
			var d chat.GotMessageData
			_ = json.Unmarshal(n.Data.(json.RawMessage), &d)
			got <- string(d.Message.Content)
		}
	}), "", nil)()

	call, err := alice.NewCall(ctx, bob.Account().URI)
	if err != nil {
		panic(err)
	}
	defer call.Close()
	events := make(chan notify.Notification, 16)
	defer alice.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) { events <- n }), "", call.Session())()
	_, _ = call.AddStream(ctx, "audio")
	chatStream, _ := call.AddStream(ctx, "chat")
	_, _ = chat.SendMessage(ctx, chatStream, chat.Message{Content: []byte("hello Bob")})
	if err := call.Connect(ctx); err != nil {
		panic(err)
	}
	for n := range events {
		switch d := n.Data.(type) {
		case session.DidStartData:
			fmt.Println("started with", d.Streams[0].Type(), "and", d.Streams[1].Type())
			fmt.Println("Bob got:", <-got)
			call.Session().End()
		case session.DidFailData:
			fmt.Println("failed:", d.FailureReason)
			return
		case session.DidEndData:
			fmt.Println("ended by", d.Originator)
			return
		}
	}
	// Output:
	// started with audio and chat
	// Bob got: hello Bob
	// ended by local
}
