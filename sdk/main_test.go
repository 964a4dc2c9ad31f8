package sdk

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the provider, the
// gRPC boundary and the echo plugin all stop what they start.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
