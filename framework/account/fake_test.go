package account

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/sipstreams/sipstreams/framework/engine"
)

// step answers one REGISTER of a fakeRegistrar.
type step func(req *sip.Request) (code int, reason string, hdrs []sip.Header)

// fakeRegistrar is an engine on 127.0.0.1 UDP answering REGISTERs with a
// script of steps (the last one repeats; code 0 leaves the request
// unanswered), recording the requests.
type fakeRegistrar struct {
	eng *engine.Engine

	mu    sync.Mutex
	steps []step
	reqs  []*sip.Request
}

func newFakeRegistrar(t *testing.T, steps ...step) *fakeRegistrar {
	t.Helper()
	eng, err := engine.New(engine.Config{Listen: []engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRegistrar{eng: eng, steps: steps}
	eng.OnRequest(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		f.mu.Lock()
		f.reqs = append(f.reqs, req.Clone())
		s := f.steps[0]
		if len(f.steps) > 1 {
			f.steps = f.steps[1:]
		}
		f.mu.Unlock()
		if code, reason, hdrs := s(req); code != 0 {
			_ = eng.Respond(tx, req, code, reason, nil, hdrs...)
		}
	})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return f
}

func (f *fakeRegistrar) addr() string { return "127.0.0.1:" + strconv.Itoa(f.eng.Addrs()[0].Port) }

func (f *fakeRegistrar) requests() []*sip.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sip.Request(nil), f.reqs...)
}

func answer(code int, reason string, hdrs ...sip.Header) step {
	return func(*sip.Request) (int, string, []sip.Header) { return code, reason, hdrs }
}

// proxyChallenge answers 407 unless the request carries valid
// Proxy-Authorization for alice/secret.
func proxyChallenge(t *testing.T, then step) step {
	const chal = `Digest realm="fake.test", nonce="n0nce", algorithm=MD5, qop="auth"`
	return func(req *sip.Request) (int, string, []sip.Header) {
		h := req.GetHeader("Proxy-Authorization")
		if h == nil {
			return 407, "Proxy Authentication Required", []sip.Header{sip.NewHeader("Proxy-Authenticate", chal)}
		}
		cred, err := digest.ParseCredentials(h.Value())
		if err != nil {
			t.Errorf("Proxy-Authorization %q: %v", h.Value(), err)
			return 400, "Bad Request", nil
		}
		c, _ := digest.ParseChallenge(chal)
		want, _ := digest.Digest(c, digest.Options{Method: "REGISTER", URI: cred.URI, Username: "alice", Password: "secret", Cnonce: cred.Cnonce, Count: cred.Nc})
		if cred.Response != want.Response || cred.Username != "alice" || cred.QOP != "auth" {
			return 403, "Forbidden", nil
		}
		return then(req)
	}
}

func TestRegisterFakeRegistrar(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ok := func(req *sip.Request) (int, string, []sip.Header) {
		exp := req.GetHeader("Expires").Value()
		return 200, "OK", []sip.Header{sip.NewHeader("Expires", exp)} // no Contact: the header counts
	}
	tooBrief := answer(423, "Interval Too Brief", sip.NewHeader("Min-Expires", "4"))
	f := newFakeRegistrar(t,
		answer(503, "Service Unavailable", sip.NewHeader("Retry-After", "1 (maintenance)")),
		proxyChallenge(t, tooBrief), // 407
		proxyChallenge(t, tooBrief), // 423
		proxyChallenge(t, ok),       // the credentials are kept: 200
		answer(200, "OK"),           // the unregistration (and any refresh)
	)
	center := newCenter(t)
	eng := newEngine(t, center, false)
	m, a := startAlice(t, ManagerConfig{Engine: eng, Center: center, BackoffInitial: 100 * time.Millisecond}, f.addr(), "secret")
	rec := record(t, center, a)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ns := waitFor(t, ctx, rec, SIPAccountRegistrationDidSucceed, 1)
	fail := nth(t, ns, SIPAccountRegistrationDidFail, 0).Data.(RegistrationDidFailData)
	if fail.Code != 503 || fail.RetryAfter != time.Second {
		t.Errorf("DidFail %+v, want 503 and the Retry-After of 1 s over the 100 ms back-off", fail)
	}
	ok1 := nth(t, ns, SIPAccountRegistrationDidSucceed, 0).Data.(RegistrationDidSucceedData)
	if ok1.Expires != 4*time.Second {
		t.Errorf("granted %v, want the Min-Expires 4 s", ok1.Expires)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := f.requests()
	// 503; 407, 423, 200; then the unregistration (200).
	if len(reqs) != 5 {
		t.Fatalf("%d REGISTERs, want 5", len(reqs))
	}
	callID := reqs[0].CallID().Value()
	for i, r := range reqs {
		if r.CallID().Value() != callID {
			t.Errorf("REGISTER %d: Call-ID %s, want %s", i, r.CallID().Value(), callID)
		}
		if got := r.CSeq().SeqNo; got != reqs[0].CSeq().SeqNo+uint32(i) {
			t.Errorf("REGISTER %d: CSeq %d, want %d", i, got, reqs[0].CSeq().SeqNo+uint32(i))
		}
		if r.Recipient.String() != "sip:127.0.0.1" {
			t.Errorf("REGISTER %d: Request-URI %s", i, r.Recipient.String())
		}
		if rt := r.Route(); rt == nil || rt.Address.Port != f.eng.Addrs()[0].Port {
			t.Errorf("REGISTER %d: Route %v, want the outbound proxy", i, rt)
		}
	}
	wantExpires := []string{"3", "3", "3", "4", "0"}
	for i, w := range wantExpires {
		if got := reqs[i].GetHeader("Expires").Value(); got != w {
			t.Errorf("REGISTER %d: Expires %s, want %s", i, got, w)
		}
	}
	if reqs[4].Contact().Address.String() != ok1.Contact.String() {
		t.Errorf("unregistered %s, registered %s", reqs[4].Contact().Address.String(), ok1.Contact.String())
	}
}

func TestUnregisterNoAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	f := newFakeRegistrar(t, answer(200, "OK"), answer(0, ""))
	center := newCenter(t)
	eng := newEngine(t, center, false)
	m, a := startAlice(t, ManagerConfig{Engine: eng, Center: center, UnregisterTimeout: 300 * time.Millisecond}, f.addr(), "secret")
	rec := record(t, center, a)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, rec, SIPAccountRegistrationDidSucceed, 1)
	start := time.Now()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %v with a 300 ms unregistration timeout", d)
	}
	ns := waitFor(t, ctx, rec, SIPAccountRegistrationDidEnd, 1)
	if end := nth(t, ns, SIPAccountRegistrationDidEnd, 0).Data.(RegistrationDidEndData); end.Code != 0 || end.Reason == "" {
		t.Errorf("DidEnd %+v, want code 0 and a reason", end)
	}
	if a.Registered() {
		t.Error("Registered after Stop")
	}
}
