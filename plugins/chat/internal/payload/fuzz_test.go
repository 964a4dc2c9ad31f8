package payload

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

// FuzzDecode feeds arbitrary bodies to Decode: it must never panic, must
// give exactly one of a message and an indication or an error with a
// refusal status, and a decoded message must encode again.
func FuzzDecode(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "*.golden.cpim"))
	for _, g := range golden {
		if b, err := os.ReadFile(g); err == nil {
			f.Add("message/cpim", b)
		}
	}
	f.Add("text/plain", []byte("hello"))
	f.Add("application/im-iscomposing+xml", []byte(`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state></isComposing>`))
	f.Add("message/cpim", []byte("From: <sip:a@b>\n\nContent-Type: text/plain\n\nx"))
	peer := Peer{Local: bob, Remote: alice, RemoteAcceptTypes: chat.AcceptTypes(), RemoteWrappedTypes: chat.AcceptWrappedTypes(), CPIMEnabled: true}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		in, err := Decode(contentType, data, "id", peer, now)
		if err != nil {
			if code, _ := Status(err); code != StatusBadRequest && code != StatusUnwanted {
				t.Fatalf("refusal with status %d: %v", code, err)
			}
			return
		}
		if (in.Message == nil) == (in.Composing == nil) {
			t.Fatalf("want exactly one of message and composing: %+v", in)
		}
		if in.Message != nil {
			m := in.Message.Message
			if _, err := Encode(chat.Message{Content: m.Content, ContentType: m.ContentType}, peer, now); err != nil {
				t.Logf("re-encoding %q: %v", m.ContentType, err)
			}
		}
	})
}
