package msrpstream

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// FuzzParseMediaAt feeds arbitrary remote SDP to ParseMediaAt, which reads
// what the network sends. Errors must be of the stream kinds; an accepted
// m-line must build back into a media section that reads the same.
func FuzzParseMediaAt(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		for i := range 2 {
			f.Add(string(b), i, true)
			f.Add(string(b), i, false)
		}
	}
	f.Fuzz(func(t *testing.T, text string, index int, tls bool) {
		want := TransportTCP
		if tls {
			want = TransportTLS
		}
		m, err := ParseMediaAt(text, index, want)
		if err != nil {
			if !errors.Is(err, sdk.ErrInvalidStream) && !errors.Is(err, sdk.ErrUnknownStream) {
				t.Fatalf("error %v is neither ErrInvalidStream nor ErrUnknownStream", err)
			}
			return
		}
		section, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted m-line: %v", err)
		}
		md, err := sdk.ParseMedia(section)
		if err != nil {
			t.Fatalf("ParseMedia(%q): %v", section, err)
		}
		back, err := FromSDP(nil, md)
		if err != nil {
			t.Fatalf("FromSDP(%q): %v", section, err)
		}
		if err := back.Validate(want); err != nil {
			t.Fatalf("Validate after a round trip: %v", err)
		}
		if !reflect.DeepEqual(back.Path, m.Path) || back.Setup != m.Setup || back.MaxSize != m.MaxSize || back.Direction != m.Direction ||
			!reflect.DeepEqual(back.AcceptTypes, m.AcceptTypes) || !reflect.DeepEqual(back.AcceptWrappedTypes, m.AcceptWrappedTypes) || back.Port != m.Port ||
			!reflect.DeepEqual(back.Fingerprints, m.Fingerprints) {
			t.Fatalf("round trip changed the media:\n%#v\n%#v", m, back)
		}
	})
}
