package ftstream

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait of a test; it is a deadline, not a timing
// assertion.
const testTimeout = 60 * time.Second

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile writes data into a fresh file called name and returns its
// path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha1Of(b []byte) filetransfer.Hash { return filetransfer.Hash(sha1.Sum(b)) } //nolint:gosec

// sessionSDP wraps media sections into a session description.
func sessionSDP(media ...string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + strings.Join(media, "")
}

// peer is one side of a transfer: a provider running the plugin
// in-process, a recorder of its notifications, one stream.
type peer struct {
	t        testing.TB
	name     string
	settings map[string]string
	ctx      context.Context
	p        *sdk.LocalProvider
	rec      *streamtest.Recorder
	cur      *streamtest.Cursor
	h        uint64
	s        sdk.Stream
}

// newPeer starts a provider; dir is its save directory.
func newPeer(t testing.TB, name, dir string, settings map[string]string, opts ...Option) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	lp, err := sdk.NewProvider(Plugin("test", opts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lp.Close(context.Background()); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
		cancel()
	})
	s := map[string]string{filetransfer.SettingDirectory: dir, "msrp.transport": "tcp"}
	for k, v := range settings {
		s[k] = v
	}
	rec := streamtest.Record(t, lp, streamtest.WithTimeout(testTimeout))
	return &peer{t: t, name: name, settings: s, ctx: ctx, p: lp, rec: rec, cur: rec.Cursor()}
}

func (p *peer) account() *sdk.Account {
	return &sdk.Account{ID: p.name, URI: "sip:" + p.name + "@127.0.0.1", Settings: p.settings}
}

func (p *peer) session(dir string) *sdk.InitializeRequest {
	return &sdk.InitializeRequest{Direction: dir, Session: &sdk.SessionInfo{ID: p.name, Direction: dir, LocalIP: "127.0.0.1"}}
}

// waitFor returns the next notification of our stream called name,
// consuming the ones before it.
func (p *peer) waitFor(name string) *sdk.Notification {
	p.t.Helper()
	return p.cur.NextFor(p.t, p.h, name)
}

// data waits for name and decodes its data into a T.
func data[T any](p *peer, name string) T {
	p.t.Helper()
	var v T
	if err := p.waitFor(name).Decode(&v); err != nil {
		p.t.Fatal(err)
	}
	return v
}

// names lists the notifications of our stream recorded so far.
func (p *peer) names() string { return strings.Join(p.rec.Names(p.h), " ") }

// create builds an outgoing stream with params and initializes it.
func (p *peer) create(params filetransfer.Params) {
	p.t.Helper()
	o, err := p.p.Create(p.ctx, &sdk.CreateRequest{Type: filetransfer.Type, Account: p.account(), Params: mustJSON(p.t, params)})
	if err != nil {
		p.t.Fatalf("%s: Create: %v", p.name, err)
	}
	p.h, p.s = o.Handle, o.Stream
	p.initialize(sdk.DirectionOutgoing)
}

// incoming builds a stream for m-line 0 of offer, calls prep (set_file,
// set_save_directory), and initializes it.
func (p *peer) incoming(offer string, prep func(s sdk.Stream)) {
	p.t.Helper()
	o, err := p.p.NewFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer, Account: p.account()})
	if err != nil {
		p.t.Fatalf("%s: NewFromSDP: %v", p.name, err)
	}
	p.h, p.s = o.Handle, o.Stream
	if prep != nil {
		prep(p.s)
	}
	p.initialize(sdk.DirectionIncoming)
}

func (p *peer) initialize(dir string) {
	p.t.Helper()
	if err := p.s.Initialize(p.ctx, p.session(dir)); err != nil {
		p.t.Fatalf("%s: Initialize: %v", p.name, err)
	}
	n := p.cur.NextMatch(p.t, "initialization outcome", func(n sdk.Notification) bool {
		return n.Handle == p.h && (n.Name == sdk.MediaStreamDidInitialize || n.Name == sdk.MediaStreamDidNotInitialize)
	})
	if n.Name != sdk.MediaStreamDidInitialize {
		p.t.Fatalf("%s: %s %s", p.name, n.Name, n.Data)
	}
}

func (p *peer) offer() string {
	p.t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		p.t.Fatalf("%s: GetLocalMedia(offer): %v", p.name, err)
	}
	return sessionSDP(res.Media)
}

func (p *peer) answer(offer string) string {
	p.t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		p.t.Fatalf("%s: GetLocalMedia(answer): %v", p.name, err)
	}
	return sessionSDP(res.Media)
}

func (p *peer) start(local, remote string) {
	p.t.Helper()
	if err := p.s.Start(p.ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote}); err != nil {
		p.t.Fatalf("%s: Start: %v", p.name, err)
	}
}

// endAll tears the streams down as a session does: all are deactivated
// first, then ended.
func endAll(ps ...*peer) {
	for _, p := range ps {
		p.t.Helper()
		_ = p.s.Deactivate(p.ctx)
	}
	for _, p := range ps {
		if err := p.s.End(p.ctx); err != nil {
			p.t.Fatalf("%s: End: %v", p.name, err)
		}
		p.waitFor(sdk.MediaStreamDidEnd)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := sdk.MarshalJSONValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// transfer runs a whole call: offerer makes its stream with params,
// answerer takes the offer (prep before it is initialized), both start,
// and the call returns once both posted FileTransferHandlerDidEnd.
func transfer(t testing.TB, offerer, answerer *peer, params filetransfer.Params, prep func(sdk.Stream)) (sent, got filetransfer.DidEndData) {
	t.Helper()
	offerer.create(params)
	offer := offerer.offer()
	answerer.incoming(offer, prep)
	answer := answerer.answer(offer)
	answerer.start(answer, offer)
	offerer.start(offer, answer)
	a := data[filetransfer.DidEndData](offerer, filetransfer.HandlerDidEnd)
	b := data[filetransfer.DidEndData](answerer, filetransfer.HandlerDidEnd)
	return a, b
}

// check fails unless path holds want.
func check(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || sha1Of(got) != sha1Of(want) {
		t.Fatalf("%s: %d bytes, want %d (content differs)", path, len(got), len(want))
	}
}

// dirEntries lists a directory, hidden entries included, recursively.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var _ = fmt.Sprint
