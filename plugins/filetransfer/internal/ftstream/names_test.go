package ftstream

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// TestHostileNames pushes a file under names a hostile peer might
// announce: every file that is accepted lands directly inside the save
// directory, under the sanitised name; a name nothing safe is left of
// refuses the stream.
func TestHostileNames(t *testing.T) {
	long := strings.Repeat("a", 300) + ".txt"
	tests := []struct {
		name string
		want string // "" means refused
	}{
		{"../../etc/passwd", "passwd"},
		{"/etc/shadow", "shadow"},
		{`..\..\windows\system32\config`, "config"},
		{`C:\Windows\evil.exe`, "evil.exe"},
		{"a/b/../../../c", "c"},
		{"a\x00b.txt", "a_b.txt"},
		{"line\r\nbreak.txt", "line__break.txt"},
		{"tab\there\x7f.txt", "tab_here_.txt"},
		{"x:y?<z>|*.txt", "x_y__z___.txt"},
		{"CON.txt", "_CON.txt"},
		{"lpt1", "_lpt1"},
		{".hidden", "hidden"},
		{"trailing. . .", "trailing"},
		{"evil\u202etxt.exe", "evil_txt.exe"},
		{"%2e%2e%2fetc", "%2e%2e%2fetc"},
		{long, strings.Repeat("a", 196) + ".txt"},
		{"..", ""},
		{"....", ""},
		{"../..", ""},
		{"/", ""},
		{"\x01\x02", ""},
	}
	content := randomBytes(t, 3000)
	src := writeFile(t, "source.bin", content)
	for _, tt := range tests {
		t.Run(strings.NewReplacer("/", "slash", "\x00", "NUL").Replace(tt.name), func(t *testing.T) {
			dir := t.TempDir()
			alice := newPeer(t, "alice", t.TempDir(), nil)
			bob := newPeer(t, "bob", dir, nil)
			params := filetransfer.Push(src)
			params.Selector.Name = tt.name
			if tt.want == "" {
				alice.create(params)
				_, err := bob.p.NewFromSDP(bob.ctx, &sdk.NewFromSDPRequest{RemoteSDP: alice.offer(), Account: bob.account()})
				if !errors.Is(err, sdk.ErrInvalidStream) {
					t.Fatalf("NewFromSDP: %v, want ErrInvalidStream", err)
				}
				endAll(alice)
				return
			}
			sent, got := transfer(t, alice, bob, params, nil)
			if sent.Error || got.Error {
				t.Fatalf("sender %+v, receiver %+v", sent, got)
			}
			if filepath.Dir(got.Path) != dir || filepath.Base(got.Path) != tt.want {
				t.Fatalf("saved as %q, want %q in %s", got.Path, tt.want, dir)
			}
			check(t, got.Path, content)
			endAll(alice, bob)
			for _, e := range dirEntries(t, dir) {
				if e != tt.want && e != filetransfer.PartialDir {
					t.Fatalf("left in the directory: %v", dirEntries(t, dir))
				}
			}
		})
	}
}
