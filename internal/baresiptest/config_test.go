package baresiptest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestConfigGolden renders config and accounts files and compares them
// with testdata/*.golden (go test -update rewrites them).
func TestConfigGolden(t *testing.T) {
	cases := []struct {
		name string
		s    settings
	}{
		{"sine-pcmu-auto", settings{
			dir: "/DIR", port: 5060, rtpMin: 20000, rtpMax: 20019, toneHz: 1000, name: "B",
			autoAnswer: true, codecs: []string{CodecPCMU},
		}},
		{"wav-srtp-manual", settings{
			dir: "/DIR", port: 5070, rtpMin: 30000, rtpMax: 30019, wav: "/data/voice.wav", name: "A",
			codecs: []string{CodecOpus, CodecG722}, mediaEnc: "srtp-mand",
			configExtra: []string{"jitter_buffer_delay 1-5"}, accountExtra: []string{"ptime=30"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for suffix, got := range map[string]string{
				".config.golden":   tc.s.configFile(),
				".accounts.golden": tc.s.accountsFile(),
			} {
				path := filepath.Join("testdata", tc.name+suffix)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s differs:\n--- got ---\n%s--- want ---\n%s", path, got, want)
				}
			}
		})
	}
}
