package provider

import (
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Server frames the fuzzer reaches only by chance, each with its expected
// answer: nothing delivered twice or out of order, nothing lost, no hang.

// An event whose seq goes backwards (or repeats) within the epoch is a
// duplicate: dropped and counted, never delivered, and it does not move
// the position back.
func TestSeqGoingBackwardsIsDropped(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 5, "e1")
	for _, seq := range []int{6, 4, 6, 5, 7} {
		fc.send(ev("c", seq, "e1"))
	}
	for _, want := range []uint64{6, 7} {
		if e := h.expectEvent(); e.Seq != want || e.Resync != "" {
			t.Fatalf("got %+v, want seq %d", e, want)
		}
	}
	h.sync()
	if st := h.c.Stats(); st.DuplicatesDropped != 3 || st.Resyncs != 0 {
		t.Fatalf("stats %+v: want 3 duplicates dropped, no resync", st)
	}
	select {
	case e := <-h.events:
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

// A replay that never ends (events keep coming, "subscribed" never does)
// is delivered as it comes, in order, without buffering it: the loop stays
// responsive, and Unsubscribe and Close return while the flood goes on.
func TestEndlessReplayStaysResponsive(t *testing.T) {
	h := newHarness(t, extended)
	got := make(chan uint64, 64)
	// Close may return while callbacks queued before it still run on the
	// delivery goroutine; quit lets them finish without a reader.
	quit := make(chan struct{})
	sub := h.sub(SubscribeOptions{Channel: "c", Callback: func(e Event) {
		select {
		case got <- e.Seq:
		case <-quit:
		}
	}})
	fc := h.open(protocol.LevelExtended, 25000)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":1000}`)
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() { // the endless replay, bounded only by the test
		defer close(flooded)
		for seq := 1; ; seq++ {
			select {
			case fc.in <- inFrame{data: []byte(ev("c", seq, "e1"))}:
			case <-stop:
				return
			}
		}
	}()
	for want := uint64(1); want <= 2000; want++ {
		select {
		case seq := <-got:
			if seq != want {
				t.Fatalf("got seq %d, want %d", seq, want)
			}
		case <-time.After(wait):
			t.Fatalf("replay stalled at %d", want)
		}
	}
	if sub.State() != SubSubscribing {
		t.Fatalf("state %s: no subscribed reply came", sub.State())
	}
	h.sync() // the loop still answers amid the flood
	h.c.Unsubscribe(sub)
	close(quit) // what was queued before the unsubscribe goes unread
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-flooded
}
