package streamtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// suite is one run of the conformance cases against one provider.
type suite struct {
	prov  sdk.Provider
	cfg   *config
	notes *notes
	seq   atomic.Uint64
}

// runSuite is the suite's single entry point: Run, RunBinary and
// RunProvider reach it with a testing.T, the package's tests with a
// recorder.
func runSuite(r runner, prov sdk.Provider, cfg *config) {
	r.Helper()
	s := &suite{prov: prov, cfg: cfg}
	s.notes = startNotes(r, prov, cfg.timeout)

	var m *sdk.Manifest
	r.run("manifest", func(t runner) { m = s.manifest(t) })
	if m == nil {
		r.Fatalf("Describe gave no manifest: the other cases need one")
	}
	r.run("malformed-sdp", func(t runner) { s.malformedSDP(t, m) })
	r.run("errors", func(t runner) { s.providerErrors(t) })
	for _, info := range m.StreamTypes {
		if len(cfg.types) > 0 && !slices.Contains(cfg.types, info.Type) {
			continue
		}
		r.run(info.Type, func(r runner) { s.typeCases(r, info) })
	}
}

// typeCases runs the cases that need streams of one type.
func (s *suite) typeCases(r runner, info sdk.StreamTypeInfo) {
	r.Helper()
	ts := &typeSuite{suite: s, info: info}
	var created, notImplemented bool
	r.run("end-before-initialize", func(t runner) { notImplemented = ts.endBeforeInitialize(t, &created) })
	switch {
	case notImplemented:
		r.Logf("stream type %q: Create is not implemented, so the cases that need an outgoing stream are skipped", info.Type)
		return
	case !created:
		r.Errorf("stream type %q: Create fails, so the cases that need an outgoing stream cannot run", info.Type)
		return
	}
	r.run("end-during-initialize", ts.endDuringInitialize)
	r.run("lifecycle", ts.lifecycle)
	if info.HoldSupported {
		r.run("hold", ts.hold)
	} else {
		r.Logf("stream type %q does not support hold: hold case skipped", info.Type)
	}
	r.run("reinvite-add-remove", ts.reinviteAddRemove)
	r.run("reset", ts.reset)
	r.run("errors", ts.streamErrors)
	r.run("end-during-start", ts.endDuringStart)
	r.run("quiet-after-end", ts.quietAfterEnd)
}

// manifest checks Describe and the manifest it returns. It returns nil only
// when Describe fails.
func (s *suite) manifest(t tb) *sdk.Manifest {
	m, err := bounded(t, s.cfg.timeout, "Describe", func(ctx context.Context) (*sdk.Manifest, error) {
		return s.prov.Describe(ctx)
	})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if m == nil {
		t.Fatalf("Describe returned no manifest and no error")
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Manifest.Validate: %v", err)
	}
	declared := make([]string, 0, len(m.StreamTypes))
	for _, st := range m.StreamTypes {
		declared = append(declared, st.Type)
		if len(st.Match.Media) == 0 {
			t.Errorf("stream type %q has no Match.Media: the host could never route an incoming m-line to it", st.Type)
		}
	}
	for _, want := range s.cfg.types {
		if !slices.Contains(declared, want) {
			t.Errorf("WithTypes names %q, which the manifest does not declare (it declares %v)", want, declared)
		}
	}
	t.Logf("plugin %s %s, contract %d.%d, stream types %v", m.Name, m.Version, m.ContractMajor, m.ContractMinor, declared)
	return m
}

