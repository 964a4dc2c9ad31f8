package main

import (
	"runtime/debug"

	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/internal/idletrim"
)

// Returning memory after a load (internal/idletrim): once the host is
// idle (no session, no new INVITE for a whole tick) after a busy period,
// it collects and releases its free memory a few ticks in a row — later
// ticks catch what the last SIP transactions held (one answered with an
// error waits for its ACK, then T4 = 5 s; one answered 2xx ends with it,
// see engine.ReleaseAcceptedInvites).

// newIdleTrimmer watches m. Each release collects and returns the free
// memory; with after (not nil), it then runs after and does it once more:
// what can only be let go of once a collection ran (the console's entries
// of the sessions it collected) is let go of in after, and freed by the
// second collection (an idle heap is a few MB: a millisecond or two).
func newIdleTrimmer(m *session.Manager, after func()) *idletrim.Trimmer {
	return &idletrim.Trimmer{
		Active:   m.Len,
		Activity: func() uint64 { st := m.OverloadStats(); return st.Admitted + st.Refused },
		Release: func() {
			debug.FreeOSMemory()
			if after != nil {
				after()
				debug.FreeOSMemory()
			}
		},
	}
}
