package filetransfer

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// TestSelectorGolden: every line of testdata/selectors.txt parses and is
// written back byte for byte.
func TestSelectorGolden(t *testing.T) {
	f, err := os.Open("testdata/selectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		sel, err := ParseSelector(line)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", line, err)
			continue
		}
		if got := sel.String(); got != line {
			t.Errorf("round trip:\n got %q\nwant %q", got, line)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d golden selectors", n)
	}
}

func TestSelectorParse(t *testing.T) {
	h, _ := ParseHash("sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E")
	tests := []struct {
		in        string
		want      Selector
		canonical string
	}{
		{`name:"a b.txt"`, Selector{Name: "a b.txt"}, `name:"a b.txt"`},
		// Any order, the legacy sha1: prefix, lower-case hex, extra
		// spaces and unknown fields.
		{`  size:10   hash:sha1:72:24:5f:e8:65:3d:da:f3:71:36:2f:86:d4:71:91:3e:e4:a2:ce:2e foo:bar name:"x" type:text/plain`,
			Selector{Name: "x", Type: "text/plain", Size: 10, Hash: h},
			`name:"x" type:text/plain size:10 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E`},
		// The first of a repeated field counts; a token without ':' is
		// ignored; "type:" inside the name is the name's.
		{`name:"type:evil size:9" size:1 size:2 junk`, Selector{Name: "type:evil size:9", Size: 1}, `name:"type:evil size:9" size:1`},
		{`name:"100%.txt"`, Selector{Name: "100%.txt"}, `name:"100%25.txt"`},
		{``, Selector{}, ``},
	}
	for _, tt := range tests {
		got, err := ParseSelector(tt.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSelector(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.canonical {
			t.Errorf("String() = %q, want %q", s, tt.canonical)
		}
	}
}

func TestSelectorRefused(t *testing.T) {
	for _, in := range []string{
		`name:report.pdf`,
		`name:"unterminated`,
		`name:""`,
		`name:"%00%00"`,
		`name:"` + strings.Repeat("n", maxNameBytes+1) + `"`,
		`size:-1`,
		`size:1e3`,
		`size:99999999999999999999`,
		`size:`,
		`type:`,
		`hash:sha-256:00:11`,
		`hash:sha-1:00:11`,
		`hash:sha-1:0G:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33`,
		`hash:sha-1:00-11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33`,
	} {
		if sel, err := ParseSelector(in); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("ParseSelector(%q) = %+v, %v; want ErrInvalidArgument", in, sel, err)
		}
	}
}

func TestHash(t *testing.T) {
	var h Hash
	if !h.IsZero() || h.String() != "" {
		t.Fatal("zero hash")
	}
	for i := range h {
		h[i] = byte(i * 13)
	}
	s := h.String()
	if s != "sha-1:00:0D:1A:27:34:41:4E:5B:68:75:82:8F:9C:A9:B6:C3:D0:DD:EA:F7" {
		t.Fatal(s)
	}
	back, err := ParseHash(s)
	if err != nil || back != h {
		t.Fatalf("ParseHash(%q) = %v, %v", s, back, err)
	}
	if h.Key() != "000d1a2734414e5b6875828f9ca9b6c3d0ddeaf7" {
		t.Fatal(h.Key())
	}
	var u Hash
	if err := u.UnmarshalText([]byte(s)); err != nil || u != h {
		t.Fatal(err)
	}
}

func TestGuessType(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"photo.PNG", "image/png"},
		{"doc.pdf", "application/pdf"},
		{"logs.tar.gz", "application/x-gzip"},
		{"a.bz2", "application/x-bzip2"},
		{"a.xz", "application/x-xz"},
		{"old.Z", "application/x-compress"},
		{"page.html", "text/html"},
		{"noext", DefaultType},
		{"weird.zzzunknown", DefaultType},
	} {
		if got := GuessType(tt.name); got != tt.want {
			t.Errorf("GuessType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