// malformedSDP checks that NewFromSDP refuses what it cannot parse or
// address with ErrInvalidStream, and an m-line of no type of the plugin with
// ErrUnknownStream.
func (s *suite) malformedSDP(t tb, m *sdk.Manifest) {
	unclaimed := s.unclaimed(t, m)
	video := fixture(t, "unclaimed-video.sdp")
	cases := []struct {
		name  string
		sdp   string
		index int
		want  error
	}{
		{"garbage", fixture(t, "garbage.sdp"), 0, sdk.ErrInvalidStream},
		{"truncated", fixture(t, "truncated.sdp"), 0, sdk.ErrInvalidStream},
		{"empty", "", 0, sdk.ErrInvalidStream},
		{"index past the last m-line", video, 1, sdk.ErrInvalidStream},
		{"negative index", video, -1, sdk.ErrInvalidStream},
		{"m-line no type claims", unclaimed, 0, sdk.ErrUnknownStream},
	}
	for _, c := range cases {
		o, err := bounded(t, s.cfg.timeout, "NewFromSDP", func(ctx context.Context) (*sdk.Opened, error) {
			return s.prov.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: s.cfg.account, RemoteSDP: c.sdp, StreamIndex: c.index})
		})
		switch {
		case err == nil:
			t.Errorf("%s: NewFromSDP(index %d) accepted it as a %s stream (handle %d), want an error wrapping %v\nSDP:\n%s",
				c.name, c.index, o.Type, o.Handle, c.want, c.sdp)
			s.discard(o)
		case !errors.Is(err, c.want):
			t.Errorf("%s: NewFromSDP(index %d) = %v, want an error wrapping %v\nSDP:\n%s", c.name, c.index, err, c.want, c.sdp)
		}
	}
}

// unclaimed returns the first unclaimed-*.sdp fixture that no match rule of
// m admits. If every rule admits every fixture, the plugin itself must refuse
// the first one with ErrUnknownStream.
func (s *suite) unclaimed(t tb, m *sdk.Manifest) string {
	t.Helper()
	for _, name := range unclaimedFixtures {
		text := fixture(t, name)
		_, media, err := sdk.MediaAt(text, 0)
		if err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
		claimed := false
		for _, st := range m.StreamTypes {
			if st.Match.Matches(media) {
				claimed = true
				break
			}
		}
		if !claimed {
			return text
		}
	}
	t.Logf("every stream type's match rule admits the unclaimed fixtures; the plugin itself must refuse %s", unclaimedFixtures[0])
	return fixture(t, unclaimedFixtures[0])
}

// providerErrors checks the sentinels of provider-scope calls.
func (s *suite) providerErrors(t tb) {
	o, err := bounded(t, s.cfg.timeout, "Create", func(ctx context.Context) (*sdk.Opened, error) {
		return s.prov.Create(ctx, &sdk.CreateRequest{Type: "x-no-such-type", Account: s.cfg.account})
	})
	if err == nil {
		t.Errorf("Create(type x-no-such-type) made a %s stream (handle %d), want an error wrapping %v", o.Type, o.Handle, sdk.ErrUnknownStream)
		s.discard(o)
	} else if !errors.Is(err, sdk.ErrUnknownStream) {
		t.Errorf("Create(type x-no-such-type) = %v, want an error wrapping %v", err, sdk.ErrUnknownStream)
	}
	_, err = bounded(t, s.cfg.timeout, "Invoke", func(ctx context.Context) (*sdk.InvokeResponse, error) {
		return s.prov.Invoke(ctx, &sdk.InvokeRequest{Method: "x-no-such-method"})
	})
	if !errors.Is(err, sdk.ErrUnknownMethod) {
		t.Errorf("provider Invoke(x-no-such-method) = %v, want an error wrapping %v", err, sdk.ErrUnknownMethod)
	}
}

// discard ends a stream the suite did not want, ignoring the outcome.
func (s *suite) discard(o *sdk.Opened) {
	if o == nil || o.Stream == nil {
		return
	}
	_, _ = call(s.cfg.timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, o.Stream.End(ctx)
	})
}

// errNoReturn marks a call that outlived its context.
var errNoReturn = errors.New("did not return")

type result[T any] struct {
	v   T
	err error
}

// call runs fn with a context bounded by timeout. It gives up, with an
// error wrapping errNoReturn, when fn ignores its context and has not
// returned half a timeout after the deadline.
func call[T any](timeout time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan result[T], 1)
	go func() {
		v, err := fn(ctx)
		ch <- result[T]{v, err}
	}()
	grace := time.NewTimer(timeout + timeout/2)
	defer grace.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-grace.C:
		var zero T
		return zero, fmt.Errorf("%w within %v: a call must return promptly and honour its context", errNoReturn, timeout)
	}
}

// bounded is call for a case: a call that does not return fails the case.
func bounded[T any](t tb, timeout time.Duration, what string, fn func(ctx context.Context) (T, error)) (T, error) {
	t.Helper()
	v, err := call(timeout, fn)
	if errors.Is(err, errNoReturn) {
		t.Fatalf("%s %v", what, err)
	}
	return v, err
}
