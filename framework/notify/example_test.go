package notify_test

import (
	"context"
	"fmt"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// SIPSessionDidFailData is the payload of a SIPSessionDidFail notification.
type SIPSessionDidFailData struct {
	Code   int
	Reason string
}

type session struct{ id string }

func Example() {
	center := notify.New()
	defer center.Close()

	s := &session{id: "call-1"}

	// Everything this session posts.
	var perSession notify.Recorder
	defer center.Subscribe(&perSession, "", s)()

	// Every SIPSessionDidFail, whatever the sender.
	failures := make(chan string, 10)
	defer center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		d := n.Data.(SIPSessionDidFailData)
		failures <- fmt.Sprintf("%d %s", d.Code, d.Reason)
	}), "SIPSessionDidFail", nil)()

	center.Post(notify.Notification{Name: "SIPSessionNewOutgoing", Sender: s})
	center.Post(notify.Notification{Name: "SIPSessionDidFail", Sender: s,
		Data: SIPSessionDidFailData{Code: 486, Reason: "Busy Here"}})
	center.Post(notify.Notification{Name: "SIPSessionDidFail", Sender: &session{id: "call-2"},
		Data: SIPSessionDidFailData{Code: 404, Reason: "Not Found"}})

	// Delivery is asynchronous: wait for it before looking at the results.
	if err := center.Flush(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(perSession.Names())
	close(failures)
	for f := range failures {
		fmt.Println(f)
	}
	// Output:
	// [SIPSessionNewOutgoing SIPSessionDidFail]
	// 486 Busy Here
	// 404 Not Found
}

func ExampleRecorder_Wait() {
	center := notify.New()
	defer center.Close()

	var rec notify.Recorder
	defer center.Subscribe(&rec, "", nil)()

	go func() {
		center.Post(notify.Notification{Name: "SIPSessionDidStart"})
		center.Post(notify.Notification{Name: "SIPSessionDidEnd"})
	}()

	err := rec.Wait(context.Background(), func(ns []notify.Notification) bool {
		return len(ns) > 0 && ns[len(ns)-1].Name == "SIPSessionDidEnd"
	})
	fmt.Println(rec.Names(), err)
	// Output: [SIPSessionDidStart SIPSessionDidEnd] <nil>
}
