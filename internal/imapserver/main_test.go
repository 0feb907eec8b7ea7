package imapserver

import (
	"testing"

	"roost/internal/conntest"
)

// TestMain fails the run when goroutines of this package outlive the
// tests (a connection or IDLE reader that was never waited for).
func TestMain(m *testing.M) { conntest.Main(m, "roost/internal/imapserver") }
