package refer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedHeader adds every valid and invalid case of testdata/<name>.*.txt.
func seedHeader(f *testing.F, name string) {
	f.Helper()
	for _, kind := range []string{"valid", "invalid"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+"."+kind+".txt"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if kind == "invalid" {
				_, line, _ = strings.Cut(line, "\t")
			}
			f.Add(unquoteCase(f, line))
		}
	}
}

// checkParseError fails unless err is a *SyntaxError wrapping ErrMalformed.
func checkParseError(t *testing.T, in string, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.Is(err, ErrMalformed) || !errors.As(err, &se) {
		t.Fatalf("parse %q: error %v is no *SyntaxError wrapping ErrMalformed", in, err)
	}
	if se.Offset < 0 || se.Offset > len(in) {
		t.Fatalf("parse %q: offset %d out of range", in, se.Offset)
	}
	_ = err.Error()
}

// FuzzReferTo: what parses is written back as a Refer-To that parses to
// the same value and is written the same; its Replaces and Destination are
// usable; errors are typed.
func FuzzReferTo(f *testing.F) {
	seedHeader(f, "refer-to")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseReferTo(in)
		if err != nil {
			checkParseError(t, in, err)
			return
		}
		out := r.String()
		back, err := ParseReferTo(out)
		if err != nil {
			t.Fatalf("ParseReferTo(%q) ok but its String %q fails: %v", in, out, err)
		}
		if !sameAddress(back.Address, r.Address) {
			t.Fatalf("round trip of %q changed it:\n%#v\n%#v", in, r, back)
		}
		if out2 := back.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Validate of parsed %q: %v", in, err)
		}
		if _, _, err := r.Replaces(); err != nil {
			t.Fatalf("Replaces of parsed %q: %v", in, err)
		}
		_ = r.Method()
		if err := NewReferTo(r.Destination()).Validate(); err != nil {
			t.Fatalf("destination of %q is no valid Refer-To: %v", in, err)
		}
	})
}

// FuzzReferredBy: as FuzzReferTo for Referred-By.
func FuzzReferredBy(f *testing.F) {
	seedHeader(f, "referred-by")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseReferredBy(in)
		if err != nil {
			checkParseError(t, in, err)
			return
		}
		out := r.String()
		back, err := ParseReferredBy(out)
		if err != nil || !sameAddress(back.Address, r.Address) || back.String() != out {
			t.Fatalf("round trip of %q: %q gives %#v, %v; want %#v", in, out, back, err, r)
		}
		_, _ = r.CID()
	})
}

// FuzzReplaces: what parses is written back to a value that parses to the
// same Replaces, which survives escaping into a Refer-To too.
func FuzzReplaces(f *testing.F) {
	seedHeader(f, "replaces")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseReplaces(in)
		if err != nil {
			checkParseError(t, in, err)
			return
		}
		out := r.String()
		back, err := ParseReplaces(out)
		if err != nil || back != r || back.String() != out {
			t.Fatalf("round trip of %q: %q gives %#v, %v; want %#v", in, out, back, err, r)
		}
		rt := NewReferTo(mustURI(t, "sip:carol@example.com")).WithReplaces(r)
		parsed, err := ParseReferTo(rt.String())
		if err != nil {
			t.Fatalf("Refer-To carrying %q: %v", out, err)
		}
		got, ok, err := parsed.Replaces()
		if !ok || err != nil || got != r {
			t.Fatalf("Replaces through Refer-To %q = %#v, %v, %v; want %#v", rt.String(), got, ok, err, r)
		}
	})
}

// FuzzSipfrag: what parses is written back to a body that parses to the
// same status and headers.
func FuzzSipfrag(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		names, _ := filepath.Glob(filepath.Join("testdata", "sipfrag", dir, "*.frag"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseSipfrag(in)
		if err != nil {
			checkParseError(t, string(in), err)
			return
		}
		if s.StatusCode < 100 || s.StatusCode > 699 {
			t.Fatalf("status %d out of range", s.StatusCode)
		}
		out := s.Marshal()
		back, err := ParseSipfrag(out)
		if err != nil || !reflect.DeepEqual(back, s) || string(back.Marshal()) != string(out) {
			t.Fatalf("round trip of %q: %q gives %#v, %v; want %#v", in, out, back, err, s)
		}
	})
}

// FuzzEvent: what parses is written back to an Event that parses the same.
func FuzzEvent(f *testing.F) {
	seedHeader(f, "event")
	f.Fuzz(func(t *testing.T, in string) {
		e, err := ParseEvent(in)
		if err != nil {
			checkParseError(t, in, err)
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Validate of parsed %q (%q): %v", in, e.String(), err)
		}
		if !e.Matches(e) {
			t.Fatalf("%q does not match itself", in)
		}
	})
}

// FuzzSubscriptionState: what parses is written back to a value that parses
// the same.
func FuzzSubscriptionState(f *testing.F) {
	seedHeader(f, "subscription-state")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSubscriptionState(in)
		if err != nil {
			checkParseError(t, in, err)
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Validate of parsed %q (%q): %v", in, s.String(), err)
		}
	})
}
