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
