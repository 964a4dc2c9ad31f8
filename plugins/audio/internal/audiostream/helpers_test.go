package audiostream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 20 * time.Second

// writeTone writes seconds of a sine at freq Hz, amplitude 12000, as a WAV
// file at rate Hz.
func writeTone(t testing.TB, dir string, freq float64, rate int, seconds float64) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("tone-%gHz.wav", freq))
	w, err := wav.Create(path, rate)
	if err != nil {
		t.Fatal(err)
	}
	n := int(seconds * float64(rate))
	buf := make([]int16, n)
	for i := range buf {
		buf[i] = int16(12000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	if err := w.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readWAV returns a WAV file's samples and rate.
func readWAV(t testing.TB, path string) ([]int16, int) {
	t.Helper()
	r, err := wav.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out, r.SampleRate()
}

// harness runs the audio plugin behind one or two providers (in-process,
// or two plugin processes) and records every notification of each.
type harness struct {
	t     testing.TB
	lp    *sdk.LocalProvider // the in-process provider, if any
	provs []sdk.Provider     // A's is the first, B's the last
	recs  []*streamtest.Recorder
	mu    sync.Mutex
	owner map[*sdk.Opened]int // provider index of each stream
}

// newHarness runs the plugin in-process.
func newHarness(t testing.TB) *harness {
	t.Helper()
	lp, err := sdk.NewProvider(audiostream.Plugin("test"))
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWith(t, lp)
}

// newHarnessWith runs the plugin behind lp, which it closes at the end.
func newHarnessWith(t testing.TB, lp *sdk.LocalProvider) *harness {
	t.Helper()
	h := &harness{t: t, lp: lp, owner: map[*sdk.Opened]int{}}
	// Registered first, so it runs after the reader stopped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := lp.Close(ctx); err != nil {
			t.Errorf("closing the provider: %v", err)
		}
	})
	h.add(lp)
	return h
}

// add adds a provider and records its notifications until the test ends.
func (h *harness) add(p sdk.Provider) {
	h.t.Helper()
	h.provs = append(h.provs, p)
	h.recs = append(h.recs, streamtest.Record(h.t, p, streamtest.WithTimeout(waitTimeout)))
}

// rec returns the recorder of o's provider.
func (h *harness) rec(o *sdk.Opened) *streamtest.Recorder {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recs[h.owner[o]]
}

// notifications returns the notifications called name posted for o so far.
func (h *harness) notifications(o *sdk.Opened, name string) []sdk.Notification {
	return h.rec(o).Of(o.Handle, name)
}

// waitFor polls until cond holds, failing the test after waitTimeout: for
// conditions no notification announces (media statistics).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNotification waits until o has posted n notifications called name
// and returns them all.
func (h *harness) waitNotification(o *sdk.Opened, name string, n int) []sdk.Notification {
	h.t.Helper()
	return h.rec(o).WaitCount(h.t, o.Handle, n, name)
}

// postedAsPair waits until o has posted n notifications called seed (a
// name of the seed's API) and as many called other (the same event under
// the reference code's name), and checks that the k-th of each carry the
// same data, seed first. It returns the seed-named ones.
func (h *harness) postedAsPair(o *sdk.Opened, seed, other string, n int) []sdk.Notification {
	h.t.Helper()
	rec := h.rec(o)
	seeds := rec.WaitCount(h.t, o.Handle, n, seed)
	others := rec.WaitCount(h.t, o.Handle, len(seeds), other)
	order := map[uint64]int{} // Seq → position in the stream's log
	for i, x := range rec.Of(o.Handle) {
		order[x.Seq] = i
	}
	for k, x := range seeds {
		y := others[k]
		if string(x.Data) != string(y.Data) || order[x.Seq] > order[y.Seq] {
			h.t.Errorf("stream %d: %s #%d %s and %s #%d %s: want the same data, %s first\n%s",
				o.Handle, seed, k, x.Data, other, k, y.Data, seed, rec.Dump(o.Handle))
		}
	}
	return seeds
}

// account returns an account with the given settings over test defaults.
func account(id string, settings map[string]string) *sdk.Account {
	s := map[string]string{
		sdkaudio.SettingPortRange:    "40000-40998",
		sdkaudio.SettingInputDevice:  "none",
		sdkaudio.SettingOutputDevice: "none",
	}
	for k, v := range settings {
		s[k] = v
	}
	return &sdk.Account{ID: id, URI: "sip:" + id + "@127.0.0.1", Settings: s}
}

