package dtmf_test

import (
	"fmt"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/dtmf"
)

// A sender's packets, stamped as an RTP layer would, come out of a receiver
// as the digits sent, once each, even with a packet lost.
func Example() {
	s, err := dtmf.NewSender()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range "1#1" {
		if err := s.Enqueue(d); err != nil {
			fmt.Println(err)
			return
		}
	}
	var r dtmf.Receiver
	var mediaTS, eventTS uint32 = 8000, 0
	for n := 0; ; n++ {
		p, ok := s.Tick() // once per 20 ms
		if !ok {
			break
		}
		if p.Start {
			eventTS = mediaTS // new event: take the current timestamp
		}
		mediaTS += 160
		if n == 12 { // the start packet of '#' is lost
			continue
		}
		if d, ok, _ := r.Receive(eventTS, p.Marker, p.Payload); ok {
			fmt.Printf("%c at %d\n", d.Digit, d.Timestamp)
		}
	}
	// Output:
	// 1 at 8000
	// # at 9920
	// 1 at 11840
}
