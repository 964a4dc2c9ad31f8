package streamtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/examples/echo/echostream"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// exampleT stands in for the *testing.T a test passes to Record and the
// waits.
type exampleT struct{ cleanups []func() }

func (*exampleT) Helper()                           {}
func (*exampleT) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }
func (t *exampleT) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A plugin test records its provider's notifications and waits for the one
// it expects, with a deadline and no sleep.
func ExampleRecord() {
	t := &exampleT{}
	defer t.cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := sdk.NewProvider(echostream.Plugin("example"))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)
	rec := streamtest.Record(t, p)

	session := &sdk.SessionInfo{ID: "example", LocalIP: "127.0.0.1"}
	o, err := p.Create(ctx, &sdk.CreateRequest{Type: echostream.Type, Prepare: &sdk.Prepare{Session: session}})
	if err != nil {
		log.Fatal(err)
	}
	if err := o.Stream.End(ctx); err != nil {
		log.Fatal(err)
	}
	end := rec.WaitFor(t, o.Handle, sdk.MediaStreamDidEnd)
	fmt.Println(end.Name, rec.Names(o.Handle))
	// Output: MediaStreamDidEnd [MediaStreamDidInitialize MediaStreamWillEnd MediaStreamDidEnd]
}

// A stream driven without a provider posts to a Recorder directly.
func ExampleNewRecorder() {
	rec := streamtest.NewRecorder()
	env := &sdk.Env{Notifier: rec}
	env.Post(sdk.MediaStreamDidFail, sdk.DidFailData{Context: "reading", Reason: "reset"})
	n := rec.All()[0]
	fmt.Println(n.Name, string(n.Data))
	// Output: MediaStreamDidFail {"context":"reading","reason":"reset"}
}
