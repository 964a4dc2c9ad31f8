package refer_test

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/refer"
)

func mustURI(s string) sip.Uri {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		panic(err)
	}
	return u
}

// The transferor of an attended transfer names its dialog with the target
// in the Refer-To it sends to the transferee.
func ExampleReferTo_WithReplaces() {
	target := mustURI("sip:carol@chicago.example.com")
	rt := refer.NewReferTo(target).WithReplaces(refer.ReplacesFor("a84b4c76e66710@pc33", "local-1", "remote-2"))
	fmt.Println(rt)
	// Output:
	// <sip:carol@chicago.example.com?Replaces=a84b4c76e66710%40pc33%3Bto-tag%3Dremote-2%3Bfrom-tag%3Dlocal-1>
}

// A focus is asked to remove a participant from a conference.
func ExampleReferTo_WithMethod() {
	fmt.Println(refer.NewReferTo(mustURI("sip:carol@chicago.example.com")).WithMethod("BYE"))
	// Output:
	// <sip:carol@chicago.example.com;method=BYE>
}

// The transferee reads the Refer-To of a REFER it received.
func ExampleParseReferTo() {
	rt, err := refer.ParseReferTo(`"Carol" <sip:carol@chicago.example.com;transport=tcp?Replaces=1234%40atlanta%3Bto-tag%3D9ad7e3%3Bfrom-tag%3D1930493>`)
	if err != nil {
		fmt.Println("answer 400:", err)
		return
	}
	dest := rt.Destination()
	fmt.Println("destination:", dest.String())
	fmt.Println("method:", rt.Method())
	if rep, ok, _ := rt.Replaces(); ok {
		fmt.Printf("replaces: call-id %s, to-tag %s, from-tag %s\n", rep.CallID, rep.ToTag, rep.FromTag)
	}
	_, err = refer.ParseReferTo("<sip:carol@chicago.example.com")
	fmt.Println(err)
	// Output:
	// destination: sip:carol@chicago.example.com
	// method: INVITE
	// replaces: call-id 1234@atlanta, to-tag 9ad7e3, from-tag 1930493
	// refer: Refer-To: invalid name-addr or addr-spec at offset 0 (no >) in "<sip:carol@chicago.example.com"
}

// The recipient of an INVITE with Replaces looks for the dialog it names.
func ExampleReplaces_Matches() {
	rep, err := refer.ParseReplaces("1234@atlanta;to-tag=9ad7e3;from-tag=0")
	if err != nil {
		fmt.Println("answer 481:", err)
		return
	}
	// Our dialog: Call-ID, our tag, the peer's tag.
	fmt.Println(rep.Matches("1234@atlanta", "9ad7e3", "1930493"))
	fmt.Println(rep.Matches("1234@atlanta", "1930493", "9ad7e3"))
	// Output:
	// true
	// false
}

// The transferor reads the progress the transferee reports.
func ExampleParseSipfrag() {
	f, err := refer.ParseSipfrag([]byte("SIP/2.0 180 Ringing\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.StatusCode, f.Reason, f.Final())
	fmt.Printf("%q\n", refer.NewSipfrag(200, "").Marshal())
	// Output:
	// 180 Ringing false
	// "SIP/2.0 200 OK\r\n"
}

func ExampleParseSubscriptionState() {
	st, err := refer.ParseSubscriptionState("terminated;reason=noresource")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.State == refer.SubStateTerminated, st.Reason)
	fmt.Println(refer.Active(90))
	fmt.Println(refer.NewReferEvent(93809824))
	// Output:
	// true noresource
	// active;expires=90
	// refer;id=93809824
}
