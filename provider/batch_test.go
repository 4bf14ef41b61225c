package provider

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// openBatch completes an extended handshake whose server hello accepts
// batched frames.
func (h *harness) openBatch() *fakeConn {
	h.t.Helper()
	fc := h.tr.expectDial(h.t).accept()
	fc.expectWriteEq(h.t, clientHello)
	fc.send(`{"action":"hello","protocol":"refine-live.v1","session":"s1","heartbeat":25000,"batch":true}`)
	h.waitStatus(StatusOpen)
	return fc
}

func batchEvent(seq int) string {
	return `{"channel":"resources/posts","type":"updated","payload":{"ids":[` + itoa(seq) +
		`]},"id":"e` + itoa(seq) + `","seq":` + itoa(seq) + `,"epoch":"e1","date":1700000000000}`
}

func TestBatchedFrameDeliversEachMessageInOrder(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "resources/posts"})
	fc := h.openBatch()
	fc.send(strings.Join([]string{
		`{"action":"subscribed","channel":"resources/posts","epoch":"e1","recovered":true}`,
		batchEvent(1), batchEvent(2), "", batchEvent(3),
	}, "\n") + "\n")
	for seq := uint64(1); seq <= 3; seq++ {
		if e := h.expectEvent(); e.Seq != seq || e.Resync != "" {
			t.Fatalf("want event seq %d, got %+v", seq, e)
		}
	}
	// A frame of one message is still a batch of one.
	fc.send(batchEvent(4))
	if e := h.expectEvent(); e.Seq != 4 {
		t.Fatalf("want event seq 4, got %+v", e)
	}
}

// A server that did not accept batches may send JSON spread over lines (a
// basic server pretty-printing its events): the frame is one message.
func TestFrameWithNewlinesIsOneMessageWithoutBatch(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "resources/posts"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send("{\n  \"channel\": \"resources/posts\",\n  \"type\": \"created\",\n  \"payload\": {\"ids\": [9]}\n}")
	if e := h.expectEvent(); e.Type != "created" || string(e.Payload) != `{"ids": [9]}` {
		t.Fatalf("got %+v", e)
	}
}

// Splitting a batched frame must keep the hot path free of allocations.
func TestBatchedEventsAllocateNothing(t *testing.T) {
	h := newHarness(t, extended)
	var delivered atomic.Int64
	h.sub(SubscribeOptions{Channel: "resources/posts", Callback: func(Event) { delivered.Add(1) }})
	h.openBatch()
	msgs := make([]string, 8)
	for i := range msgs {
		// No id: an id is the one string a decoded event cannot share
		// with the frame, and would be counted here.
		msgs[i] = `{"channel":"resources/posts","type":"updated","payload":{"ids":[` + itoa(i) + `]}}`
	}
	frame := []byte(strings.Join(msgs, "\n"))
	var allocs float64
	h.query(func() {
		cs := h.c.link.conn
		now := h.clk.Now()
		for i := 0; i < 64; i++ { // warm the buffers
			h.c.onFrame(cs, frame, now)
		}
		allocs = testing.AllocsPerRun(100, func() { h.c.onFrame(cs, frame, now) })
	})
	if allocs != 0 {
		t.Fatalf("onFrame allocates %.1f times per frame of %d events, want 0", allocs, len(msgs))
	}
	h.waitLoop("deliveries", func() bool { return delivered.Load() > 64*8 })
}
