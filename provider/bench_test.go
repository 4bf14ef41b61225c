package provider

import (
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
		cs := h.c.conn
		ch := h.c.channels["resources/posts"]
		for i := 0; i < b.N; i++ {
			ch.pos = protocol.Position{Epoch: "e1", Seq: 0}
			h.c.onFrame(cs, frames[i%len(frames)])
		}
	})
	<-done
}
