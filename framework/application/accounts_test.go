package application

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// TestAccountsFromConfig: a SIP account written in the configuration file
// registers with a sipp registrar that challenges with Digest when the
// application starts, refreshes, and unregisters when it stops (the
// registrar scenario fails unless all three happen).
func TestAccountsFromConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	registrar := sipptest.Start(t, ctx, sipptest.Options{
		Scenario: "registrar_digest.xml",
		Vars:     map[string]string{"username": "alice", "password": "secret", "expires": "3"},
	})
	dir := t.TempDir()
	conf := fmt.Sprintf(`accounts:
    alice@127.0.0.1:
        display_name = Alice
        auth:
            password = secret
        sip:
            outbound_proxy = 127.0.0.1:%d
            register_interval = 3
`, registrar.Port())
	if err := os.WriteFile(filepath.Join(dir, storage.ConfigFile), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newApp(t)
	rec := &notify.Recorder{}
	unsub := a.Center().Subscribe(rec, "", nil)
	defer unsub()
	if err := a.Start(ctx, st); err != nil {
		t.Fatal(err)
	}
	acc, err := a.Accounts().Get("alice@127.0.0.1")
	if err != nil {
		t.Fatalf("the configured account is not loaded: %v", err)
	}
	count := func(name string) int {
		n := 0
		for _, x := range rec.All() {
			if x.Name == name && x.Sender == acc {
				n++
			}
		}
		return n
	}
	// The registration and its refresh.
	if err := rec.Wait(ctx, func([]notify.Notification) bool { return count(account.SIPAccountRegistrationDidSucceed) >= 2 }); err != nil {
		t.Fatalf("no registration and refresh: %v %v", err, rec.Names())
	}
	if !acc.Registered() {
		t.Error("the account is not registered")
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	_ = a.Center().Flush(ctx)
	if count(account.SIPAccountRegistrationDidEnd) != 1 {
		t.Errorf("no unregistration on Stop: %v", rec.Names())
	}
	if a.Accounts() != nil {
		t.Error("Accounts() of a stopped application is not nil")
	}
	r := registrar.Wait()
	if r.Successful != 1 || r.Failed != 0 {
		t.Errorf("registrar: %d successful, %d failed\n%s", r.Successful, r.Failed, r.Errors)
	}
}
