package pgsource

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRename(t *testing.T) {
	m, err := ParseRename(" order_items=orders, people = users ,")
	if err != nil || len(m) != 2 || m["order_items"] != "orders" || m["people"] != "users" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"posts", "=x", "posts=", "a=b,a=c"} {
		if _, err := ParseRename(bad); err == nil || !strings.HasPrefix(err.Error(), "failed to parse rename") {
			t.Errorf("%q: want a parse error, got %v", bad, err)
		}
	}
}

// Names are written into SQL and replication commands: anything but a
// plain identifier is refused before connecting.
func TestConfigRefusesOddNames(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("no URL accepted")
	}
	for _, c := range []Config{
		{URL: "postgres://x", Slot: "a'b"},
		{URL: "postgres://x", Publication: "p; DROP TABLE t"},
		{URL: "postgres://x", Tables: []string{"ok", "no-dash"}},
		{URL: "postgres://x", Rename: map[string]string{"a b": "c"}},
	} {
		if _, err := New(c, nil); err == nil || !strings.Contains(err.Error(), "not a plain SQL identifier") {
			t.Errorf("%+v: %v", c, err)
		}
	}
	s, err := New(Config{URL: "postgres://x", Rename: map[string]string{"order_items": "orders"}}, nil)
	require.NoError(t, err)
	if s.cfg.Slot != DefaultSlot || s.cfg.channel("order_items") != "resources/orders" || s.cfg.channel("posts") != "resources/posts" {
		t.Fatalf("%+v", s.cfg)
	}
	if d := s.Degraded(); !strings.HasPrefix(d, "postgres: connecting") {
		t.Fatalf("a source that never connected is not degraded: %q", d)
	}
}
