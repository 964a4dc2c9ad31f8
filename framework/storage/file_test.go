package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/framework/config"
)

// tempFiles lists the temporary files of Save in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewFile(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Directory() != dir || s.Path() != filepath.Join(dir, "config") {
		t.Errorf("Directory() = %q, Path() = %q", s.Directory(), s.Path())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewFile created the config file: %v", err)
	}

	t.Chdir(base)
	rel, err := NewFile("rel")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(rel.Directory()) {
		t.Errorf("Directory() = %q is not absolute", rel.Directory())
	}
}

func TestNewFileErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if _, err := NewFile(dir); err == nil {
			t.Errorf("NewFile(%q) succeeded", dir)
		}
	}
}

func TestFileSaveModeAndContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	// A pre-existing, too-open file is replaced by a 0600 one.
	if err := os.WriteFile(path, []byte("user_agent = old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	doc := sampleDocument()
	if err := s.Save(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(config.Marshal(doc)) {
		t.Errorf("config holds\n%s\nwant config.Marshal(doc)", data)
	}
	if m := tempFiles(t, dir); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestFileLoadHandEdited(t *testing.T) {
	dir := t.TempDir()
	const text = "# edited by hand\nrtp:\n  audio_codec_list = PCMA\naccounts:\n  bob@example.org:\n    display_name = Bob\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := config.NewDocument()
	want.Settings.RTP.AudioCodecList = []string{"PCMA"}
	bob := config.NewAccount("bob@example.org")
	bob.DisplayName = "Bob"
	want.Accounts = []config.Account{bob}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v\nwant %+v", got, want)
	}
}

func TestFileLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		line    int    // for syntax errors
		key     string // for setting errors
		message string
	}{
		{name: "unknown key", text: "rtp:\n    timeout = 30\n    prot_range = 1-2\n", line: 3, message: "unknown setting"},
		{name: "wrong type", text: "user_agent = x\nrtp:\n  port_range = abc\n", line: 3, message: "invalid rtp.port_range"},
		{name: "bad indentation", text: "rtp:\n    timeout = 30\n  port_range = 50000-50500\n", line: 3, message: "indentation"},
		{name: "not allowed", text: "rtp:\n  port_range = 60000-50000\n", key: "rtp.port_range", message: "start must be below end"},
		{name: "missing default account", text: "default_account = carol@example.com\n", key: "default_account", message: "no account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewFile(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			doc, err := s.Load(context.Background())
			if err == nil {
				t.Fatalf("Load succeeded: %+v", doc)
			}
			if !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not name the file and say %q", err, tt.message)
			}
			if tt.key == "" {
				var se *config.SyntaxError
				if !errors.As(err, &se) || !errors.Is(err, config.ErrSyntax) {
					t.Fatalf("error %v does not wrap a *config.SyntaxError", err)
				}
				if se.File != s.Path() || se.Line != tt.line {
					t.Errorf("syntax error at %s:%d, want %s:%d", se.File, se.Line, s.Path(), tt.line)
				}
				return
			}
			var se *config.SettingError
			if !errors.As(err, &se) || !errors.Is(err, config.ErrInvalidSetting) {
				t.Fatalf("error %v does not wrap a *config.SettingError", err)
			}
			if se.Key != tt.key {
				t.Errorf("setting error for %q, want %q", se.Key, tt.key)
			}
		})
	}
}

func TestFileLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the file should be.
	if err := os.Mkdir(s.Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background()); err == nil {
		t.Error("Load succeeded")
	}
	if err := s.Save(context.Background(), sampleDocument()); err == nil {
		t.Error("Save over a directory succeeded")
	}
	if m := tempFiles(t, dir); len(m) != 0 {
		t.Errorf("a failed Save left temporary files: %v", m)
	}
}

func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	plant := func() []string {
		t.Helper()
		var names []string
		for _, name := range []string{tempPrefix + "123", tempPrefix + "abc"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte("half a fi"), 0o600); err != nil {
				t.Fatal(err)
			}
			names = append(names, p)
		}
		return names
	}
	keep := filepath.Join(dir, "zrtp.db")
	if err := os.WriteFile(keep, []byte("other state"), 0o600); err != nil {
		t.Fatal(err)
	}

	plant()
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := tempFiles(t, dir); len(m) != 0 {
		t.Errorf("NewFile left stale temporary files: %v", m)
	}

	plant()
	if _, err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := tempFiles(t, dir); len(m) != 2 {
		t.Errorf("Load touched temporary files: %v", m)
	}
	if err := s.Save(context.Background(), sampleDocument()); err != nil {
		t.Fatal(err)
	}
	if m := tempFiles(t, dir); len(m) != 0 {
		t.Errorf("Save left stale temporary files: %v", m)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("cleaning removed another file: %v", err)
	}
}
