package cpim_test

import (
	"fmt"
	"time"

	"github.com/sipstreams/sipstreams/sdk/cpim"
)

func Example() {
	m := &cpim.Message{
		From:        cpim.Address{DisplayName: "Alice", URI: "sip:alice@example.com"},
		To:          []cpim.Address{{URI: "sip:bob@example.com"}},
		DateTime:    time.Date(2024, 5, 1, 10, 11, 12, 123456000, time.UTC),
		Namespaces:  []cpim.Namespace{{Prefix: "imdn", URI: "urn:ietf:params:imdn"}},
		Headers:     []cpim.Header{{Prefix: "imdn", Name: "Message-ID", Value: "34jk324j"}},
		ContentType: "text/plain; charset=utf-8",
		Body:        []byte("Hello"),
	}
	payload := m.Marshal()

	// The reference SDK ends the inner MIME lines with LF only; Parse takes both.
	got, err := cpim.Parse(payload)
	if err != nil {
		panic(err)
	}
	id, _ := got.Lookup("urn:ietf:params:imdn", "Message-ID")
	fmt.Println(got.From, "->", got.To[0])
	fmt.Println(got.DateTime.Format(time.RFC3339Nano), id, got.ContentType)
	fmt.Printf("%s\n", got.Body)
	// Output:
	// "Alice" <sip:alice@example.com> -> <sip:bob@example.com>
	// 2024-05-01T10:11:12.123456Z 34jk324j text/plain; charset=utf-8
	// Hello
}
