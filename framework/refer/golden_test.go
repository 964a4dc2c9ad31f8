package refer

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// sentinels maps the names used in testdata/*.invalid.txt to the errors.
var sentinels = map[string]error{
	"ErrEmpty":                    ErrEmpty,
	"ErrInvalidAddress":           ErrInvalidAddress,
	"ErrInvalidURI":               ErrInvalidURI,
	"ErrInvalidParam":             ErrInvalidParam,
	"ErrInvalidReplaces":          ErrInvalidReplaces,
	"ErrInvalidSipfrag":           ErrInvalidSipfrag,
	"ErrInvalidEvent":             ErrInvalidEvent,
	"ErrInvalidSubscriptionState": ErrInvalidSubscriptionState,
}

// headerFormat is one line-based wire format: parse reads a value and
// returns a dump of what it understood and the value written back.
type headerFormat struct {
	name  string
	parse func(string) (dump, out string, err error)
}

var headerFormats = []headerFormat{
	{"refer-to", func(s string) (string, string, error) {
		r, err := ParseReferTo(s)
		if err != nil {
			return "", "", err
		}
		return dumpReferTo(r), r.String(), nil
	}},
	{"referred-by", func(s string) (string, string, error) {
		r, err := ParseReferredBy(s)
		if err != nil {
			return "", "", err
		}
		var b strings.Builder
		dumpAddress(&b, r.Address)
		if cid, ok := r.CID(); ok {
			fmt.Fprintf(&b, "cid: %q\n", cid)
		}
		return b.String(), r.String(), nil
	}},
	{"replaces", func(s string) (string, string, error) {
		r, err := ParseReplaces(s)
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("%#v\n", r), r.String(), nil
	}},
	{"event", func(s string) (string, string, error) {
		e, err := ParseEvent(s)
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("type: %q\nid: %q\nparams: %s\n", e.Type, e.ID, dumpParams(e.Params)), e.String(), nil
	}},
	{"subscription-state", func(s string) (string, string, error) {
		st, err := ParseSubscriptionState(s)
		if err != nil {
			return "", "", err
		}
		p := st.Params
		st.Params = nil
		return fmt.Sprintf("%#v\nparams: %s\n", st, dumpParams(p)), st.String() + paramString(p), nil
	}},
}

func paramString(p sip.HeaderParams) string {
	var b strings.Builder
	writeParams(&b, p)
	return b.String()
}

func dumpParams(p sip.HeaderParams) string {
	if len(p) == 0 {
		return "-"
	}
	var parts []string
	for _, kv := range p {
		parts = append(parts, fmt.Sprintf("%q=%q", kv.K, kv.V))
	}
	return strings.Join(parts, " ")
}

func dumpAddress(b *strings.Builder, a Address) {
	u := a.URI
	fmt.Fprintf(b, "display: %q\n", a.DisplayName)
	fmt.Fprintf(b, "uri: scheme=%q user=%q password=%q host=%q port=%d raw=%q\n", u.Scheme, u.User, u.Password, u.Host, u.Port, u.Raw())
	fmt.Fprintf(b, "uri params: %s\n", dumpParams(u.UriParams))
	fmt.Fprintf(b, "uri headers: %s\n", dumpParams(u.Headers))
	fmt.Fprintf(b, "params: %s\n", dumpParams(a.Params))
}

func dumpReferTo(r ReferTo) string {
	var b strings.Builder
	dumpAddress(&b, r.Address)
	fmt.Fprintf(&b, "method: %s\n", r.Method())
	if rep, ok, err := r.Replaces(); ok {
		fmt.Fprintf(&b, "replaces: %#v %v\n", rep, err)
	}
	d := r.Destination()
	fmt.Fprintf(&b, "destination: %s\n", formatURI(&d))
	return b.String()
}

