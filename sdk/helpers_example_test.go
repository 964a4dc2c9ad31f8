package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"sync"

	"github.com/pion/sdp/v3"

	"github.com/sipstreams/sipstreams/sdk"
)

// printer is a Notifier that prints what is posted.
type printer struct{}

func (printer) Post(name string, data any) {
	raw, _ := json.Marshal(data)
	fmt.Println("posted:", name, string(raw))
}

// The direction rules of reference §3.5: what to offer and answer while a
// stream is held.
func ExampleOfferDirection() {
	// Nothing negotiated yet: sendrecv, even on hold.
	fmt.Println(sdk.OfferDirection("", true))
	// We were sending and hold now: sendonly.
	fmt.Println(sdk.OfferDirection(sdk.SendRecv, true))
	// The remote holds us (we only receive) and we hold too: inactive.
	fmt.Println(sdk.OfferDirection(sdk.RecvOnly, true))
	// We answer a sendonly offer (the remote holds) with recvonly.
	fmt.Println(sdk.AnswerDirection(sdk.SendRecv, sdk.SendOnly))
	// Output:
	// sendrecv
	// sendonly
	// inactive
	// recvonly
}

// A stream keeps a HoldState, asks it what to offer and tells it what was
// negotiated; it posts each change of a hold flag.
func ExampleHoldState() {
	h := sdk.NewHoldState(printer{}, "MyStreamDidChangeHoldState")
	h.Negotiated(sdk.SendRecv) // the first exchange

	h.Request(true) // sdk.Stream.Hold
	fmt.Println("offer:", h.Offer(), "may send:", h.MaySend())
	h.Negotiated(sdk.SendOnly) // the remote answered recvonly

	a, err := h.Attributes(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("on hold by local:", a.OnHoldByLocal)
	// Output:
	// offer: sendonly may send: false
	// posted: MyStreamDidChangeHoldState {"originator":"local","on_hold":true}
	// on hold by local: true
}

// A stream's Initialize and End with a Lifecycle: the lifecycle posts the
// outcome of Initialize and End's notifications, and stops what the stream
// registered.
func ExampleLifecycle() {
	var mu sync.Mutex // the stream's lock, which guards the lifecycle
	life := sdk.NewLifecycle(printer{})

	mu.Lock()
	_ = life.Initialize(func() error {
		// Bind sockets here; an error is posted as
		// MediaStreamDidNotInitialize.
		life.Defer(func() { fmt.Println("socket closed") })
		return nil
	})
	mu.Unlock()

	_ = life.End(&mu, func(prev sdk.StreamState) func() {
		fmt.Println("ending in state", prev)
		return nil
	})
	// Output:
	// posted: MediaStreamDidInitialize null
	// posted: MediaStreamWillEnd null
	// ending in state initialized
	// socket closed
	// posted: MediaStreamDidEnd {}
}

// End before Initialize interrupts the initialization.
func ExampleLifecycle_End() {
	var mu sync.Mutex
	life := sdk.NewLifecycle(printer{})
	_ = life.End(&mu, nil)
	_ = life.End(&mu, nil) // a second End does nothing
	// Output:
	// posted: MediaStreamDidNotInitialize {"reason":"Interrupted"}
}

// No arguments and JSON null give the zero value.
func ExampleDecodeArgs() {
	type sendArgs struct {
		Payload string `json:"payload"`
	}
	for _, raw := range []string{`{"payload":"hi"}`, ``, `null`, `[1]`} {
		args, err := sdk.DecodeArgs[sendArgs](json.RawMessage(raw))
		fmt.Printf("%q: %+v %v\n", raw, args, err)
	}
	// Output:
	// "{\"payload\":\"hi\"}": {Payload:hi} <nil>
	// "": {Payload:} <nil>
	// "null": {Payload:} <nil>
	// "[1]": {Payload:} invalid argument: arguments: json: cannot unmarshal array into Go value of type sdk_test.sendArgs
}

// A stream serves a typed method from its Invoke.
func ExampleHandleInvoke() {
	type addArgs struct {
		A, B int
	}
	add := func(a addArgs) (int, error) { return a.A + a.B, nil }
	res, err := sdk.HandleInvoke(&sdk.InvokeRequest{Method: "add", Args: json.RawMessage(`{"A":2,"B":3}`)}, add)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(res.Result))
	// Output: 5
}

