package audio_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/audio"
)

// fakeStream stands for an audio stream: it prints each call it receives
// and answers as the plugin would.
type fakeStream struct{}

func (fakeStream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	if len(req.Args) == 0 {
		fmt.Println(req.Method)
	} else {
		fmt.Println(req.Method, string(req.Args))
	}
	switch req.Method {
	case audio.MethodStartRecording:
		return &sdk.InvokeResponse{Result: json.RawMessage(`{"filename":"/tmp/call.wav"}`)}, nil
	case audio.MethodStatistics:
		return &sdk.InvokeResponse{Result: json.RawMessage(`{"rx":{"packets":250,"srtp_failures":0},"tx":{"packets":251},"ticks":250}`)}, nil
	}
	return &sdk.InvokeResponse{}, nil
}

// A host sends a tone file instead of the microphone, records the call,
// sends a DTMF digit and reads the statistics, all through typed wrappers.
func Example() {
	ctx := context.Background()
	var s sdk.Invoker = fakeStream{}
	if err := audio.SetInput(ctx, s, "/tmp/440.wav", 0); err != nil {
		fmt.Println(err)
	}
	name, _ := audio.StartRecording(ctx, s, "")
	fmt.Println("recording to", name)
	_ = audio.SendDTMF(ctx, s, "5")
	st, _ := audio.GetStatistics(ctx, s)
	fmt.Println("received", st.RX.Packets, "packets in", st.Ticks, "ticks")
	// Output:
	// set_input {"file":"/tmp/440.wav"}
	// start_recording {}
	// recording to /tmp/call.wav
	// send_dtmf {"digit":"5"}
	// statistics
	// received 250 packets in 250 ticks
}

// Notifications carry typed data: decode them with sdk.Notification.Decode.
func ExampleDTMFData() {
	n := &sdk.Notification{Name: audio.GotDTMF, Data: json.RawMessage(`{"digit":"#"}`)}
	var d audio.DTMFData
	if err := n.Decode(&d); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.Name, d.Digit)
	// Output: AudioStreamGotDTMF #
}
