package iscomposing_test

import (
	"fmt"
	"time"

	"github.com/sipstreams/sipstreams/sdk/iscomposing"
)

func ExampleSender() {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	s := iscomposing.NewSender(iscomposing.WithClock(func() time.Time { return now }))

	d := s.Typed() // the first keystroke: send "active"
	fmt.Println(d.State, d.Refresh)
	fmt.Println(s.Typed() == nil) // still active: nothing to send

	now = s.Next() // 15 s without typing
	d = s.Tick()
	fmt.Println(d.State, d.LastActive.Format(time.TimeOnly))
	fmt.Printf("%s", d.Marshal())
	// Output:
	// active 120
	// true
	// idle 10:00:00
	// <?xml version="1.0" encoding="UTF-8"?>
	// <isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state><lastactive>2024-05-01T10:00:00Z</lastactive><contenttype>text</contenttype></isComposing>
}
