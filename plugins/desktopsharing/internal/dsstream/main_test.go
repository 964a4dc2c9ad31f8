package dsstream

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: End stops the
// handler's pumps and closes the local sockets and the session.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
