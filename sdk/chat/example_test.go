package chat_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// fakeStream stands in for a chat stream: it answers send_message with a
// fixed Message-ID and prints what it was asked to send.
type fakeStream struct{}

func (fakeStream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	var m chat.Message
	if err := json.Unmarshal(req.Args, &m); err != nil {
		return nil, err
	}
	fmt.Printf("%s: %q as %q\n", req.Method, m.Content, m.ContentType)
	return &sdk.InvokeResponse{Result: json.RawMessage(`{"message_id":"5d2e1f0a9b8c7d6e"}`)}, nil
}

func ExampleSendMessage() {
	id, err := chat.SendMessage(context.Background(), fakeStream{}, chat.Message{
		Content:     []byte("Hello, Bob"),
		ContentType: chat.ContentTypeText,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("message id", id)
	// Output:
	// send_message: "Hello, Bob" as "text/plain"
	// message id 5d2e1f0a9b8c7d6e
}

// A host reads the delivery outcome from the stream's notifications.
func ExampleDeliveryData() {
	n := sdk.Notification{Name: chat.DidNotDeliverMessage, Data: json.RawMessage(`{"message_id":"5d2e1f0a9b8c7d6e","code":0,"reason":"Stream ended"}`)}
	var d chat.DeliveryData
	if err := n.Decode(&d); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.Name, d.MessageID, d.Code, d.Reason)
	// Output:
	// ChatStreamDidNotDeliverMessage 5d2e1f0a9b8c7d6e 0 Stream ended
}

func ExampleParseIdentity() {
	id, _ := chat.ParseIdentity(`"Alice" <sip:alice@example.com>`)
	other, _ := chat.ParseIdentity("sips:alice@EXAMPLE.com;transport=tls")
	fmt.Println(id, id.Equal(other))
	// Output:
	// "Alice" <sip:alice@example.com> true
}
