package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// startAlice loads alice@127.0.0.1 registering through proxy and starts
// the manager; the test's cleanup stops it.
func startAlice(t *testing.T, mcfg ManagerConfig, proxy, password string) (*Manager, *Account) {
	t.Helper()
	acc := config.NewAccount("alice@127.0.0.1")
	acc.DisplayName = "Alice"
	acc.Auth = config.AccountAuth{Username: "alice", Password: password}
	acc.SIP.OutboundProxy = proxy
	acc.SIP.RegisterInterval = 3 * time.Second
	m, err := NewManager(mcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load([]config.Account{acc}, nil); err != nil {
		t.Fatal(err)
	}
	a, err := m.Get("alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return m, a
}

func TestRegisterWithSipp(t *testing.T) {
	for _, tc := range []struct {
		name, sippTransport, proxyParam string
	}{
		{"udp", "u1", ""},
		{"tcp", "t1", ";transport=tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			registrar := sipptest.Start(t, ctx, sipptest.Options{
				Scenario:  "registrar_digest.xml",
				Transport: tc.sippTransport,
				Vars:      map[string]string{"username": "alice", "password": "secret", "expires": "3"},
			})
			center := newCenter(t)
			eng := newEngine(t, center, false)
			proxy := "127.0.0.1:" + strconv.Itoa(registrar.Port()) + tc.proxyParam
			m, a := startAlice(t, ManagerConfig{Engine: eng, Center: center}, proxy, "secret")
			rec := record(t, center, a)
			mrec := record(t, center, m)

			start := time.Now()
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			ns := waitFor(t, ctx, rec, SIPAccountRegistrationDidSucceed, 1)
			first := nth(t, ns, SIPAccountRegistrationDidSucceed, 0).Data.(RegistrationDidSucceedData)
			if first.Code != 200 || first.Expires != 3*time.Second {
				t.Errorf("first registration: %+v, want 200 and 3s", first)
			}
			if want := engine.Transport(tc.name); first.Contact.Host != "127.0.0.1" || (tc.name == "tcp") != (first.Contact.UriParams.GetOr("transport", "") == string(want)) {
				t.Errorf("contact %s over %s", first.Contact.String(), tc.name)
			}
			if want := tc.name + ":127.0.0.1:" + strconv.Itoa(registrar.Port()); first.Registrar != want {
				t.Errorf("registrar %q, want %q", first.Registrar, want)
			}
			if !a.Registered() {
				t.Error("not Registered after DidSucceed")
			}
			if c := a.Contact(); c.String() != first.Contact.String() {
				t.Errorf("Contact() = %s, registered %s", c.String(), first.Contact.String())
			}

			ns = waitFor(t, ctx, rec, SIPAccountRegistrationDidSucceed, 2)
			if d := time.Since(start); d > 2900*time.Millisecond {
				t.Errorf("refresh took %v: the 3 s registration would have expired", d)
			}
			second := nth(t, ns, SIPAccountRegistrationDidSucceed, 1).Data.(RegistrationDidSucceedData)
			if second.Code != 200 || second.Expires != 3*time.Second {
				t.Errorf("refresh: %+v", second)
			}

			if err := m.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := center.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			ns = rec.All()
			if count(ns, SIPAccountRegistrationDidEnd) != 1 {
				t.Fatalf("no RegistrationDidEnd after Stop: %v", rec.Names())
			}
			if end := nth(t, ns, SIPAccountRegistrationDidEnd, 0).Data.(RegistrationDidEndData); end.Code != 200 {
				t.Errorf("unregistration: %+v", end)
			}
			if n := count(ns, SIPAccountRegistrationDidFail); n != 0 {
				t.Errorf("%d RegistrationDidFail: %v", n, rec.Names())
			}
			if a.Registered() {
				t.Error("Registered after Stop")
			}
			wantM := []string{SIPAccountManagerWillStart, SIPAccountManagerDidStart, SIPAccountManagerWillEnd, SIPAccountManagerDidEnd}
			if got := mrec.Names(); fmt.Sprint(got) != fmt.Sprint(wantM) {
				t.Errorf("manager notifications %v, want %v", got, wantM)
			}
			r := registrar.Wait()
			if r.Successful != 1 || r.Failed != 0 {
				t.Errorf("sipp: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
			}
		})
	}
}

func TestRegisterWrongPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	registrar := sipptest.Start(t, ctx, sipptest.Options{
		Scenario: "registrar_digest.xml",
		Vars:     map[string]string{"username": "alice", "password": "secret", "expires": "3"},
	})
	center := newCenter(t)
	eng := newEngine(t, center, false)
	const backoff = 1500 * time.Millisecond
	m, a := startAlice(t, ManagerConfig{Engine: eng, Center: center, BackoffInitial: backoff, RequestTimeout: time.Second},
		"127.0.0.1:"+strconv.Itoa(registrar.Port()), "wrong")
	rec := record(t, center, a)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ns := waitFor(t, ctx, rec, SIPAccountRegistrationDidFail, 1)
	failedAt := time.Now()
	fail := nth(t, ns, SIPAccountRegistrationDidFail, 0).Data.(RegistrationDidFailData)
	var rerr *RegistrationError
	if fail.Code != 403 || !errors.As(fail.Error, &rerr) || rerr.Code != 403 || !errors.Is(fail.Error, ErrRegistration) {
		t.Errorf("DidFail %+v, want 403 with a *RegistrationError", fail)
	}
	if fail.RetryAfter != backoff {
		t.Errorf("RetryAfter %v, want %v", fail.RetryAfter, backoff)
	}
	// One 401 and one 403: the challenge was answered once.
	if got := count(ns, SIPAccountRegistrationGotAnswer); got != 2 {
		t.Errorf("%d answers before DidFail, want 2: %v", got, rec.Names())
	}
	if a.Registered() {
		t.Error("Registered after a failure")
	}
	// No hot loop: the next attempt waits for the back-off. It goes to a
	// sipp whose only call failed; whatever it gets, it is not before
	// the back-off.
	ns = waitFor(t, ctx, rec, SIPAccountRegistrationDidFail, 2)
	if d := nth(t, ns, SIPAccountRegistrationDidFail, 1).Time.Sub(failedAt); d < backoff-50*time.Millisecond {
		t.Errorf("second attempt failed %v after the first, back-off is %v", d, backoff)
	}
	if second := nth(t, ns, SIPAccountRegistrationDidFail, 1).Data.(RegistrationDidFailData); second.RetryAfter != 2*backoff {
		t.Errorf("second RetryAfter %v, want %v", second.RetryAfter, 2*backoff)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := center.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(rec.All(), SIPAccountRegistrationDidEnd); n != 0 {
		t.Errorf("RegistrationDidEnd without a registration: %v", rec.Names())
	}
	registrar.Stop()
	if r := registrar.Wait(); r.Successful != 0 || r.Failed < 1 {
		t.Errorf("sipp: %d successful, %d failed, want the call failed", r.Successful, r.Failed)
	}
}

func TestRegisterNoAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	port := sipptest.FreePort(t, "udp", "127.0.0.1") // nothing listens there
	center := newCenter(t)
	eng := newEngine(t, center, false)
	m, a := startAlice(t, ManagerConfig{
		Engine: eng, Center: center,
		RequestTimeout: 300 * time.Millisecond,
		BackoffInitial: 100 * time.Millisecond,
		BackoffMax:     250 * time.Millisecond,
	}, "127.0.0.1:"+strconv.Itoa(port), "secret")
	rec := record(t, center, a)
	start := time.Now()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ns := waitFor(t, ctx, rec, SIPAccountRegistrationDidFail, 4)
	if d := nth(t, ns, SIPAccountRegistrationDidFail, 0).Time.Sub(start); d < 250*time.Millisecond {
		t.Errorf("first failure after %v, before the 300 ms request timeout", d)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
	for i, w := range want {
		f := nth(t, ns, SIPAccountRegistrationDidFail, i).Data.(RegistrationDidFailData)
		if f.Code != 408 || !errors.Is(f.Error, ErrTimeout) {
			t.Errorf("failure %d: %+v, want 408 and ErrTimeout", i, f)
		}
		if f.RetryAfter != w {
			t.Errorf("failure %d: RetryAfter %v, want %v", i, f.RetryAfter, w)
		}
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := center.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(rec.All(), SIPAccountRegistrationDidEnd); n != 0 {
		t.Errorf("RegistrationDidEnd without a registration: %v", rec.Names())
	}
}

func TestRefreshDelay(t *testing.T) {
	for _, tc := range []struct{ expires, want time.Duration }{
		{3 * time.Second, 1500 * time.Millisecond},
		{60 * time.Second, 30 * time.Second},
		{600 * time.Second, 570 * time.Second},
		{time.Second, 500 * time.Millisecond},
	} {
		if got := refreshDelay(tc.expires); got != tc.want {
			t.Errorf("refreshDelay(%v) = %v, want %v", tc.expires, got, tc.want)
		}
	}
}
