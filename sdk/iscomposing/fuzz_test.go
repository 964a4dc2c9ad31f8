package iscomposing

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bodies to Parse, which reads what the network
// sends. Errors must wrap ErrMalformed; what parses must marshal to a
// document that parses to the same value and marshals to the same bytes.
func FuzzParse(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out := d.Marshal()
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)) = %v\ndocument %s", err, out)
		}
		if !sameDocument(d, d2) {
			t.Fatalf("round trip changed the document: %#v then %#v", d, d2)
		}
		if out2 := d2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable:\n%s\n%s", out, out2)
		}
	})
}
