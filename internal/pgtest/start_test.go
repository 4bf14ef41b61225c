package pgtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The server is ready for logical replication and reachable at URL.
func TestStartGivesLogicalWAL(t *testing.T) {
	s := Start(t)
	var level string
	require.NoError(t, s.Conn().QueryRow(context.Background(), "SHOW wal_level").Scan(&level))
	if level != "logical" {
		t.Fatalf("wal_level %q", level)
	}
}
