package ftstream

import (
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// initOutcome initializes p's stream and returns the reasons of
// FileTransferHandlerDidNotInitialize and MediaStreamDidNotInitialize
// ("" when it initialized).
func initOutcome(p *peer, dir string) (string, string) {
	p.t.Helper()
	if err := p.s.Initialize(p.ctx, p.session(dir)); err != nil {
		p.t.Fatalf("%s: Initialize: %v", p.name, err)
	}
	n := p.cur.NextMatch(p.t, "initialization outcome", func(n sdk.Notification) bool {
		return n.Handle == p.h && (n.Name == sdk.MediaStreamDidInitialize || n.Name == sdk.MediaStreamDidNotInitialize)
	})
	if n.Name == sdk.MediaStreamDidInitialize {
		return "", ""
	}
	var media struct{ Reason string }
	_ = n.Decode(&media)
	var handler filetransfer.ReasonData
	if ns := p.rec.Of(p.h, filetransfer.HandlerDidNotInitialize); len(ns) == 1 {
		_ = ns[0].Decode(&handler)
	}
	return handler.Reason, media.Reason
}

// TestInitializeFailures: an empty file is not offered, and a pull the
// application gives no file for does not initialize, with the
// reference's reasons.
func TestInitializeFailures(t *testing.T) {
	t.Run("empty file", func(t *testing.T) {
		alice := newPeer(t, "alice", t.TempDir(), nil)
		o, err := alice.p.Create(alice.ctx, &sdk.CreateRequest{Type: filetransfer.Type, Account: alice.account(),
			Params: mustJSON(t, filetransfer.Push(writeFile(t, "empty.txt", nil)))})
		if err != nil {
			t.Fatal(err)
		}
		alice.h, alice.s = o.Handle, o.Stream
		h, m := initOutcome(alice, sdk.DirectionOutgoing)
		if h != filetransfer.ReasonEmptyFile || m != filetransfer.ReasonEmptyFile {
			t.Fatalf("reasons %q, %q", h, m)
		}
		_ = alice.s.End(alice.ctx)
	})
	t.Run("pull without a file", func(t *testing.T) {
		carol := newPeer(t, "carol", t.TempDir(), nil)
		dave := newPeer(t, "dave", t.TempDir(), nil)
		carol.create(filetransfer.Pull("wanted.txt", ""))
		o, err := dave.p.NewFromSDP(dave.ctx, &sdk.NewFromSDPRequest{RemoteSDP: carol.offer(), Account: dave.account()})
		if err != nil {
			t.Fatal(err)
		}
		dave.h, dave.s = o.Handle, o.Stream
		h, m := initOutcome(dave, sdk.DirectionIncoming)
		if h != filetransfer.ReasonNoFile || m != filetransfer.ReasonNoFile {
			t.Fatalf("reasons %q, %q", h, m)
		}
		_ = dave.s.End(dave.ctx)
		endAll(carol)
	})
}
