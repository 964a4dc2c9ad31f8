package engine_test

import (
	"context"
	"fmt"
	"log"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/engine"
)

// Two engines on loopback: bob answers MESSAGE, alice finds bob's route
// from his contact URI and sends him one.
func Example() {
	ctx := context.Background()

	bob, err := engine.New(engine.Config{UserAgent: "bob/1.0"})
	if err != nil {
		log.Fatal(err)
	}
	bob.OnRequest(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		fmt.Printf("bob got %q from %s\n", req.Body(), req.GetHeader("User-Agent").Value())
		if err := bob.Respond(tx, req, 200, "OK", nil); err != nil {
			log.Print(err)
		}
	})
	if err := bob.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	alice, err := engine.New(engine.Config{UserAgent: "alice/1.0"})
	if err != nil {
		log.Fatal(err)
	}
	if err := alice.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer alice.Close()

	target := bob.Contact(engine.TransportTCP, "bob")
	routes, err := alice.Lookup(ctx, target)
	if err != nil {
		log.Fatal(err)
	}
	req := sip.NewRequest(sip.MESSAGE, target)
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("hello"))
	tx, err := alice.Request(ctx, req, routes[0])
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Terminate()
	res := <-tx.Responses()
	fmt.Println(routes[0].Transport, res.StatusCode, res.Reason, res.GetHeader("User-Agent").Value())
	// Output:
	// bob got "hello" from alice/1.0
	// tcp 200 OK bob/1.0
}

// A program that answers many calls lets sipgo end each INVITE's
// transaction with its 2xx, first thing in main, before any engine or
// transaction exists (the host does); the engine then absorbs the
// INVITEs' retransmissions itself.
func ExampleReleaseAcceptedInvites() {
	engine.ReleaseAcceptedInvites()
	ctx := context.Background()

	bob, err := engine.New(engine.Config{Listen: []engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}})
	if err != nil {
		log.Fatal(err)
	}
	bob.OnRequest(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		if err := bob.Respond(tx, req, 200, "OK", nil); err != nil {
			log.Print(err)
		}
	})
	if err := bob.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	alice, err := engine.New(engine.Config{Listen: []engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}})
	if err != nil {
		log.Fatal(err)
	}
	if err := alice.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer alice.Close()

	target := bob.Contact(engine.TransportUDP, "bob")
	routes, err := alice.Lookup(ctx, target)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := alice.Request(ctx, sip.NewRequest(sip.INVITE, target), routes[0])
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Terminate()
	for res := range tx.Responses() {
		if res.StatusCode >= 200 {
			fmt.Println(res.StatusCode, res.Reason, bob.Stats().Absorbed)
			break
		}
	}
	// Output:
	// 200 OK 0
}
