package ftstream

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// mediaOf returns the media section of a session description written by
// the test helpers (what follows t=).
func mediaOf(sdpText string) string {
	_, m, _ := strings.Cut(sdpText, "t=0 0\r\n")
	return m
}

var (
	portRE = regexp.MustCompile(`(m=message )\d+`)
	pathRE = regexp.MustCompile(`msrp://127\.0\.0\.1:\d+/[0-9a-f]+;tcp`)
	idRE   = regexp.MustCompile(`(a=file-transfer-id:)\S+`)
)

// normaliseMedia replaces the random parts of a live media section (port,
// session-id, transfer id) with golden values.
func normaliseMedia(m string) string {
	m = portRE.ReplaceAllString(m, "${1}7777")
	m = pathRE.ReplaceAllString(m, "msrp://127.0.0.1:7777/golden1234;tcp")
	return idRE.ReplaceAllString(m, "${1}golden-transfer-id")
}

// checkGoldenMedia compares a live media section, normalised, with
// testdata/name, which must also parse and be written back byte for byte.
func checkGoldenMedia(t *testing.T, name, live string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got := normaliseMedia(mediaOf(live))
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Fatalf("%s: the stream's media differs:\n got %q\nwant %q", name, got, want)
	}
	m, err := msrpstream.ParseMediaAt(sessionSDP(string(want)), 0, msrpstream.TransportTCP)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out, err := m.Marshal()
	if err != nil || out != string(want) {
		t.Fatalf("%s re-serialised differs (%v):\n got %q\nwant %q", name, err, out, want)
	}
}

// TestGoldenSDP: the media sections of a push (offer and answer) and of a
// pull (offer naming the file, answer describing it) are those of
// testdata, which parse and re-serialise byte for byte.
func TestGoldenSDP(t *testing.T) {
	content := make([]byte, 3000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	src := writeFile(t, "report 2024.pdf", content)
	t.Run("push", func(t *testing.T) {
		alice := newPeer(t, "alice", t.TempDir(), nil)
		bob := newPeer(t, "bob", t.TempDir(), nil)
		alice.create(filetransfer.Push(src))
		offer := alice.offer()
		bob.incoming(offer, nil)
		checkGoldenMedia(t, "push-offer.sdp", offer)
		checkGoldenMedia(t, "push-answer.sdp", bob.answer(offer))
		endAll(alice, bob)
	})
	t.Run("pull", func(t *testing.T) {
		carol := newPeer(t, "carol", t.TempDir(), nil)
		dave := newPeer(t, "dave", t.TempDir(), nil)
		carol.create(filetransfer.Pull("report 2024.pdf", ""))
		offer := carol.offer()
		dave.incoming(offer, func(s sdk.Stream) {
			if err := filetransfer.SetFile(dave.ctx, s, src); err != nil {
				t.Fatal(err)
			}
		})
		checkGoldenMedia(t, "pull-offer.sdp", offer)
		checkGoldenMedia(t, "pull-answer.sdp", dave.answer(offer))
		endAll(carol, dave)
	})
}
