package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// TestListenAnswersInviteWithoutSDP: sipp's INVITE carries no SDP
// (reference §2.4.5). `listen` answers with streams of its own making the
// offer in the 200 — by default every loaded type that needs no
// parameters (echo here, the audio plugin not being loaded), or the
// --offer types; with --auto-answer at once, without it on /accept. sipp
// checks the offer is echo's, answers in the ACK and ends the session with
// a BYE. An --offer type no plugin serves gets the INVITE a 488 and says
// why on stderr.
func TestListenAnswersInviteWithoutSDP(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		auto bool
		ok   bool
	}{
		{"auto-answer, default offer", nil, true, true},
		{"auto-answer, --offer echo", []string{"--offer", "echo"}, true, true},
		{"/accept, default offer", nil, false, true},
		{"auto-answer, --offer nosuch", []string{"--offer", "nosuch"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flow{t: t, tc: udp4}
			args := append([]string{"listen", "--json", "--listen", "udp:127.0.0.1:0", "--user", "bob"}, tc.args...)
			if tc.auto {
				args = append(args, "--auto-answer")
			}
			f.l = startProc(t, "listener", args...)
			port := f.awaitName(f.l, "listening").Port
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sipp := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uac_no_sdp.xml", Remote: fmt.Sprintf("127.0.0.1:%d", port)})
			in := f.awaitName(f.l, "SIPSessionNewIncoming")
			if streams, _ := in.Data["streams"].([]any); len(streams) != 0 {
				f.t.Errorf("an INVITE without SDP proposed %v", in.Data["streams"])
			}
			if !tc.auto {
				f.send(f.l, "/accept")
			}
			r := sipp.Wait()
			if !tc.ok {
				if r.Successful != 0 || !strings.Contains(r.Messages, "SIP/2.0 488 Not Acceptable Here") {
					f.t.Errorf("sipp got no 488 (%d successful):\n%s", r.Successful, r.Messages)
				}
				f.awaitName(f.l, "SIPSessionDidFail")
				f.quit()
				if e := f.l.errb.String(); !strings.Contains(e, "cannot create a nosuch stream") {
					f.t.Errorf("stderr does not say why: %q", e)
				}
				return
			}
			if r.Successful != 1 || r.Failed != 0 {
				f.fatalf("sipp: %d successful, %d failed\n%s\n%s", r.Successful, r.Failed, r.Errors, r.Messages)
			}
			start := f.awaitName(f.l, "SIPSessionDidStart")
			if streams, _ := start.Data["streams"].([]any); fmt.Sprint(streams) != "[echo]" {
				f.t.Errorf("started with %v, want [echo]", start.Data["streams"])
			}
			if end := f.awaitName(f.l, "SIPSessionDidEnd"); end.Data["originator"] != "remote" {
				f.t.Errorf("SIPSessionDidEnd %+v", end.Data)
			}
			f.check(f.l, []string{"SIPSessionNewIncoming", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart",
				"SIPSessionWillEnd", "SIPSessionDidProcessTransaction", "SIPSessionDidEnd"})
			f.quit()
		})
	}
}
