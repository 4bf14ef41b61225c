package provider

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func basic(cfg *Config) { cfg.Protocol = protocol.LevelBasic }

func TestLazyConnect(t *testing.T) {
	h := newHarness(t, basic)
	h.sync()
	assert.Equal(t, StatusIdle, h.c.Status(), "status before any subscribe")
	h.tr.expectNoDial(t, "before the first subscribe")
	h.sub(SubscribeOptions{Channel: "c"})
	h.open(protocol.LevelBasic, 0)
}

func TestBasicSubscribeReceivePublish(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "resources/posts"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"resources/posts"}`)
	require.Equal(t, SubSubscribed, s.State())
	fc.send(`{"channel":"resources/posts","type":"updated","payload":{"ids":[1]}}`)
	e := h.expectEvent()
	assert.Equal(t, "updated", e.Type)
	assert.Equal(t, `{"ids":[1]}`, string(e.Payload))
	assert.Empty(t, e.Resync)
	assert.Equal(t, h.clk.Now().UnixMilli(), e.Date, "date not stamped on receipt")
	h.publish(PublishEvent{Channel: "resources/posts", Type: "created", Payload: json.RawMessage(`{"ids":[2]}`), Meta: json.RawMessage(`{"x":1}`)})
	// Exactly the basic bytes: no ref, no meta.
	fc.expectWriteEq(t, `{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[2]}}`)
	st := h.c.Stats()
	assert.Equal(t, [3]uint64{1, 1, 1}, [3]uint64{st.PublishesSent, st.EventsReceived, st.EventsDelivered}, "stats %+v", st)
}

func TestStrictModeSendsOneSubscribe(t *testing.T) {
	h := newHarness(t, basic)
	// Before the connection exists.
	a := h.sub(SubscribeOptions{Channel: "c"})
	h.c.Unsubscribe(a)
	h.c.Unsubscribe(a) // idempotent
	h.c.Unsubscribe(nil)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	assert.Equal(t, []string{`{"action":"subscribe","channel":"c"}`}, h.flush(fc))
	// On an open connection.
	b := h.sub(SubscribeOptions{Channel: "d"})
	h.c.Unsubscribe(b)
	d2 := h.sub(SubscribeOptions{Channel: "d"})
	h.sync()
	h.clk.Advance(2 * time.Second) // past the linger: d2 keeps it alive
	got := h.flush(fc)
	assert.Equal(t, 1, countPrefix(got, `{"action":"subscribe"`), "wrote %q", got)
	assert.Zero(t, countPrefix(got, `{"action":"unsubscribe"`), "wrote %q", got)
	// The last subscriber leaves: one unsubscribe after the linger, not before.
	h.c.Unsubscribe(d2)
	h.sync()
	h.clk.Advance(999 * time.Millisecond)
	assert.Empty(t, h.flush(fc), "wrote during the linger")
	h.clk.Advance(time.Millisecond)
	assert.Equal(t, []string{`{"action":"unsubscribe","channel":"d"}`}, h.flush(fc))
	assert.Equal(t, SubUnsubscribed, d2.State())
}

func TestBasicReconnectResync(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "c", Types: []string{"updated"}})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWrite(t)
	fc.send(`{"channel":"c","type":"updated","payload":{}}`)
	assert.Empty(t, h.expectEvent().Resync, "first connect delivered a resync")
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	assert.Equal(t, SubSubscribing, s.State(), "state while reconnecting")
	h.clk.Advance(time.Second) // attempt 0 waits 500ms + 0.5·500ms
	fc2 := h.open(protocol.LevelBasic, 0)
	fc2.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`)
	e := h.expectResync("reconnect")
	assert.Equal(t, `{"resync":true,"reason":"reconnect"}`, string(e.Payload))
	fc2.send(`{"channel":"c","type":"updated","payload":{}}`)
	assert.Empty(t, h.expectEvent().Resync, "second resync")
	st := h.c.Stats()
	assert.Equal(t, uint64(1), st.Reconnects)
	assert.Equal(t, uint64(1), st.Resyncs)
}

func TestBackoffBounds(t *testing.T) {
	min, max := 500*time.Millisecond, 20*time.Second
	for n := 0; n < 70; n++ {
		lo, hi := backoff(min, max, n, 0), backoff(min, max, n, 0.999999)
		require.Equal(t, min, lo, "attempt %d: floor", n)
		want := min + min<<uint(n)
		if n > 5 || want > max {
			want = max
		}
		require.True(t, hi <= want && hi >= want-time.Millisecond, "attempt %d: top %v, want %v", n, hi, want)
	}
	// The spread survives at the cap: clients do not herd on MaxDelay.
	a, b := backoff(min, max, 30, 0.1), backoff(min, max, 30, 0.9)
	assert.GreaterOrEqual(t, b-a, 15*time.Second, "spread at cap %v..%v", a, b)
	assert.Equal(t, min, backoff(min, max, -1, 2), "bad inputs")
}

func TestRetryDelayAndFlapGuard(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	// Drop before StableAfter, twice: the attempt counter keeps growing.
	for i := 0; i < 2; i++ {
		fc.drop(0, "")
		h.waitStatus(StatusReconnecting)
		want := backoff(DefaultMinDelay, DefaultMaxDelay, i, 0.5)
		h.clk.Advance(want - time.Millisecond)
		h.waitLoop("no dial yet", func() bool { return h.c.link.dial == nil && h.c.link.retry != nil })
		h.clk.Advance(time.Millisecond)
		fc = h.open(protocol.LevelBasic, 0)
		h.clk.Advance(DefaultStableAfter - time.Millisecond)
	}
	var attempt int
	h.query(func() { attempt = h.c.link.attempt })
	assert.Equal(t, 2, attempt, "after two flaps")
	h.clk.Advance(time.Millisecond)
	h.query(func() { attempt = h.c.link.attempt })
	assert.Zero(t, attempt, "after a stable connection")
}

func TestDialFailureFailover(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.URLs = []string{"ws://a", "ws://b"}
	})
	h.sub(SubscribeOptions{Channel: "c"})
	r := h.tr.expectDial(t)
	require.Equal(t, "ws://a", r.url)
	r.fail(errors.New("refused"))
	h.expectErr(ErrConnect)
	// A failed first attempt is a reconnect: the app shows it as such.
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	r = h.tr.expectDial(t)
	require.Equal(t, "ws://b", r.url, "the second dial goes to the next URL")
	r.accept()
	h.waitStatus(StatusOpen)
	st := h.c.Stats()
	assert.Equal(t, uint64(1), st.DialFailures)
	assert.Zero(t, st.Reconnects)
}
