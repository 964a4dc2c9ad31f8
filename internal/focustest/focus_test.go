package focustest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestStartClose: a focus that served nothing closes its sockets and
// stops every goroutine it started.
func TestStartClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := f.URI(); u.Host != "127.0.0.1" || u.Port == 0 || u.User != "conference" {
		t.Errorf("URI %s", f.URIString())
	}
	if got := f.State(); got.Entity != f.URIString() || len(got.Users) != 0 {
		t.Errorf("state %+v", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NotifyRaw(ctx, []byte("x")); err == nil {
		t.Error("NotifyRaw without subscriptions: no error")
	}
}
