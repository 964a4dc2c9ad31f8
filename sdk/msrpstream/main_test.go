package msrpstream

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: End stops what
// Start started, and closes the listener and the session.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
