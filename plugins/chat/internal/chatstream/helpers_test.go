package chatstream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait of a test; it is a deadline, not a timing
// assertion.
const testTimeout = 30 * time.Second

// sessionSDP wraps media sections into a session description from ip.
func sessionSDP(ip string, media ...string) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", ip, ip) + strings.Join(media, "")
}

// party is one user: an identity and the account settings of its side.
type party struct {
	name     string
	identity chat.Identity
	settings map[string]string
}

func (p party) account() *sdk.Account {
	return &sdk.Account{ID: p.name, URI: p.identity.URI, DisplayName: p.identity.DisplayName, Settings: p.settings}
}

var (
	aliceID = chat.Identity{URI: "sip:alice@example.com", DisplayName: "Alice"}
	bobID   = chat.Identity{URI: "sip:bob@example.com", DisplayName: "Bob"}
)

// peer is one side of a call: a provider running the chat plugin
// in-process, a recorder of its notifications (read in order through
// cur), and one chat stream.
type peer struct {
	t      testing.TB
	me     party
	remote chat.Identity
	ctx    context.Context
	p      *sdk.LocalProvider
	rec    *streamtest.Recorder
	cur    *streamtest.Cursor
	h      uint64
	s      sdk.Stream
	focus  bool // the remote is a conference focus (SessionInfo.RemoteFocus)
}

func newPeer(t testing.TB, me party, remote chat.Identity) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	lp, err := sdk.NewProvider(Plugin("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lp.Close(context.Background()); err != nil {
			t.Errorf("%s: close: %v", me.name, err)
		}
		cancel()
	})
	rec := streamtest.Record(t, lp, streamtest.WithTimeout(testTimeout))
	return &peer{t: t, me: me, remote: remote, ctx: ctx, p: lp, rec: rec, cur: rec.Cursor()}
}

// waitFor returns the next notification of our stream called name,
// consuming the ones before it.
func (p *peer) waitFor(name string) *sdk.Notification {
	p.t.Helper()
	return p.cur.NextFor(p.t, p.h, name)
}

// find returns the first notification of our stream, among all those
// recorded or still to come, that ok accepts; it consumes nothing. ok may
// see a notification more than once.
func (p *peer) find(ok func(*sdk.Notification) bool) *sdk.Notification {
	p.t.Helper()
	return p.rec.Wait(p.t, "a notification of "+p.me.name, func(n sdk.Notification) bool {
		return n.Handle == p.h && ok(&n)
	})
}

// seen returns the notifications of our stream recorded so far.
func (p *peer) seen() []sdk.Notification { return p.rec.Of(p.h) }

// waitData waits for name and decodes its data into v.
func (p *peer) waitData(name string, v any) {
	p.t.Helper()
	n := p.waitFor(name)
	if err := n.Decode(v); err != nil {
		p.t.Fatal(err)
	}
}

// names lists the notifications of our stream recorded so far.
func (p *peer) names() string { return strings.Join(p.rec.Names(p.h), " ") }

func (p *peer) session(dir string) *sdk.InitializeRequest {
	return &sdk.InitializeRequest{Direction: dir, Session: &sdk.SessionInfo{
		ID: p.me.name, Direction: dir, LocalIP: "127.0.0.1",
		LocalIdentity: p.me.identity.String(), RemoteIdentity: p.remote.String(),
		RemoteFocus: p.focus,
	}}
}

func (p *peer) opened(o *sdk.Opened, dir string) {
	p.t.Helper()
	if o.Type != chat.Type {
		p.t.Fatalf("%s: opened type %q", p.me.name, o.Type)
	}
	p.h, p.s = o.Handle, o.Stream
	if err := p.s.Initialize(p.ctx, p.session(dir)); err != nil {
		p.t.Fatalf("%s: Initialize: %v", p.me.name, err)
	}
	p.waitFor(sdk.MediaStreamDidInitialize)
}

// create builds and initializes an outgoing stream.
func (p *peer) create() {
	p.t.Helper()
	o, err := p.p.Create(p.ctx, &sdk.CreateRequest{Type: chat.Type, Account: p.me.account()})
	if err != nil {
		p.t.Fatalf("%s: Create: %v", p.me.name, err)
	}
	p.opened(o, sdk.DirectionOutgoing)
}

// accept builds and initializes a stream for m-line 0 of offer.
func (p *peer) accept(offer string) {
	p.t.Helper()
	o, err := p.p.NewFromSDP(p.ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer, Account: p.me.account()})
	if err != nil {
		p.t.Fatalf("%s: NewFromSDP: %v", p.me.name, err)
	}
	p.opened(o, sdk.DirectionIncoming)
}

func (p *peer) offer() string {
	p.t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		p.t.Fatalf("%s: GetLocalMedia(offer): %v", p.me.name, err)
	}
	return sessionSDP("127.0.0.1", res.Media)
}

func (p *peer) answer(offer string) string {
	p.t.Helper()
	res, err := p.s.GetLocalMedia(p.ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		p.t.Fatalf("%s: GetLocalMedia(answer): %v", p.me.name, err)
	}
	return sessionSDP("127.0.0.1", res.Media)
}

// start starts the stream without waiting for the outcome.
func (p *peer) start(local, remote string) {
	p.t.Helper()
	if err := p.s.Start(p.ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote}); err != nil {
		p.t.Fatalf("%s: Start: %v", p.me.name, err)
	}
}

// send sends a message and returns its ID.
func (p *peer) send(m chat.Message) string {
	p.t.Helper()
	id, err := chat.SendMessage(p.ctx, p.s, m)
	if err != nil {
		p.t.Fatalf("%s: send_message: %v", p.me.name, err)
	}
	return id
}

func (p *peer) end() { endAll(p) }

// endAll tears the streams down as a session does: all are deactivated
// first, then ended.
func endAll(ps ...*peer) {
	for _, p := range ps {
		p.t.Helper()
		if err := p.s.Deactivate(p.ctx); err != nil {
			p.t.Fatalf("%s: Deactivate: %v", p.me.name, err)
		}
	}
	for _, p := range ps {
		if err := p.s.End(p.ctx); err != nil {
			p.t.Fatalf("%s: End: %v", p.me.name, err)
		}
		p.waitFor(sdk.MediaStreamDidEnd)
	}
}

// pair negotiates a (offerer) and b (answerer) without starting them.
func pair(t testing.TB, alice, bob party) (a, b *peer, offer, answer string) {
	t.Helper()
	a, b = newPeer(t, alice, bob.identity), newPeer(t, bob, alice.identity)
	a.create()
	offer = a.offer()
	b.accept(offer)
	answer = b.answer(offer)
	return a, b, offer, answer
}

// startPair starts both streams of a negotiated pair and waits for both.
func startPair(a, b *peer, offer, answer string) {
	b.start(answer, offer)
	a.start(offer, answer)
	a.waitFor(sdk.MediaStreamDidStart)
	b.waitFor(sdk.MediaStreamDidStart)
}
