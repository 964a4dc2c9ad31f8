package safename

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are names a peer may put in a=file-selector, with what they
// become ("" when refused).
var hostile = []struct{ in, want string }{
	{"report.pdf", "report.pdf"},
	{"../../../etc/passwd", "passwd"},
	{"..", ""},
	{".", ""},
	{"...", ""},
	{"../", ""},
	{"/etc/shadow", "shadow"},
	{"/", ""},
	{`C:\Windows\System32\evil.dll`, "evil.dll"},
	{`..\..\boot.ini`, "boot.ini"},
	{"a\x00b.txt", "a_b.txt"},
	{"\x00", ""},
	{"line\r\nbreak.txt", "line__break.txt"},
	{"tab\there.txt", "tab_here.txt"},
	{"bell\a.txt", "bell_.txt"},
	{"del\x7f.txt", "del_.txt"},
	{"c1\u0085.txt", "c1_.txt"},
	{`what<is>this:"|?*.txt`, "what_is_this_____.txt"},
	{"CON", "_CON"},
	{"con.txt", "_con.txt"},
	{"nul.tar.gz", "_nul.tar.gz"},
	{"COM1", "_COM1"},
	{"lpt9.log", "_lpt9.log"},
	{"COM10", "COM10"},
	{"console.txt", "console.txt"},
	{".bashrc", "bashrc"},
	{".sipstreams-partial", "sipstreams-partial"},
	{"trailing dots...", "trailing dots"},
	{"  spaced  ", "spaced"},
	{"bad\xffutf8.bin", "bad_utf8.bin"},
	{"txt\u202eexe.scr", "txt_exe.scr"},
	{"Ünïcödé файл 文件.bin", "Ünïcödé файл 文件.bin"},
	{strings.Repeat("a", 300) + ".pdf", strings.Repeat("a", MaxBytes-4) + ".pdf"},
	{strings.Repeat("é", 200) + ".txt", strings.Repeat("é", (MaxBytes-4)/2) + ".txt"},
	{"", ""},
	{"___", ""},
}

func TestSanitize(t *testing.T) {
	for _, tt := range hostile {
		got, err := Sanitize(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("Sanitize(%q) = %q, %v; want ErrUnsafe", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Sanitize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestSanitizedNamesStayInside creates a file under every sanitised
// hostile name in a directory: each lands directly inside it.
func TestSanitizedNamesStayInside(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range hostile {
		name, err := Sanitize(tt.in)
		if err != nil {
			continue
		}
		p := filepath.Join(dir, name)
		if filepath.Dir(p) != dir || !utf8.ValidString(name) || len(name) > MaxBytes {
			t.Errorf("%q → %q escapes or is not a plain name", tt.in, name)
			continue
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil && !errors.Is(err, os.ErrExist) {
			t.Errorf("create %q: %v", name, err)
			continue
		}
		if f != nil {
			f.Close()
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("unexpected entry %q", e.Name())
		}
	}
}

func TestUnique(t *testing.T) {
	taken := map[string]bool{"a.tar.gz": true, "a.tar-1.gz": true}
	got, err := Unique("a.tar.gz", 10, func(c string) (bool, error) { return !taken[c], nil })
	if err != nil || got != "a.tar-2.gz" {
		t.Fatalf("Unique = %q, %v", got, err)
	}
	if _, err := Unique("x", 3, func(string) (bool, error) { return false, nil }); err == nil {
		t.Fatal("Unique gave up without an error")
	}
}
