package msrp_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Example connects two sessions over loopback: the passive side listens
// and accepts by session-id, the active side dials and binds with an empty
// SEND, then sends a message with a success report.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	l, err := msrp.Listen(ctx, "127.0.0.1:0", msrp.Config{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	// The URIs would come from the SDP offer/answer (a=path).
	bob := l.URI("")
	alice := msrp.URI{Host: "127.0.0.1", Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"}

	received := msrp.HandlerFuncs{
		Chunk: func(ctx context.Context, c *msrp.Chunk) int {
			body, _ := io.ReadAll(c)
			fmt.Printf("bob got %s %q\n", c.ContentType, body)
			return msrp.StatusOK
		},
	}
	accepting, err := l.Prepare(msrp.SessionOptions{Local: bob, Remote: []msrp.URI{alice}, Handler: received})
	if err != nil {
		panic(err)
	}

	reports := make(chan *msrp.Report, 1)
	aliceSession, err := msrp.Dial(ctx, alice, []msrp.URI{bob}, msrp.HandlerFuncs{
		Report: func(ctx context.Context, r *msrp.Report) { reports <- r },
	}, msrp.Config{})
	if err != nil {
		panic(err)
	}
	defer aliceSession.Close()
	bobSession, err := accepting.Accept(ctx)
	if err != nil {
		panic(err)
	}
	defer bobSession.Close()

	d, err := aliceSession.Send(ctx, msrp.Outgoing{
		ContentType:   "text/plain",
		Body:          strings.NewReader("Hello Bob"),
		Size:          9,
		SuccessReport: true,
	})
	if err != nil {
		panic(err)
	}
	res, err := d.Wait(ctx)
	fmt.Println("delivery:", res.Code, res.Comment, err)
	r := <-reports
	fmt.Println("report:", r.Status, r.Range, r.MessageID == d.MessageID)
	// Output:
	// bob got text/plain "Hello Bob"
	// delivery: 200 OK <nil>
	// report: 000 200 OK 1-9/9 true
}
