package ftstream

import (
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// TestPushAndPull transfers a file both ways over TCP and TLS: alice
// pushes it to bob, then bob pulls it from alice; each time the receiver
// saves it under its name, verified, and the sender learns the last byte
// was confirmed.
func TestPushAndPull(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			content := randomBytes(t, 1<<20+12345)
			src := writeFile(t, "photo.png", content)
			settings := map[string]string{"msrp.transport": transport}

			t.Run("push", func(t *testing.T) {
				bobDir := t.TempDir()
				alice := newPeer(t, "alice", t.TempDir(), settings)
				bob := newPeer(t, "bob", bobDir, settings)
				sent, got := transfer(t, alice, bob, filetransfer.Push(src), nil)
				if sent.Error || got.Error || !got.Verified || got.Hash != sha1Of(content) || sent.Hash != got.Hash {
					t.Fatalf("sender %+v, receiver %+v", sent, got)
				}
				if got.Path != filepath.Join(bobDir, "photo.png") {
					t.Fatalf("saved as %q", got.Path)
				}
				check(t, got.Path, content)
				if hp := alice.rec.Of(alice.h, filetransfer.HandlerHashProgress); len(hp) < 2 {
					t.Fatalf("hash progress %v", hp)
				}
				endAll(alice, bob)
				if e := dirEntries(t, bobDir); len(e) != 2 { // the file and the empty partial directory
					t.Fatalf("left in the directory: %v", e)
				}
			})
			t.Run("pull", func(t *testing.T) {
				bobDir := t.TempDir()
				alice := newPeer(t, "alice", t.TempDir(), settings)
				bob := newPeer(t, "bob", bobDir, settings)
				got, sent := transfer(t, bob, alice, filetransfer.Pull("photo.png", ""), func(s sdk.Stream) {
					if err := filetransfer.SetFile(alice.ctx, s, src); err != nil {
						t.Fatal(err)
					}
				})
				if sent.Error || got.Error || !got.Verified || got.Hash != sha1Of(content) {
					t.Fatalf("sender %+v, receiver %+v", sent, got)
				}
				check(t, got.Path, content)
				endAll(alice, bob)
			})
		})
	}
}
