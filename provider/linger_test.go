package provider

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Channels left at different times each expire one linger after their own
// departure, a channel rejoined during its linger stays, and after a mass
// unsubscribe the channel map is rebuilt at its new size.
func TestLingerExpiresEachChannelOnTime(t *testing.T) {
	// No resync for the channels the pacing sent late: this test counts
	// frames and events.
	h := newHarness(t, func(cfg *Config) { basic(cfg); cfg.LateResync = -1 })
	const n = 300
	subs := make([]*Subscription, n)
	for i := range subs {
		subs[i] = h.sub(SubscribeOptions{Channel: "c" + strconv.Itoa(i)})
	}
	fc := h.open(protocol.LevelBasic, 0)
	// Paced under the server's rate limit: a burst, then a steady rate.
	sent := countPrefix(h.flush(fc), `{"action":"subscribe"`)
	require.Equal(t, basicBurst, sent, "subscribes at once")
	for i := 0; sent < n && i < 20; i++ {
		h.clk.Advance(time.Second)
		got := countPrefix(h.flush(fc), `{"action":"subscribe"`)
		require.LessOrEqual(t, got, basicRate+1, "subscribes in a second")
		sent += got
	}
	require.Equal(t, n, sent, "subscribes in all")

	// c0 leaves at t=0, c1 at t=0.5 s; c2 leaves and comes back.
	h.c.Unsubscribe(subs[0])
	h.c.Unsubscribe(subs[2])
	h.sync()
	h.clk.Advance(500 * time.Millisecond)
	h.c.Unsubscribe(subs[1])
	subs[2] = h.sub(SubscribeOptions{Channel: "c2"})
	h.sync()
	h.clk.Advance(500 * time.Millisecond)
	assert.Equal(t, []string{`{"action":"unsubscribe","channel":"c0"}`}, h.flush(fc), "at 1 s")
	h.clk.Advance(500 * time.Millisecond)
	assert.Equal(t, []string{`{"action":"unsubscribe","channel":"c1"}`}, h.flush(fc), "at 1.5 s")

	var peak int
	h.query(func() { peak = h.c.chans.peak })
	for i := 3; i < n; i++ {
		h.c.Unsubscribe(subs[i])
	}
	h.sync()
	h.clk.Advance(time.Second)
	assert.Equal(t, n-3, countPrefix(h.flush(fc), `{"action":"unsubscribe"`), "unsubscribes after the linger")
	h.query(func() {
		assert.Len(t, h.c.chans.byName, 1, "channels left")
		assert.NotNil(t, h.c.chans.byName["c2"], "c2 is left")
		assert.Less(t, h.c.chans.peak, peak, "the map is rebuilt")
		assert.Empty(t, h.c.chans.lingering)
		assert.Nil(t, h.c.chans.lingerTimer)
	})
	// c2 still works.
	fc.send(`{"channel":"c2","type":"updated","payload":{}}`)
	assert.Equal(t, "c2", h.expectEvent().Channel)
}
