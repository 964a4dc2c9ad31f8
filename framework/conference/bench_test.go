package conference

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkParseRFC4575Basic(b *testing.B) {
	data := readFile(b, filepath.Join("testdata", "valid", "rfc4575-basic.xml"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// bigDocument has n users, each with one endpoint and two media.
func bigDocument(n int) []byte {
	var s strings.Builder
	s.WriteString(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x" state="full" version="1"><users>`)
	for i := range n {
		fmt.Fprintf(&s, `<user entity="sip:u%d@example.com"><display-text>User %d</display-text><endpoint entity="sip:u%d@192.0.2.1"><status>connected</status><media id="1"><type>audio</type></media><media id="2"><type>message</type></media></endpoint></user>`, i, i, i)
	}
	s.WriteString(`</users></conference-info>`)
	return []byte(s.String())
}

// BenchmarkParse1000Users parses a conference at the default user limit.
func BenchmarkParse1000Users(b *testing.B) {
	data := bigDocument(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefuseTooManyUsers measures what refusing a document of 5000
// users costs: the counting pass only, nothing built.
func BenchmarkRefuseTooManyUsers(b *testing.B) {
	data := bigDocument(5000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, WithLimits(Limits{MaxSize: 4 << 20})); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkRefuseBillionLaughs measures refusing an entity bomb.
func BenchmarkRefuseBillionLaughs(b *testing.B) {
	data := readFile(b, filepath.Join("testdata", "invalid", "ErrBadXML--billion-laughs.xml"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkTrackerPartial applies a one-user partial update to a
// 1000-user state.
func BenchmarkTrackerPartial(b *testing.B) {
	tr := NewTracker()
	if _, err := tr.Update(bigDocument(1000)); err != nil {
		b.Fatal(err)
	}
	doc := &Info{Entity: "sip:c@x", State: StatePartial, HasVersion: true, UsersState: StatePartial,
		Users: []User{{Entity: "sip:u500@example.com", State: StatePartial, Endpoints: []Endpoint{{Entity: "sip:u500@192.0.2.1", Status: StatusOnHold}}}}}
	b.ReportAllocs()
	v := uint32(1)
	for b.Loop() {
		v++
		doc.Version = v
		if err := tr.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}
