package session

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// FuzzAnswer feeds arbitrary offers to the answer builder: it must never
// panic, and what it builds for a parsable offer must parse and fit it.
func FuzzAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		offer, err := sdk.ParseSDP(text)
		if err != nil {
			return
		}
		o := &origin{id: 1, ip: "127.0.0.1", name: "fuzz"}
		ans, err := o.answer(offer, nil)
		if err != nil {
			return
		}
		parsed, err := sdk.ParseSDP(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%q", err, ans)
		}
		if err := checkAnswer(offer, parsed); err != nil {
			t.Fatalf("our answer does not fit the offer: %v", err)
		}
	})
}