// wrap builds a session description around one media section.
func wrap(media string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + media
}

// call is an offerer A and an answerer B on one provider.
type call struct {
	h             *harness
	a, b          *sdk.Opened
	offer, answer string
}

func session(id, dir string) *sdk.Prepare {
	return &sdk.Prepare{
		Session:    &sdk.SessionInfo{ID: id, Direction: dir, LocalIP: "127.0.0.1", RemoteIdentity: "sip:peer@127.0.0.1"},
		Direction:  dir,
		LocalMedia: true,
	}
}

// open creates A, offers to B and returns both with the SDP exchanged but
// not started.
func (h *harness) open(accA, accB *sdk.Account) *call {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	a, err := h.provs[0].Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: accA, Prepare: session("a", sdk.DirectionOutgoing)})
	if err != nil {
		h.t.Fatalf("Create: %v", err)
	}
	h.t.Cleanup(func() { _ = a.Stream.End(context.Background()) })
	if !a.Initialized {
		h.t.Fatalf("A did not initialize: %s", a.InitError)
	}
	offer := wrap(a.Media)
	last := len(h.provs) - 1
	b, err := h.provs[last].NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: accB, RemoteSDP: offer, Prepare: session("b", sdk.DirectionIncoming)})
	if err != nil {
		h.t.Fatalf("NewFromSDP: %v\noffer:\n%s", err, offer)
	}
	h.t.Cleanup(func() { _ = b.Stream.End(context.Background()) })
	h.mu.Lock()
	h.owner[b] = last
	h.mu.Unlock()
	if !b.Initialized {
		h.t.Fatalf("B did not initialize: %s", b.InitError)
	}
	return &call{h: h, a: a, b: b, offer: offer, answer: wrap(b.Media)}
}

// start starts both sides; remoteForA is the answer as A receives it.
func (c *call) start(remoteForA string) {
	c.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.a.Stream.Start(ctx, &sdk.StartRequest{LocalSDP: c.offer, RemoteSDP: remoteForA}); err != nil {
		c.h.t.Fatal(err)
	}
	if err := c.b.Stream.Start(ctx, &sdk.StartRequest{LocalSDP: c.answer, RemoteSDP: c.offer}); err != nil {
		c.h.t.Fatal(err)
	}
	for _, o := range []*sdk.Opened{c.a, c.b} {
		c.h.waitNotification(o, sdk.MediaStreamDidStart, 1)
		if f := c.h.notifications(o, sdk.MediaStreamDidFail); len(f) > 0 {
			c.h.t.Fatalf("stream %d failed: %s", o.Handle, f[0].Data)
		}
	}
}

// reoffer runs a re-INVITE offered by from to to and applies it on both.
func (c *call) reoffer(from, to *sdk.Opened) { c.reofferWith(from, to, nil) }

// reofferWith is reoffer with the answer changed by edit on its way (for
// both sides) when edit is not nil.
func (c *call) reofferWith(from, to *sdk.Opened, edit func(string) string) {
	c.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	o, err := from.Stream.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		c.h.t.Fatal(err)
	}
	offer := wrap(o.Media)
	v, err := to.Stream.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{RemoteSDP: offer})
	if err != nil || !v.OK {
		c.h.t.Fatalf("ValidateUpdate = %+v, %v", v, err)
	}
	a, err := to.Stream.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		c.h.t.Fatal(err)
	}
	answer := wrap(a.Media)
	if edit != nil {
		answer = edit(answer)
	}
	if err := to.Stream.Update(ctx, &sdk.UpdateRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		c.h.t.Fatal(err)
	}
	if err := from.Stream.Update(ctx, &sdk.UpdateRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		c.h.t.Fatal(err)
	}
}

// stats returns a stream's statistics.
func stats(t testing.TB, s sdk.Stream) sdkaudio.Statistics {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	st, err := sdkaudio.GetStatistics(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// mustCall runs f with a bounded context and fails the test on error.
func mustCall(t testing.TB, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mLineHas reports whether a session description has the line prefix.
func mLineHas(sdpText, prefix string) bool {
	for _, l := range strings.Split(sdpText, "\r\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
