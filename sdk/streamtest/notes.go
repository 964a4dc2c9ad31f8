package streamtest

import (
	"slices"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// isGeneric reports whether name is one of the notifications every stream
// posts. Sequences are checked on these only, so a type may post its own
// notifications in between.
func isGeneric(name string) bool {
	switch name {
	case sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize, sdk.MediaStreamDidStart,
		sdk.MediaStreamDidFail, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd:
		return true
	}
	return false
}

// notes is the suite's Recorder of the provider's notifications, with the
// checks the cases make on a stream's log.
type notes struct{ *Recorder }

func startNotes(t tb, prov sdk.Provider, timeout time.Duration) *notes {
	t.Helper()
	return &notes{Record(t, prov, WithTimeout(timeout))}
}

// label names handle h in failure messages ("A (handle 3, type echo)").
func (nl *notes) label(h uint64, label string) { nl.Label(h, label) }

// log returns a copy of handle h's notifications.
func (nl *notes) log(h uint64) []sdk.Notification { return nl.Of(h) }

// names returns the generic notification names of handle h, in order.
func (nl *notes) names(h uint64) []string {
	var out []string
	for _, n := range nl.Of(h) {
		if isGeneric(n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

// dump renders handle h's full log for a failure message.
func (nl *notes) dump(h uint64) string { return nl.Dump(h) }

// waitFor waits until handle h has posted name and returns that
// notification (the first one of that name).
func (nl *notes) waitFor(t tb, h uint64, name string) *sdk.Notification {
	t.Helper()
	return nl.WaitFor(t, h, name)
}

// waitAny waits until handle h has posted one of names and returns the
// first such notification. It fails the case when the timeout passes or the
// notification stream breaks.
func (nl *notes) waitAny(t tb, h uint64, names ...string) *sdk.Notification {
	t.Helper()
	return nl.WaitFor(t, h, names...)
}

// assertSequence checks that handle h's generic notifications are exactly
// want, in order.
func (nl *notes) assertSequence(t tb, h uint64, want []string) {
	t.Helper()
	if got := nl.names(h); !slices.Equal(got, want) {
		t.Errorf("generic notification sequence:\n\twant %v\n\tgot  %v\n%s", want, got, nl.dump(h))
	}
}

// assertNo checks that handle h has not posted name.
func (nl *notes) assertNo(t tb, h uint64, name string) {
	t.Helper()
	if slices.Contains(nl.names(h), name) {
		t.Errorf("unexpected %s\n%s", name, nl.dump(h))
	}
}
