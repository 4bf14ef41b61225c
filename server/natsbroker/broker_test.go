package natsbroker

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

func TestTokenIsOneSafeSubjectTokenAndReversible(t *testing.T) {
	for _, ch := range []string{"resources/posts", "a.b", "*", ">", "a b\tc", "x_5F", "_", "é✓", "--", "UPPER/lower/0-9"} {
		tok := token(ch)
		if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Errorf("token(%q) = %q is not one literal subject token", ch, tok)
		}
		back, err := channelOf(tok)
		if err != nil || back != ch {
			t.Errorf("channelOf(token(%q)) = %q, %v", ch, back, err)
		}
	}
	if token("a_b") == token("a.b") || token("a/b") != "a_2Fb" {
		t.Fatalf("mapping not injective or not as documented: %q %q %q", token("a_b"), token("a.b"), token("a/b"))
	}
	for _, bad := range []string{"_", "_4", "_G0"} {
		if _, err := channelOf(bad); err == nil {
			t.Errorf("channelOf(%q): want error", bad)
		}
	}
}

// Three brokers publishing concurrently on one channel get the seqs 1..N,
// each once, and every broker delivers them all in order.
func TestSeqIsGapFreeAcrossNodes(t *testing.T) {
	e := natstest.Start(t)
	const perNode = 40
	brokers := []*Broker{newBroker(t, e, Options{}), newBroker(t, e, Options{}), newBroker(t, e, Options{})}
	type sink struct {
		mu   sync.Mutex
		seqs []uint64
	}
	sinks := make([]*sink, len(brokers))
	for i, b := range brokers {
		s := &sink{}
		sinks[i] = s
		cancel, err := b.Subscribe(context.Background(), "c/1", func(ev server.Event) {
			s.mu.Lock()
			s.seqs = append(s.seqs, ev.Seq)
			s.mu.Unlock()
		})
		require.NoError(t, err)
		defer cancel()
	}
	var wg sync.WaitGroup
	stored := make(chan server.Event, perNode*len(brokers))
	for i, b := range brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perNode; j++ {
				ev, dup, err := b.Publish(context.Background(), server.Event{Channel: "c/1", Type: "t", ID: fmt.Sprintf("n%d-%d", i, j)})
				if err != nil || dup {
					t.Errorf("publish: %v dup=%v", err, dup)
					return
				}
				stored <- ev
			}
		}()
	}
	wg.Wait()
	close(stored)
	seen := map[uint64]bool{}
	epoch := ""
	for ev := range stored {
		if seen[ev.Seq] {
			t.Fatalf("seq %d stored twice", ev.Seq)
		}
		seen[ev.Seq] = true
		if epoch != "" && ev.Epoch != epoch {
			t.Fatalf("two epochs in one history: %s and %s", epoch, ev.Epoch)
		}
		epoch = ev.Epoch
	}
	total := perNode * len(brokers)
	for s := 1; s <= total; s++ {
		if !seen[uint64(s)] {
			t.Fatalf("seq %d missing: seqs must be gap-free", s)
		}
	}
	for i, s := range sinks {
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.seqs) >= total
		}, wait, tick, "every event on every node")
		for j, seq := range s.seqs {
			if seq != uint64(j+1) {
				t.Fatalf("node %d delivered seq %d at position %d", i, seq, j)
			}
		}
	}
	// Long (consumer) and short (walk) replays, read from any node.
	for _, since := range []uint64{0, 3, uint64(total) - 5, uint64(total)} {
		h, err := brokers[int(since)%3].History(context.Background(), "c/1", &protocol.Position{Epoch: epoch, Seq: since})
		if err != nil || !h.Complete || h.Top.Seq != uint64(total) || len(h.Events) != total-int(since) {
			t.Fatalf("since %d: %+v %v", since, h.Top, err)
		}
		for j, ev := range h.Events {
			if ev.Seq != since+uint64(j)+1 || ev.Epoch != epoch {
				t.Fatalf("since %d: event %d has seq %d", since, j, ev.Seq)
			}
		}
	}
}

func TestPublishIsIdempotentByID(t *testing.T) {
	e := natstest.Start(t)
	a, b := newBroker(t, e, Options{}), newBroker(t, e, Options{})
	ctx := context.Background()
	first, dup, err := a.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "ref:1", Payload: []byte(`{"ids":[1]}`)})
	if err != nil || dup {
		t.Fatal(err, dup)
	}
	again, dup, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "ref:1"})
	if err != nil || !dup || again.Seq != first.Seq || again.Epoch != first.Epoch || string(again.Payload) != `{"ids":[1]}` {
		t.Fatalf("repeat: %+v dup=%v err=%v", again, dup, err)
	}
	// The same id on another channel is another event.
	if _, dup, err := b.Publish(ctx, server.Event{Channel: "d", Type: "t", ID: "ref:1"}); err != nil || dup {
		t.Fatalf("other channel: dup=%v err=%v", dup, err)
	}
}

