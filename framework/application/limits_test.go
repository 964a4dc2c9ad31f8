package application

import (
	"testing"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/session"
)

// TestSessionLimitsFromSettings: sip.max_media_streams and
// sip.max_sessions of the configuration reach the session manager: an
// offer of two streams to a host allowing one is refused with 488, and a
// host allowing one session refuses a second with 503.
func TestSessionLimitsFromSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*config.Settings)
		streams []string
		calls   int
		code    int
	}{
		{"max_media_streams", func(s *config.Settings) { s.SIP.MaxMediaStreams = 1 }, []string{"echo", "echo"}, 1, 488},
		{"max_sessions", func(s *config.Settings) { s.SIP.MaxSessions = 1 }, []string{"echo"}, 2, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caller := started(t, "alice")[0]
			callee, _ := newApp(t, WithUser("bob"))
			if err := callee.Start(ctxT(t), withSettings(t, tc.edit)); err != nil {
				t.Fatal(err)
			}
			answering(t, callee, nil)
			rec := record(t, caller)
			target := callee.Account().URI
			var last *session.Session
			for i := 0; i < tc.calls; i++ {
				s, err := caller.Call(ctxT(t), target, tc.streams)
				if err != nil {
					t.Fatal(err)
				}
				last = s
				if i < tc.calls-1 {
					waitSender(t, rec, session.SIPSessionDidStart, s)
				}
			}
			fail := waitSender(t, rec, session.SIPSessionDidFail, last).Data.(session.DidFailData)
			if fail.Code != tc.code {
				t.Errorf("SIPSessionDidFail %+v, want code %d", fail, tc.code)
			}
		})
	}
}
