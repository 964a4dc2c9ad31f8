package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// reads is written back by Marshal as text that reads back to an equal
// document, and that Marshal is then a fixed point.
func FuzzUnmarshal(f *testing.F) {
	for _, pattern := range []string{"testdata/*.golden", "testdata/*.conf"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add(Marshal(fullDocument()))
	f.Add([]byte("rtp:\n  audio_codec_list = \"a,b\", c\n"))
	f.Add([]byte("user_agent = \"\\x00\\u2028 \"\naccounts:\n a@[::1]:\n  auth:\n   password = \"\"\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Unmarshal(data, "fuzz")
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		text := Marshal(d)
		d2, err := Unmarshal(text, "marshalled")
		if err != nil {
			t.Fatalf("Marshal output does not read back: %v\ninput:\n%q\nmarshalled:\n%s", err, data, text)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed the document\ninput:\n%q\nfirst:  %+v\nsecond: %+v", data, d, d2)
		}
		if text2 := Marshal(d2); string(text2) != string(text) {
			t.Fatalf("Marshal is not a fixed point:\n%s\n---\n%s", text, text2)
		}
		_ = d.Validate() // must not panic
		_ = d.Settings.Flatten()
	})
}