func TestHistoryBeyondRetentionIsIncomplete(t *testing.T) {
	e := natstest.Start(t)
	b := newBroker(t, e, Options{History: 5})
	ctx := context.Background()
	var last server.Event
	for i := 0; i < 10; i++ {
		ev, _, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: fmt.Sprint(i)})
		require.NoError(t, err)
		last = ev
	}
	for since, complete := range map[uint64]bool{2: false, 4: false, 5: true, 9: true, 11: false} {
		h, err := b.History(ctx, "c", &protocol.Position{Epoch: last.Epoch, Seq: since})
		if err != nil || h.Complete != complete || h.Top != last.Position() {
			t.Fatalf("since %d: complete=%v top=%+v err=%v", since, h.Complete, h.Top, err)
		}
		if complete && len(h.Events) != int(10-since) {
			t.Fatalf("since %d: %d events", since, len(h.Events))
		}
	}
	if h, _ := b.History(ctx, "c", &protocol.Position{Epoch: "other", Seq: 9}); h.Complete {
		t.Fatal("another epoch must not be complete")
	}
	if h, _ := b.History(ctx, "empty", nil); h.Top != (protocol.Position{}) {
		t.Fatalf("empty channel top %+v", h.Top)
	}
}

// A channel whose history is gone (purged here; MaxAge does the same)
// starts again at seq 1 in a new epoch, so no client mistakes the new
// events for ones it has seen.
func TestNewEpochAfterTheHistoryIsGone(t *testing.T) {
	e := natstest.Start(t)
	b := newBroker(t, e, Options{})
	ctx := context.Background()
	old, _, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "a"})
	require.NoError(t, err)
	require.NoError(t, b.getStream().Purge(ctx, jetstream.WithPurgeSubject(b.subject("c"))))
	other := newBroker(t, e, Options{}) // no cached tip
	ev, _, err := other.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "b"})
	if err != nil || ev.Seq != 1 || ev.Epoch == old.Epoch {
		t.Fatalf("after purge: %+v %v (old epoch %s)", ev, err, old.Epoch)
	}
	// The node with the stale cache is refused by the stream and re-reads.
	ev2, _, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "c"})
	if err != nil || ev2.Seq != 2 || ev2.Epoch != ev.Epoch {
		t.Fatalf("stale node: %+v %v", ev2, err)
	}
	if h, _ := b.History(ctx, "c", &protocol.Position{Epoch: old.Epoch, Seq: 1}); h.Complete {
		t.Fatal("the old epoch must not recover")
	}
}

// A replay by age walks back from the tip to the first event older than
// the cutoff; when that event is evicted, or the stream's MaxAge may have
// dropped it, the replay is not whole.
func TestHistoryAfter(t *testing.T) {
	e := natstest.Start(t)
	b := newBroker(t, e, Options{History: 4})
	ctx := context.Background()
	var evs []server.Event
	for i := 0; i < 3; i++ {
		if i > 0 {
			// Each event in its own millisecond, so that each date is a cutoff.
			for !time.Now().After(evs[i-1].Date.Add(time.Millisecond)) {
				runtime.Gosched()
			}
		}
		ev, _, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: fmt.Sprint(i)})
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	check := func(after time.Time, complete bool, seqs ...uint64) {
		t.Helper()
		h, err := b.HistoryAfter(ctx, "c", after)
		require.NoError(t, err)
		var got []uint64
		for _, ev := range h.Events {
			got = append(got, ev.Seq)
		}
		if h.Complete != complete || fmt.Sprint(got) != fmt.Sprint(seqs) || h.Top != evs[len(evs)-1].Position() {
			t.Fatalf("after %v: complete=%v seqs=%v top=%+v; want %v %v", after, h.Complete, got, h.Top, complete, seqs)
		}
	}
	check(evs[1].Date, true, 2, 3)
	check(evs[2].Date.Add(time.Millisecond), true)
	check(evs[0].Date.Add(-time.Millisecond), true, 1, 2, 3) // back to the epoch's first event
	for i := 3; i < 6; i++ {
		ev, _, err := b.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: fmt.Sprint(i)})
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	check(evs[0].Date.Add(-time.Millisecond), false) // events 1 and 2 were evicted

	if h, err := b.HistoryAfter(ctx, "empty", time.Now()); err != nil || !h.Complete || h.Top != (protocol.Position{}) {
		t.Fatalf("empty channel: %+v %v", h, err)
	}
	b.mu.Lock()
	b.lostAt = time.Now() // as when the node found the stream gone
	b.mu.Unlock()
	if h, _ := b.HistoryAfter(ctx, "fresh", time.Now().Add(-time.Second)); h.Complete {
		t.Fatal("an age before the stream was lost is complete")
	}
	aged := newBroker(t, e, Options{Stream: "AGED", SubjectPrefix: "aged", MaxAge: 200 * time.Millisecond})
	created := aged.getStream().CachedInfo().Created
	require.Eventually(t, func() bool { return time.Since(created) > 300*time.Millisecond }, wait, tick, "the stream to be older than its MaxAge")
	if h, _ := aged.HistoryAfter(ctx, "c", created.Add(50*time.Millisecond)); h.Complete {
		t.Fatal("an age beyond the stream's MaxAge is complete")
	}
	if h, _ := aged.HistoryAfter(ctx, "c", time.Now().Add(-100*time.Millisecond)); !h.Complete {
		t.Fatal("an age within the stream's MaxAge is incomplete")
	}
}
