package ftstream

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ from what the stream sends")

// Values the golden messages hold where a live message has random ones.
const (
	goldenTID       = "ftgolden01"
	goldenMessageID = "golden-message-id"
	goldenBody      = "the bytes of the file from the offset on"
)

var goldenPaths = map[string]string{
	msrp.HeaderToPath:   "msrp://127.0.0.1:2855/topath1234;tcp",
	msrp.HeaderFromPath: "msrp://127.0.0.1:2856/frompath5678;tcp",
}

// readGolden parses testdata/name, which must re-serialise byte for byte.
func readGolden(t *testing.T, name string) *msrp.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Contains(raw, []byte("\r\n")) {
		t.Fatalf("%s lost its CRLF line endings", name)
	}
	r := msrp.NewReader(bytes.NewReader(raw))
	m, err := r.ReadMessage(1 << 20)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("%s: trailing data: %v", name, err)
	}
	if out := m.Marshal(); !bytes.Equal(out, raw) {
		t.Fatalf("%s re-serialised differs:\n got %q\nwant %q", name, out, raw)
	}
	return m
}

// TestGoldenMessages: every MSRP message of testdata parses and is
// written back byte for byte.
func TestGoldenMessages(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.msrp")
	if len(files) < 4 {
		t.Fatalf("golden messages: %v", files)
	}
	for _, f := range files {
		readGolden(t, filepath.Base(f))
	}
}

// normalise replaces what is random in a live message (transaction id,
// paths, Message-ID) with the golden values, keeps a short body, and
// returns its wire form.
func normalise(live *msrp.Message) []byte {
	m := &msrp.Message{TransactionID: goldenTID, Method: live.Method, StatusCode: live.StatusCode, Comment: live.Comment, Flag: msrp.FlagContinued}
	for _, h := range live.Headers {
		if v, ok := goldenPaths[h.Name]; ok {
			h.Value = v
		}
		if h.Name == msrp.HeaderMessageID {
			h.Value = goldenMessageID
		}
		m.Headers = append(m.Headers, h)
	}
	if m.HasBody() {
		m.Body = []byte(goldenBody)
	} else {
		m.Flag = msrp.FlagEnd
	}
	return m.Marshal()
}

// checkGoldenHead compares the start line and headers of a live message,
// its random values normalised, with testdata/name.
func checkGoldenHead(t *testing.T, name string, live *msrp.Message) {
	t.Helper()
	got := normalise(live)
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", name), got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t, name)
	if !bytes.Equal(got, want.Marshal()) {
		t.Fatalf("%s: the stream's message differs:\n got %q\nwant %q", name, got, want.Marshal())
	}
}
