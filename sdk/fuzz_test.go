package sdk

import (
	"errors"
	"testing"
)

// FuzzMediaAt feeds arbitrary session descriptions to MediaAt, which reads
// what the network sends. It must never panic; what it accepts must marshal
// as a media section that ParseMedia reads back, and match rules must be
// safe to evaluate on it.
func FuzzMediaAt(f *testing.F) {
	for _, name := range fixtureNames(f) {
		text := fixture(f, name)
		for i := range 4 {
			f.Add(text, i)
		}
	}
	f.Add("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", 0)
	f.Add("v=0\r\n", 0)
	f.Add("", -1)

	rules := []MatchRule{
		{},
		{Media: []string{"audio"}, Protos: []string{"RTP/AVP"}, RTPMapNames: []string{"PCMU", "opus"}},
		{Media: []string{"message"}, Protos: []string{"TCP/MSRP", "TCP/TLS/MSRP"}, AcceptTypes: []string{"text/plain", "*"}, Formats: []string{"*"}},
		{Media: []string{"*"}, Formats: []string{"x-sipstreams-echo"}},
	}
	f.Fuzz(func(t *testing.T, text string, index int) {
		s, m, err := MediaAt(text, index)
		if err != nil {
			if !errors.Is(err, ErrInvalidStream) {
				t.Fatalf("MediaAt error %v does not wrap ErrInvalidStream", err)
			}
			return
		}
		if s == nil || m == nil {
			t.Fatal("MediaAt succeeded without a media description")
		}
		_ = Direction(s, m)
		_ = ConnectionAddress(s, m)
		for _, r := range rules {
			_ = r.Matches(m)
		}
		section, err := MarshalMedia(m)
		if err != nil {
			t.Fatalf("MarshalMedia of an accepted m-line: %v", err)
		}
		back, err := ParseMedia(section)
		if err != nil {
			t.Fatalf("ParseMedia(%q) of an accepted m-line: %v", section, err)
		}
		for _, r := range rules {
			if r.Matches(back) != r.Matches(m) {
				t.Fatalf("rule %+v matches %q differently after a round trip", r, section)
			}
		}
	})
}
