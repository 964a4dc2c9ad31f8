package filetransfer

import (
	"bufio"
	"os"
	"testing"
)

// FuzzParseSelector: whatever a peer's a=file-selector holds, parsing
// never panics, and a selector that parses is written back into a form
// that parses to the same selector.
func FuzzParseSelector(f *testing.F) {
	if fh, err := os.Open("testdata/selectors.txt"); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		fh.Close()
	}
	f.Add(`name:"a" size:1 hash:sha1:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33`)
	f.Add(`name:"%" name:"x`)
	f.Fuzz(func(t *testing.T, in string) {
		sel, err := ParseSelector(in)
		if err != nil {
			return
		}
		out := sel.String()
		back, err := ParseSelector(out)
		if err != nil {
			t.Fatalf("ParseSelector(%q) = %+v, whose String %q does not parse: %v", in, sel, out, err)
		}
		if back != sel {
			t.Fatalf("round trip of %q: %+v became %+v through %q", in, sel, back, out)
		}
	})
}
