package conference_test

import (
	"errors"
	"fmt"

	"github.com/sipstreams/sipstreams/framework/conference"
)

const fullNotify = `<?xml version="1.0" encoding="UTF-8"?>
<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:room@focus.example.com" state="full" version="1">
  <users>
    <user entity="sip:alice@example.com">
      <display-text>Alice</display-text>
      <endpoint entity="sip:alice@192.0.2.1"><status>connected</status>
        <media id="1"><type>audio</type></media></endpoint>
    </user>
    <user entity="sip:bob@example.com">
      <display-text>Bob</display-text>
      <endpoint entity="sip:bob@192.0.2.2"><status>alerting</status></endpoint>
    </user>
  </users>
</conference-info>`

const partialNotify = `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:room@focus.example.com" state="partial" version="2">
  <users>
    <user entity="sip:bob@example.com" state="partial">
      <endpoint entity="sip:bob@192.0.2.2"><status>connected</status></endpoint>
    </user>
    <user entity="sip:alice@example.com" state="deleted"/>
  </users>
</conference-info>`

// A session with a remote focus feeds each NOTIFY body of its conference
// subscription to a Tracker and shows the participants.
func ExampleTracker_Update() {
	tr := conference.NewTracker()
	for _, body := range []string{fullNotify, partialNotify, partialNotify} {
		state, err := tr.Update([]byte(body))
		switch {
		case errors.Is(err, conference.ErrOutdated):
			fmt.Println("outdated, ignored")
			continue
		case errors.Is(err, conference.ErrVersionGap):
			fmt.Println("missed a notification: refresh the subscription")
			continue
		case err != nil:
			fmt.Println("bad notification:", err)
			continue
		}
		fmt.Printf("version %d:", state.Version)
		for _, u := range state.Users {
			for _, e := range u.Endpoints {
				fmt.Printf(" %s (%s)", u.DisplayText, e.Status)
			}
		}
		fmt.Println()
	}
	// Output:
	// version 1: Alice (connected) Bob (alerting)
	// version 2: Bob (connected)
	// outdated, ignored
}

func ExampleParse() {
	doc, err := conference.Parse([]byte(fullNotify))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Entity, doc.State, len(doc.Users), doc.Users[0].Endpoints[0].Media[0].Type)
	_, err = conference.Parse([]byte(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info"/>`))
	fmt.Println(errors.Is(err, conference.ErrMalformed), err)
	// Output:
	// sip:room@focus.example.com full 2 audio
	// true conference: required attribute or element missing: conference-info has no entity
}

// A focus (or a test playing one) writes a notification.
func ExampleInfo_Marshal() {
	doc := &conference.Info{
		Entity: "sip:room@focus.example.com", State: conference.StatePartial, Version: 3, HasVersion: true,
		UsersState: conference.StatePartial,
		Users: []conference.User{{
			Entity: "sip:carol@example.com", State: conference.StateFull, DisplayText: "Carol",
			Endpoints: []conference.Endpoint{{Entity: "sip:carol@192.0.2.3", Status: conference.StatusDialingOut}},
		}},
	}
	fmt.Print(string(doc.Marshal()))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:room@focus.example.com" state="partial" version="3">
	//   <users state="partial">
	//     <user entity="sip:carol@example.com" state="full">
	//       <display-text>Carol</display-text>
	//       <endpoint entity="sip:carol@192.0.2.3">
	//         <status>dialing-out</status>
	//       </endpoint>
	//     </user>
	//   </users>
	// </conference-info>
}
