package account

import (
	"context"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
)

// testTimeout bounds every wait of a test.
const testTimeout = 30 * time.Second

// newEngine starts an engine on 127.0.0.1 UDP and TCP, closed at the end
// of the test.
func newEngine(t *testing.T, center *notify.Center, trace bool) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{
		UserAgent: "sipstreams-account-test",
		Listen: []engine.Listen{
			{Transport: engine.TransportUDP, Address: "127.0.0.1:0"},
			{Transport: engine.TransportTCP, Address: "127.0.0.1:0"},
		},
		Center: center,
		Trace:  trace,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// newCenter returns a notification center closed at the end of the test.
func newCenter(t *testing.T) *notify.Center {
	t.Helper()
	c := notify.New()
	t.Cleanup(c.Close)
	return c
}

// record subscribes a recorder to every notification of sender.
func record(t *testing.T, c *notify.Center, sender any) *notify.Recorder {
	t.Helper()
	rec := new(notify.Recorder)
	t.Cleanup(c.Subscribe(rec, "", sender))
	return rec
}

// count returns how many of ns are named name.
func count(ns []notify.Notification, name string) int {
	n := 0
	for _, x := range ns {
		if x.Name == name {
			n++
		}
	}
	return n
}

// nth returns the i-th (from 0) notification named name.
func nth(t *testing.T, ns []notify.Notification, name string, i int) notify.Notification {
	t.Helper()
	for _, x := range ns {
		if x.Name == name {
			if i == 0 {
				return x
			}
			i--
		}
	}
	t.Fatalf("no notification %s #%d in %v", name, i, ns)
	return notify.Notification{}
}

// waitFor waits until rec has at least n notifications named name.
func waitFor(t *testing.T, ctx context.Context, rec *notify.Recorder, name string, n int) []notify.Notification {
	t.Helper()
	var got []notify.Notification
	err := rec.Wait(ctx, func(ns []notify.Notification) bool {
		got = ns
		return count(ns, name) >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d %s: %v", n, name, err)
	}
	return got
}
