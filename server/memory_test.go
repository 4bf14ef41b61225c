package server

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func memPublish(t *testing.T, b *MemoryBroker, ch string, n int) []Event {
	t.Helper()
	var out []Event
	for i := 0; i < n; i++ {
		ev, dup, err := b.Publish(context.Background(), Event{Channel: ch, Type: "t", ID: "id" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
		if err != nil || dup {
			t.Fatalf("publish: %v dup=%v", err, dup)
		}
		out = append(out, ev)
	}
	return out
}

// The ring keeps exactly the newest History events across growth,
// wrap-around and expiry.
func TestMemoryRing(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewMemoryBroker(MemoryOptions{History: 5, TTL: time.Minute})
	defer b.Close()
	b.now = func() time.Time { return now }
	ctx := context.Background()
	evs := memPublish(t, b, "c", 3)
	epoch := evs[0].Epoch

	check := func(since uint64, complete bool, from, to uint64) {
		t.Helper()
		h, err := b.History(ctx, "c", &protocol.Position{Epoch: epoch, Seq: since})
		require.NoError(t, err)
		if h.Complete != complete {
			t.Fatalf("since %d: complete=%v, want %v", since, h.Complete, complete)
		}
		if !complete {
			return
		}
		if len(h.Events) != int(to-from+1) && !(to < from && len(h.Events) == 0) {
			t.Fatalf("since %d: %d events, want %d..%d", since, len(h.Events), from, to)
		}
		for i, ev := range h.Events {
			if ev.Seq != from+uint64(i) {
				t.Fatalf("since %d: event %d has seq %d", since, i, ev.Seq)
			}
		}
	}
	check(0, true, 1, 3)
	memPublish(t, b, "c", 5) // seqs 4..8; keeps 4..8
	check(2, false, 0, 0)
	check(3, true, 4, 8)
	check(8, true, 9, 8)

	// Half of the history expires, then new events reuse the ring.
	now = now.Add(2 * time.Minute)
	memPublish(t, b, "c", 2) // 9, 10; 4..8 expired
	check(7, false, 0, 0)
	check(8, true, 9, 10)
	memPublish(t, b, "c", 4) // 11..14; keeps 10..14
	check(9, true, 10, 14)
	check(8, false, 0, 0)

	// An evicted id may be published again; one still kept may not.
	kept, _ := b.History(ctx, "c", &protocol.Position{Epoch: epoch, Seq: 13})
	ev, dup, err := b.Publish(ctx, Event{Channel: "c", Type: "t", ID: kept.Events[0].ID})
	if err != nil || !dup || ev.Seq != 14 {
		t.Fatalf("duplicate publish: %+v %v %v", ev, dup, err)
	}
}

func TestMemoryNoHistory(t *testing.T) {
	b := NewMemoryBroker(MemoryOptions{History: -1})
	defer b.Close()
	evs := memPublish(t, b, "c", 2)
	h, err := b.History(context.Background(), "c", &protocol.Position{Epoch: evs[0].Epoch, Seq: 1})
	if err != nil || h.Complete || h.Top.Seq != 2 {
		t.Fatalf("%+v %v", h, err)
	}
	h, _ = b.History(context.Background(), "c", &protocol.Position{Epoch: evs[0].Epoch, Seq: 2})
	if !h.Complete {
		t.Fatal("up-to-date position should be complete")
	}
	require.NoError(t, b.Close())
	if _, _, err := b.Publish(context.Background(), Event{Channel: "c", Type: "t", ID: "x"}); err != ErrBrokerClosed {
		t.Fatalf("after close: %v", err)
	}
}

// A replay by age returns the events accepted at or after the cutoff, and is
// whole only when the history still reaches back to it.
func TestMemoryHistoryAfter(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewMemoryBroker(MemoryOptions{History: 4})
	defer b.Close()
	b.now = func() time.Time { return now }
	b.started = now
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		now = now.Add(time.Second) // events at 1001, 1002, 1003
		memPublish(t, b, "c", 1)
	}
	check := func(after time.Time, complete bool, seqs ...uint64) {
		t.Helper()
		h, err := b.HistoryAfter(ctx, "c", after)
		require.NoError(t, err)
		if h.Complete != complete {
			t.Fatalf("after %v: complete=%v, want %v", after.Unix(), h.Complete, complete)
		}
		var got []uint64
		for _, ev := range h.Events {
			got = append(got, ev.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(seqs) {
			t.Fatalf("after %v: seqs %v, want %v", after.Unix(), got, seqs)
		}
	}
	check(time.Unix(1002, 0), true, 2, 3)
	check(time.Unix(1003, 500), true)
	check(time.Unix(1000, 500), true, 1, 2, 3)
	check(time.Unix(999, 0), false) // before the broker started

	for i := 0; i < 3; i++ {
		now = now.Add(time.Second) // 1004..1006: pushes out 1 and 2
		memPublish(t, b, "c", 1)
	}
	check(time.Unix(1002, 0), false) // event 2 (at 1002) is gone
	check(time.Unix(1002, 500), true, 3, 4, 5, 6)
	if h, _ := b.HistoryAfter(ctx, "fresh", time.Unix(1001, 0)); !h.Complete || len(h.Events) != 0 {
		t.Fatalf("a channel without events: %+v", h)
	}
}

// With a TTL, expired events make an age that reaches them incomplete, even
// after the expiry loop forgot their channel.
func TestMemoryHistoryAfterExpired(t *testing.T) {
	b := NewMemoryBroker(MemoryOptions{TTL: time.Minute})
	defer b.Close()
	now := time.Now()
	b.now = func() time.Time { return now }
	ctx := context.Background()
	memPublish(t, b, "c", 1)
	now = now.Add(2 * time.Minute)
	if h, _ := b.HistoryAfter(ctx, "c", now.Add(-3*time.Minute)); h.Complete {
		t.Fatal("an age reaching an expired event is complete")
	}
	if h, _ := b.HistoryAfter(ctx, "c", now.Add(-30*time.Second)); !h.Complete {
		t.Fatal("an age after the expired event is incomplete")
	}
	b.mu.Lock()
	ch := b.chans["c"]
	b.mu.Unlock()
	ch.mu.Lock()
	b.forgotUntil.Store(ch.droppedUntil.UnixNano()) // what the expiry loop records when it forgets c
	ch.mu.Unlock()
	if h, _ := b.HistoryAfter(ctx, "other", now.Add(-3*time.Minute)); h.Complete {
		t.Fatal("an age reaching before a forgotten channel's events is complete")
	}
}
