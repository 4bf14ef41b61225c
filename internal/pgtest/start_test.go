package pgtest

import (
	"context"
	"testing"
)

// The server is ready for logical replication and reachable at URL.
func TestStartGivesLogicalWAL(t *testing.T) {
	s := Start(t)
	var level string
	if err := s.Conn().QueryRow(context.Background(), "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		t.Fatalf("wal_level %q", level)
	}
}
