package provider

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// benchHarness subscribes three ways to resources/posts (all types, an id
// filter, a type filter that rejects) and opens the connection.
func benchHarness(b *testing.B, open func(h *harness)) *harness {
	h := newHarness(b, extended)
	noop := func(Event) {}
	h.sub(SubscribeOptions{Channel: "resources/posts", Types: []string{"*"}, Callback: noop})
	h.sub(SubscribeOptions{Channel: "resources/posts", IDs: []string{"7"}, Callback: noop})
	h.sub(SubscribeOptions{Channel: "resources/posts", Types: []string{"deleted"}, Callback: noop})
	open(h)
	return h
}

// benchFrames hands frames to the loop b.N/per times, each holding per
// events, resetting the channel's position so none is a duplicate.
func benchFrames(b *testing.B, h *harness, per int, frames [][]byte) {
	b.ReportAllocs()
	b.ResetTimer()
	h.query(func() {
		cs := h.c.link.conn
		ch := h.c.chans.byName["resources/posts"]
		now := h.clk.Now()
		for i := 0; i < b.N; i += per {
			ch.pos = protocol.Position{Epoch: "e1", Seq: 0}
			h.c.onFrame(cs, frames[(i/per)%len(frames)], now)
		}
	})
}

func benchEvent(i, seq int) string {
	return `{"channel":"resources/posts","type":"updated","payload":{"ids":[7,8]},"id":"ev` + itoa(i) +
		`","seq":` + itoa(seq) + `,"epoch":"e1","date":1700000000000}`
}

// BenchmarkOnFrame measures the hot path: decode one extended event, check
// its position, filter it for three subscribers (one with an id filter) and
// queue it for delivery.
func BenchmarkOnFrame(b *testing.B) {
	h := benchHarness(b, func(h *harness) {
		h.tr.expectDial(b).accept().send(`{"action":"hello","protocol":"refine-live.v1","heartbeat":25000}`)
		h.waitStatus(StatusOpen)
	})
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = []byte(benchEvent(i, 1))
	}
	benchFrames(b, h, 1, frames)
}

// BenchmarkOnFrameBatched is BenchmarkOnFrame with 16 events per frame,
// as a batching server sends a burst; one op is one event.
func BenchmarkOnFrameBatched(b *testing.B) {
	h := benchHarness(b, func(h *harness) { h.openBatch() })
	const per = 16
	var frame []byte
	for i := 0; i < per; i++ {
		if i > 0 {
			frame = append(frame, '\n')
		}
		frame = append(frame, benchEvent(i, i+1)...)
	}
	benchFrames(b, h, per, [][]byte{frame})
}

// A basic event forwarded to a list subscription (no filter) must cost no
// allocation in the engine: decode interns the channel, the payload stays a
// slice of the frame, and the delivery queue reuses its buffers.
func TestForwardedEventAllocatesNothing(t *testing.T) {
	h := newHarness(t, basic)
	var delivered atomic.Int64
	h.sub(SubscribeOptions{Channel: "resources/posts", Callback: func(Event) { delivered.Add(1) }})
	h.open(protocol.LevelBasic, 0)
	allocs := h.frameAllocs([]byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[7],"title":"x"}}`))
	assert.Zero(t, allocs, "onFrame allocations per forwarded event")
	h.waitLoop("deliveries", func() bool { return delivered.Load() > 64 })
}
