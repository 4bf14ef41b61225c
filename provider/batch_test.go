package provider

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// openBatch completes an extended handshake whose server hello accepts
// batched frames.
func (h *harness) openBatch() *fakeConn {
	h.t.Helper()
	return h.openHello(`{"action":"hello","protocol":"refine-live.v1","session":"s1","heartbeat":25000,"batch":true}`)
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
	h.expectSeq(1, 2, 3)
	// A frame of one message is still a batch of one.
	fc.send(batchEvent(4))
	h.expectSeq(4)
}

// A server that did not accept batches may send JSON spread over lines (a
// basic server pretty-printing its events): the frame is one message.
func TestFrameWithNewlinesIsOneMessageWithoutBatch(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "resources/posts"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send("{\n  \"channel\": \"resources/posts\",\n  \"type\": \"created\",\n  \"payload\": {\"ids\": [9]}\n}")
	e := h.expectEvent()
	assert.Equal(t, "created", e.Type)
	assert.Equal(t, `{"ids": [9]}`, string(e.Payload))
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
	allocs := h.frameAllocs([]byte(strings.Join(msgs, "\n")))
	assert.Zero(t, allocs, "onFrame allocations per frame of %d events", len(msgs))
	h.waitLoop("deliveries", func() bool { return delivered.Load() > 64*8 })
}
