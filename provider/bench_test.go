package provider

import (
	"sync/atomic"
	"testing"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// BenchmarkOnFrame measures the hot path: decode one extended event, check
// its position, filter it for three subscribers (one with an id filter) and
// queue it for delivery.
func BenchmarkOnFrame(b *testing.B) {
	h := newHarness(b, extended)
	defer h.c.Close()
	noop := func(Event) {}
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", Types: []string{"*"}, Callback: noop})
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", IDs: []string{"7"}, Callback: noop})
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", Types: []string{"deleted"}, Callback: noop})
	fc := h.tr.expectDial(b).accept()
	fc.send(`{"action":"hello","protocol":"refine-live.v1","heartbeat":25000}`)
	h.waitStatus(StatusOpen)
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[7,8]},"id":"ev` + itoa(i) +
			`","seq":1,"epoch":"e1","date":1700000000000}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan struct{})
	h.c.post(func() {
		defer close(done)
		cs := h.c.link.conn
		ch := h.c.chans.byName["resources/posts"]
		now := h.clk.Now()
		for i := 0; i < b.N; i++ {
			ch.pos = protocol.Position{Epoch: "e1", Seq: 0}
			h.c.onFrame(cs, frames[i%len(frames)], now)
		}
	})
	<-done
}

// A basic event forwarded to a list subscription (no filter) must cost no
// allocation in the engine: decode interns the channel, the payload stays a
// slice of the frame, and the delivery queue reuses its buffers.
func TestForwardedEventAllocatesNothing(t *testing.T) {
	h := newHarness(t, basic)
	var delivered atomic.Int64
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", Callback: func(Event) { delivered.Add(1) }})
	h.open(protocol.LevelBasic, 0)
	frame := []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[7],"title":"x"}}`)
	var allocs float64
	h.query(func() {
		cs := h.c.link.conn
		now := h.clk.Now()
		for i := 0; i < 64; i++ { // warm the buffers
			h.c.onFrame(cs, frame, now)
		}
		allocs = testing.AllocsPerRun(200, func() { h.c.onFrame(cs, frame, now) })
	})
	if allocs != 0 {
		t.Fatalf("onFrame allocates %.1f times per forwarded event, want 0", allocs)
	}
	h.waitLoop("deliveries", func() bool { return delivered.Load() > 64 })
}

// BenchmarkOnFrameBatched is BenchmarkOnFrame with 16 events per frame,
// as a batching server sends a burst; one op is one event.
func BenchmarkOnFrameBatched(b *testing.B) {
	h := newHarness(b, extended)
	defer h.c.Close()
	noop := func(Event) {}
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", Types: []string{"*"}, Callback: noop})
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", IDs: []string{"7"}, Callback: noop})
	h.c.Subscribe(SubscribeOptions{Channel: "resources/posts", Types: []string{"deleted"}, Callback: noop})
	h.openBatch()
	const per = 16
	var frame []byte
	for i := 0; i < per; i++ {
		if i > 0 {
			frame = append(frame, '\n')
		}
		frame = append(frame, `{"channel":"resources/posts","type":"updated","payload":{"ids":[7,8]},"id":"ev`+itoa(i)+
			`","seq":`+itoa(i+1)+`,"epoch":"e1","date":1700000000000}`...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan struct{})
	h.c.post(func() {
		defer close(done)
		cs := h.c.link.conn
		ch := h.c.chans.byName["resources/posts"]
		now := h.clk.Now()
		for i := 0; i < b.N; i += per {
			ch.pos = protocol.Position{Epoch: "e1", Seq: 0}
			h.c.onFrame(cs, frame, now)
		}
	})
	<-done
}