// readCases reads one case per line, skipping blank lines and # comments;
// "q:" starts a Go-quoted value.
func readCases(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" && !strings.HasSuffix(path, ".invalid.txt") {
			continue
		}
		cases = append(cases, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func unquoteCase(t testing.TB, s string) string {
	t.Helper()
	if !strings.HasPrefix(s, "q:") {
		return s
	}
	v, err := strconv.Unquote(s[2:])
	if err != nil {
		t.Fatalf("bad q: line %s: %v", s, err)
	}
	return v
}

// TestHeaderGolden parses every valid case of every header format, checks
// that what is written back parses to the same thing and is written the
// same again, and compares the dumps with testdata/<format>.golden.
func TestHeaderGolden(t *testing.T) {
	for _, hf := range headerFormats {
		t.Run(hf.name, func(t *testing.T) {
			var got strings.Builder
			for _, line := range readCases(t, filepath.Join("testdata", hf.name+".valid.txt")) {
				in := unquoteCase(t, line)
				dump, out, err := hf.parse(in)
				if err != nil {
					t.Errorf("parse %q: %v", in, err)
					continue
				}
				dump2, out2, err := hf.parse(out)
				if err != nil {
					t.Errorf("parse(write(parse(%q))) = %v; written %q", in, err, out)
					continue
				}
				if dump2 != dump || out2 != out {
					t.Errorf("round trip of %q changed it:\n%s%s\nthen\n%s%s", in, dump, out, dump2, out2)
				}
				fmt.Fprintf(&got, "in:  %q\n%sout: %q\n\n", in, dump, out)
			}
			golden := filepath.Join("testdata", hf.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("dump differs from %s (run with -update to accept):\n%s", golden, got.String())
			}
		})
	}
}

// TestHeaderInvalid checks that every invalid case of every header format
// is refused with the sentinel its line names, wrapped in a *SyntaxError.
func TestHeaderInvalid(t *testing.T) {
	for _, hf := range headerFormats {
		t.Run(hf.name, func(t *testing.T) {
			cases := readCases(t, filepath.Join("testdata", hf.name+".invalid.txt"))
			if len(cases) == 0 {
				t.Fatal("no cases")
			}
			for _, line := range cases {
				name, value, ok := strings.Cut(line, "\t")
				want := sentinels[name]
				if !ok || want == nil {
					t.Fatalf("bad line %q", line)
				}
				in := unquoteCase(t, value)
				_, out, err := hf.parse(in)
				if err == nil {
					t.Errorf("parse %q succeeded (%q), want %s", in, out, name)
					continue
				}
				var se *SyntaxError
				if !errors.Is(err, want) || !errors.Is(err, ErrMalformed) || !errors.As(err, &se) {
					t.Errorf("parse %q = %v, want a *SyntaxError wrapping %s", in, err, name)
				}
			}
		})
	}
}

// TestSipfragGolden parses testdata/sipfrag/valid/*.frag, checks the round
// trip and compares with testdata/sipfrag.golden; every file under
// sipfrag/invalid must be refused.
func TestSipfragGolden(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "sipfrag", "valid", "*.frag"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no valid sipfrags: %v", err)
	}
	var got strings.Builder
	for _, n := range names {
		body, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseSipfrag(body)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		out := f.Marshal()
		back, err := ParseSipfrag(out)
		if err != nil || fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", f) {
			t.Errorf("%s: round trip gave %#v, %v; want %#v", n, back, err, f)
		}
		if err := f.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", n, err)
		}
		fmt.Fprintf(&got, "file: %s\ncode: %d\nreason: %q\nheaders: %q\nout: %q\n\n", filepath.Base(n), f.StatusCode, f.Reason, f.Headers, out)
	}
	golden := filepath.Join("testdata", "sipfrag.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("dump differs from %s (run with -update to accept):\n%s", golden, got.String())
	}

	bad, err := filepath.Glob(filepath.Join("testdata", "sipfrag", "invalid", "*.frag"))
	if err != nil || len(bad) == 0 {
		t.Fatalf("no invalid sipfrags: %v", err)
	}
	for _, n := range bad {
		body, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		want := ErrInvalidSipfrag
		if strings.HasPrefix(filepath.Base(n), "empty") {
			want = ErrEmpty
		}
		f, err := ParseSipfrag(body)
		var se *SyntaxError
		if err == nil || !errors.Is(err, want) || !errors.As(err, &se) {
			t.Errorf("%s: ParseSipfrag = %#v, %v; want a *SyntaxError wrapping %v", n, f, err, want)
		}
	}
}
