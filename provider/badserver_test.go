package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	h.expectSeq(6, 7)
	h.expectNoEvent()
	st := h.c.Stats()
	assert.Equal(t, uint64(3), st.DuplicatesDropped)
	assert.Zero(t, st.Resyncs)
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
		require.Equal(t, want, recv(t, got))
	}
	assert.Equal(t, SubSubscribing, sub.State(), "no subscribed reply came")
	h.sync() // the loop still answers amid the flood
	h.c.Unsubscribe(sub)
	close(quit) // what was queued before the unsubscribe goes unread
	require.NoError(t, h.c.Close())
	close(stop)
	<-flooded
}