// A plugin-scope method with typed arguments and result.
func ExampleMethod() {
	type greetArgs struct {
		Name string `json:"name"`
	}
	greet := sdk.Method(func(_ context.Context, a greetArgs, _ *sdk.Env) (string, error) {
		return "hello " + a.Name, nil
	})
	res, err := greet(context.Background(), json.RawMessage(`{"name":"bob"}`), &sdk.Env{})
	fmt.Println(res, err)
	// Output: hello bob <nil>
}

// The caller's side of a stream type's own attributes.
func ExampleReadAttributes() {
	type echoAttributes struct {
		Direction string `json:"direction"`
	}
	var s sdk.Stream = attributesStream{}
	a, own, err := sdk.ReadAttributes[echoAttributes](context.Background(), s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.HoldSupported, own.Direction)
	// Output: true sendonly
}

// attributesStream is a stream whose attributes are those of a held RTP-like
// stream.
type attributesStream struct{ sdk.UnimplementedStream }

func (attributesStream) Attributes(context.Context) (*sdk.Attributes, error) {
	h := sdk.NewHoldState(nil)
	h.Negotiated(sdk.SendOnly)
	return h.Attributes(map[string]string{"direction": string(h.Direction())})
}

// Reading where a remote m-line sends from, an old-style hold included.
func ExampleParseEndpoint() {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	s, m, err := sdk.MediaAt(offer, 0)
	if err != nil {
		log.Fatal(err)
	}
	ep, err := sdk.ParseEndpoint(s, m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.OnHoldOldStyle(), ep.Direction, ep.Peer().IsValid())
	// Output: true sendonly false
}

func ExampleSessionInfo_LocalAddr() {
	for _, s := range []*sdk.SessionInfo{nil, {LocalIP: "::1"}, {LocalIP: "0.0.0.0"}} {
		ip, err := s.LocalAddr()
		fmt.Println(ip, err)
	}
	// Output:
	// 127.0.0.1 <nil>
	// ::1 <nil>
	// invalid IP invalid argument: local IP 0.0.0.0 is unspecified: the session must name the address it signals on
}

// A stream's GetLocalMedia writes its m-line with the SDK's pieces.
func ExampleLocalMediaResponse() {
	m := &sdp.MediaDescription{
		MediaName:             sdp.MediaName{Media: "application", Port: sdp.RangedPort{Value: 40000}, Protos: []string{"UDP"}, Formats: []string{"x-example"}},
		ConnectionInformation: sdk.Connection("2001:db8::10"),
		Attributes:            []sdp.Attribute{sdk.OfferDirection(sdk.SendRecv, true).Attribute()},
	}
	res, err := sdk.LocalMediaResponse(m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(res.Media, "\r\n", "\n"))
	// Output:
	// m=application 40000 UDP x-example
	// c=IN IP6 2001:db8::10
	// a=sendonly
}

// A stream built on a base (msrpstream, say) hands the base an Env that
// shows it the base's notifications after posting them.
func ExampleEnv_Observed() {
	env := &sdk.Env{Handle: 7, Notifier: printer{}}
	base := env.Observed(func(name string) {
		if name == sdk.MediaStreamDidFail {
			fmt.Println("the base failed: stop the sender")
		}
	})
	base.Post(sdk.MediaStreamDidStart, nil)
	base.Post(sdk.MediaStreamDidFail, nil)
	// Output:
	// posted: MediaStreamDidStart null
	// posted: MediaStreamDidFail null
	// the base failed: stop the sender
}
