package account

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
)

func mustURI(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func loadManager(t *testing.T, eng *engine.Engine, accounts []config.Account, global *config.Settings) *Manager {
	t.Helper()
	m, err := NewManager(ManagerConfig{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(accounts, global); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFindAccount(t *testing.T) {
	eng := newEngine(t, nil, false)
	carol := config.NewAccount("carol@example.com")
	carol.Enabled = false
	m := loadManager(t, eng, []config.Account{
		config.NewAccount("alice@example.com"),
		config.NewAccount("bob@example.org"),
		carol,
		config.NewAccount("alice@example.net"),
	}, nil)
	get := func(id string) *Account {
		a, err := m.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	alice, bob, aliceNet, p2p := get("alice@example.com"), get("bob@example.org"), get("alice@example.net"), get(config.PeerToPeerAccountID)

	for _, tc := range []struct {
		name, ruri string
		want       *Account
	}{
		{"contact user", "sip:" + bob.contactUser + "@192.0.2.1:5060", bob},
		{"contact user beats id", "sip:" + aliceNet.contactUser + "@example.com", aliceNet},
		{"exact id", "sip:alice@example.net", aliceNet},
		{"exact id, host case", "sip:alice@EXAMPLE.com", alice},
		{"loose user, first in load order", "sip:alice@192.0.2.7", alice},
		{"loose user", "sip:bob@other.test", bob},
		{"disabled account falls to peer-to-peer", "sip:carol@example.com", p2p},
		{"unknown user falls to peer-to-peer", "sip:nobody@example.com", p2p},
		{"peer-to-peer contact user", "sip:" + p2p.contactUser + "@10.0.0.1", p2p},
		{"no user", "sip:example.com", p2p},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.FindAccount(mustURI(t, tc.ruri)); got != tc.want {
				t.Errorf("FindAccount(%s) = %v, want %v", tc.ruri, got, tc.want)
			}
		})
	}

	t.Run("peer-to-peer disabled", func(t *testing.T) {
		off := config.PeerToPeerAccount()
		off.Enabled = false
		m := loadManager(t, eng, []config.Account{config.NewAccount("alice@example.com"), off}, nil)
		if got := m.FindAccount(mustURI(t, "sip:nobody@example.com")); got != nil {
			t.Errorf("FindAccount = %v, want nil", got)
		}
		if got := m.FindAccount(mustURI(t, "sip:alice@x.test")); got == nil || got.ID() != "alice@example.com" {
			t.Errorf("FindAccount = %v, want alice", got)
		}
	})
}

func TestManagerLoad(t *testing.T) {
	eng := newEngine(t, nil, false)
	if _, err := NewManager(ManagerConfig{}); err == nil {
		t.Error("NewManager without an engine succeeded")
	}
	m, err := NewManager(ManagerConfig{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("Start before Load: %v, want ErrNotLoaded", err)
	}
	bad := config.NewAccount("not an id")
	if err := m.Load([]config.Account{config.NewAccount("a@example.com"), bad}, nil); err == nil {
		t.Error("Load of an invalid account succeeded")
	}
	dup := config.NewAccount("a@example.com")
	if err := m.Load([]config.Account{dup, dup}, nil); err == nil {
		t.Error("Load of a duplicate ID succeeded")
	}
	if len(m.Accounts()) != 0 {
		t.Fatalf("a failed Load loaded %v", m.Accounts())
	}
	global := config.Default()
	global.DefaultAccount = "b@example.com"
	if err := m.Load([]config.Account{config.NewAccount("a@example.com"), config.NewAccount("b@example.com")}, &global); err != nil {
		t.Fatal(err)
	}
	if err := m.Load(nil, nil); !errors.Is(err, ErrLoaded) {
		t.Errorf("second Load: %v, want ErrLoaded", err)
	}
	var ids []string
	for _, a := range m.Accounts() {
		ids = append(ids, a.ID())
	}
	if want := []string{"a@example.com", "b@example.com", config.PeerToPeerAccountID}; !slices.Equal(ids, want) {
		t.Errorf("Accounts() = %v, want %v", ids, want)
	}
	if _, err := m.Get("c@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an unknown ID: %v, want ErrNotFound", err)
	}
	if d := m.Default(); d == nil || d.ID() != "b@example.com" {
		t.Errorf("Default() = %v, want b@example.com", d)
	}
	a, _ := m.Get("a@example.com")
	if u := a.URI(); u.String() != "sip:a@example.com" {
		t.Errorf("URI() = %s", u.String())
	}
}

func TestPeerToPeerNeverRegisters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	center := newCenter(t)
	eng := newEngine(t, center, true)
	trace := record(t, center, eng)
	m, err := NewManager(ManagerConfig{Engine: eng, Center: center})
	if err != nil {
		t.Fatal(err)
	}
	// A SIP account that does not register either.
	quiet := config.NewAccount("quiet@127.0.0.1")
	quiet.SIP.Register = false
	if err := m.Load([]config.Account{quiet}, nil); err != nil {
		t.Fatal(err)
	}
	p2p, err := m.Get(config.PeerToPeerAccountID)
	if err != nil {
		t.Fatal(err)
	}
	if !p2p.IsPeerToPeer() {
		t.Fatal("not peer-to-peer")
	}
	rec := record(t, center, p2p)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, rec, SIPAccountDidActivate, 1)
	for _, a := range m.Accounts() {
		a.activation.Lock()
		running := a.cancel != nil
		a.activation.Unlock()
		if running {
			t.Errorf("%s runs a registration loop", a.ID())
		}
	}
	if p2p.Registered() {
		t.Error("peer-to-peer account Registered")
	}
	u := p2p.URI()
	if u.User != p2p.contactUser || u.Host != "127.0.0.1" || u.Port != 0 {
		t.Errorf("peer-to-peer URI %s, want sip:%s@127.0.0.1", u.String(), p2p.contactUser)
	}
	if c := p2p.Contact(); c.Host != "127.0.0.1" || c.UriParams.GetOr("transport", "") != "tcp" {
		t.Errorf("peer-to-peer Contact %s, want TCP on 127.0.0.1", c.String())
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := center.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := trace.Len(); n != 0 {
		t.Errorf("the engine sent or received %d messages: %v", n, trace.Names())
	}
	want := []string{SIPAccountWillActivate, SIPAccountDidActivate, SIPAccountWillDeactivate, SIPAccountDidDeactivate}
	if got := rec.Names(); !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
}
