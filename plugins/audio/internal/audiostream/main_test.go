package audiostream_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every stream's RTP
// session, the shared mixers' clocks and the notification readers stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
