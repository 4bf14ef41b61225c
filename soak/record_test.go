package soak

import (
	"strings"
	"testing"
)

// The checker itself must catch every way a stream can break the
// guarantee.
func TestLogCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		got   []int // resyncMark for a resync
		exact bool
		want  string // "" for no error
	}{
		{"everything", []int{1, 2, 3, 4}, true, ""},
		{"duplicate", []int{1, 2, 2, 3, 4}, false, "duplicate"},
		{"out of order", []int{1, resyncMark, 3, 2, 4}, false, "out of order"},
		{"gap without resync", []int{1, 3, 4}, false, "missed 2"},
		{"gap with resync", []int{1, resyncMark, 3, 4}, false, ""},
		{"resync in exact mode", []int{1, resyncMark, 2, 3, 4}, true, "resync"},
		{"gap in exact mode after resync", []int{1, resyncMark, 4}, true, "resync"},
		{"resync before the wrong gap", []int{resyncMark, 1, 3, 4}, false, "missed 2"},
		{"stale", []int{1, 2, 3}, false, "stale"},
		{"unknown event", []int{1, 2, 3, 4, 9}, false, "never published"},
		{"the prelude replayed first", []int{0, 1, 2, 3, 4}, true, ""},
		{"the prelude later", []int{1, 0, 2, 3, 4}, false, "never published"},
		{"missing in exact mode", []int{1, 2, 4}, true, "missed 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := NewLog()
			for n := 1; n <= 4; n++ {
				log.Published("c", n, true)
			}
			s := log.NewStream(0, "c")
			for _, n := range tc.got {
				if n == resyncMark {
					s.Resync()
				} else {
					s.Event(n)
				}
			}
			errs := log.Check(tc.exact, 1)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Fatalf("want no error, got %v", errs)
			case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want)):
				t.Fatalf("want %q, got %v", tc.want, errs)
			}
		})
	}
	log := NewLog()
	log.Published("c", 1, true)
	log.Published("c", 2, false) // the answer was lost
	log.Published("c", 3, true)
	s := log.NewStream(0, "c")
	s.Event(1)
	s.Event(3)
	if errs := log.Check(false, 1); len(errs) > 0 {
		t.Fatalf("an unsure publish may be missing: %v", errs)
	}
}
