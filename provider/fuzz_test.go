package provider

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// FuzzServerStream feeds an arbitrary stream of server frames (the input
// split on U+001E) to an open extended connection. The engine must not
// panic, must deliver events of one epoch in increasing seq order, and must
// still close cleanly.
func FuzzServerStream(f *testing.F) {
	for _, s := range []string{
		`{"channel":"c","type":"updated","payload":{"ids":[1]},"seq":1,"epoch":"e1"}` + "\x1e" + `{"channel":"c","type":"t","seq":3,"epoch":"e1"}`,
		`{"action":"subscribed","channel":"c","seq":5,"epoch":"e2","recovered":true}` + "\x1e" + `{"channel":"c","type":"x","seq":4,"epoch":"e2"}`,
		`{"action":"ack","ref":"nope","seq":1}` + "\x1e" + `{"action":"error","code":"forbidden","channel":"c"}`,
		`{"action":"hello","protocol":"refine-live.v1","heartbeat":1}` + "\x1e" + `{"action":"ping"}` + "\x1e" + `[1,2]`,
		`{"channel":"d","type":"created","payload":{"ids":"x"},"id":"a","seq":1,"epoch":"e"}` + "\x1e" + `{"channel":"d","type":"created","id":"a","seq":1,"epoch":"e"}`,
		`{"channel":"c","type":"deleted","seq":18446744073709551615,"epoch":"e"}` + "\x1e" + `{"channel":"c","type":"deleted","seq":1,"epoch":"e"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t, nil)
		var mu sync.Mutex
		last := map[string]protocol.Position{}
		check := func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Resync != "" || e.Seq == 0 {
				delete(last, e.Channel)
				return
			}
			p, ok := last[e.Channel]
			assert.False(t, ok && p.Epoch == e.Epoch && e.Seq <= p.Seq,
				"channel %s delivered seq %d after %d in epoch %q", e.Channel, e.Seq, p.Seq, e.Epoch)
			last[e.Channel] = protocol.Position{Epoch: e.Epoch, Seq: e.Seq}
		}
		h.sub(SubscribeOptions{Channel: "c", Callback: check})
		h.sub(SubscribeOptions{Channel: "d", IDs: []string{"1"}, Callback: check})
		h.open(protocol.LevelExtended, 25000)
		h.query(func() {
			cs := h.c.link.conn
			for _, frame := range bytes.Split(data, []byte{0x1e}) {
				if h.c.link.conn != cs || cs == nil {
					return // the stream made the engine drop the connection
				}
				h.c.onFrame(cs, frame, h.clk.Now())
			}
		})
		require.NoError(t, h.c.Close(), "Close after the stream")
	})
}

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
