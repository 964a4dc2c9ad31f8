package cpim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary payloads to Parse, which reads what the network
// sends. What parses must marshal to a payload that parses to the same
// message and marshals to the same bytes.
func FuzzParse(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.cpim"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		out := m.Marshal()
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(m)) = %v\npayload %q", err, out)
		}
		if !sameMessage(m, m2) {
			t.Fatalf("round trip changed the message:\nfirst  %#v\nsecond %#v", m, m2)
		}
		if out2 := m2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable:\nfirst  %q\nsecond %q", out, out2)
		}
		head, _, _ := strings.Cut(string(out), "\r\n\r\n")
		if strings.Contains(strings.ReplaceAll(head, "\r\n", ""), "\n") {
			t.Fatalf("Marshal wrote a bare LF in the headers: %q", out)
		}
	})
}
