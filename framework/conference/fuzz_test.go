package conference

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bodies to Parse, which reads what the network
// sends. Errors must wrap ErrMalformed or ErrLimit; what parses must be
// written to a document that parses to the same value and is written to
// the same bytes; applying it to a tracker holding the RFC 4575 example
// must succeed or fail with a tracker error, leaving a state that is
// itself a valid document.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid", "merge"} {
		names, err := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
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
	}
	base, err := os.ReadFile(filepath.Join("testdata", "valid", "rfc4575-basic.xml"))
	if err != nil {
		f.Fatal(err)
	}
	limits := WithLimits(Limits{MaxSize: 64 << 10, MaxUsers: 20, MaxEndpoints: 40, MaxMedia: 80})
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, limits)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrLimit", err)
			}
			return
		}
		out := doc.Marshal()
		back, err := Parse(out, limits)
		if err != nil {
			t.Fatalf("Parse(Marshal(doc)) = %v\n%s", err, out)
		}
		if !sameInfo(doc, back) {
			t.Fatalf("round trip changed the document:\n%s\n%s", out, back.Marshal())
		}
		if out2 := back.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable:\n%s\n%s", out, out2)
		}

		tr := NewTracker(limits)
		if _, err := tr.Update(base); err != nil {
			t.Fatal(err)
		}
		before := tr.Info().Marshal()
		if err := tr.Apply(doc); err != nil {
			if !errors.Is(err, ErrOutdated) && !errors.Is(err, ErrVersionGap) && !errors.Is(err, ErrEntityMismatch) && !errors.Is(err, ErrLimit) {
				t.Fatalf("Apply = %v", err)
			}
			if after := tr.Info().Marshal(); !bytes.Equal(before, after) {
				t.Fatalf("refused document changed the state")
			}
			return
		}
		state := tr.Info()
		if _, err := Parse(state.Marshal(), limits); err != nil {
			t.Fatalf("state is no valid document: %v\n%s", err, state.Marshal())
		}
	})
}
