package provider

import (
	"strconv"
	"testing"
	"time"

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
	if sent != basicBurst {
		t.Fatalf("wrote %d subscribes at once, want %d", sent, basicBurst)
	}
	for i := 0; sent < n && i < 20; i++ {
		h.clk.Advance(time.Second)
		got := countPrefix(h.flush(fc), `{"action":"subscribe"`)
		if got > basicRate+1 {
			t.Fatalf("wrote %d subscribes in a second, want at most %d", got, basicRate+1)
		}
		sent += got
	}
	if sent != n {
		t.Fatalf("wrote %d subscribes, want %d", sent, n)
	}

	// c0 leaves at t=0, c1 at t=0.5 s; c2 leaves and comes back.
	h.c.Unsubscribe(subs[0])
	h.c.Unsubscribe(subs[2])
	h.sync()
	h.clk.Advance(500 * time.Millisecond)
	h.c.Unsubscribe(subs[1])
	subs[2] = h.sub(SubscribeOptions{Channel: "c2"})
	h.sync()
	h.clk.Advance(500 * time.Millisecond)
	if got := h.flush(fc); len(got) != 1 || got[0] != `{"action":"unsubscribe","channel":"c0"}` {
		t.Fatalf("at 1 s wrote %q, want c0's unsubscribe alone", got)
	}
	h.clk.Advance(500 * time.Millisecond)
	if got := h.flush(fc); len(got) != 1 || got[0] != `{"action":"unsubscribe","channel":"c1"}` {
		t.Fatalf("at 1.5 s wrote %q, want c1's unsubscribe alone", got)
	}

	var peak int
	h.query(func() { peak = h.c.chans.peak })
	for i := 3; i < n; i++ {
		h.c.Unsubscribe(subs[i])
	}
	h.sync()
	h.clk.Advance(time.Second)
	if got := h.flush(fc); countPrefix(got, `{"action":"unsubscribe"`) != n-3 {
		t.Fatalf("wrote %d unsubscribes after the linger, want %d", countPrefix(got, `{"action":"unsubscribe"`), n-3)
	}
	h.query(func() {
		if len(h.c.chans.byName) != 1 || h.c.chans.byName["c2"] == nil {
			t.Errorf("channels left: %d, want c2 alone", len(h.c.chans.byName))
		}
		if h.c.chans.peak >= peak || len(h.c.chans.lingering) != 0 || h.c.chans.lingerTimer != nil {
			t.Errorf("peak %d (was %d), %d lingering, timer %v: want the map rebuilt and nothing pending",
				h.c.chans.peak, peak, len(h.c.chans.lingering), h.c.chans.lingerTimer)
		}
	})
	// c2 still works.
	fc.send(`{"channel":"c2","type":"updated","payload":{}}`)
	if e := h.expectEvent(); e.Channel != "c2" {
		t.Fatalf("event on %q, want c2", e.Channel)
	}
}
