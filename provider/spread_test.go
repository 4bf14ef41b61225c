package provider

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// spreadHarness has channel c on a basic connection that was dropped and
// reopened once, with resyncs spread over d.
func spreadHarness(t *testing.T, d time.Duration) (*harness, *fakeConn) {
	h := newHarness(t, func(cfg *Config) {
		cfg.Protocol = protocol.LevelBasic
		cfg.ResyncSpread = d
	})
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWrite(t)
	return h, h.reopenBasic(fc)
}

func TestResyncSpreadDelaysAndMergesResyncs(t *testing.T) {
	h, fc2 := spreadHarness(t, time.Second)
	// Events go on flowing while the resync waits its turn.
	fc2.send(`{"channel":"c","type":"updated","payload":{"ids":[1]}}`)
	require.Empty(t, h.expectEvent().Resync, "the live event comes before the spread delay")
	// A second incident while the resync waits is covered by it.
	fc2.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(400 * time.Millisecond) // under the 500ms the resync waits (Rand 0.5 · 1s)
	h.expectNoEvent()
	h.clk.Advance(100 * time.Millisecond)
	h.expectResync("reconnect")
	h.clk.Advance(2 * time.Second)
	fc3 := h.open(protocol.LevelBasic, 0)
	fc3.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`)
	h.clk.Advance(time.Second)
	h.expectResync("reconnect") // the third connection's own
}

func TestResyncSpreadStopsWithTheClient(t *testing.T) {
	h, _ := spreadHarness(t, time.Second)
	h.sync()
	require.NoError(t, h.c.Close())
	h.clk.Advance(time.Second)
	for {
		select {
		case e := <-h.events:
			require.Empty(t, e.Resync, "a resync was delivered after Close: %+v", e)
		default:
			return
		}
	}
}
