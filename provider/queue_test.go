package provider

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func TestQueueBoundsDropOldestAndFlushOrder(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.QueueMaxCount = 3
	})
	for i := 1; i <= 5; i++ {
		h.publish(PublishEvent{Channel: "c", Type: "updated", Payload: json.RawMessage(`{"ids":[` + itoa(i) + `]}`)})
	}
	for i := 0; i < 2; i++ {
		assert.True(t, strings.HasPrefix(h.expectErr(ErrQueueFull).Error(), "failed to publish: "))
	}
	fc := h.open(protocol.LevelBasic, 0)
	for i := 3; i <= 5; i++ {
		fc.expectWriteEq(t, `{"action":"publish","channel":"c","type":"updated","payload":{"ids":[`+itoa(i)+`]}}`)
	}
	st := h.c.Stats()
	assert.Equal(t, [3]uint64{2, 5, 3}, [3]uint64{st.PublishesDropped, st.PublishesQueued, st.PublishesSent}, "stats %+v", st)
}

func TestQueueByteBound(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.QueueMaxBytes = 300
	})
	big := json.RawMessage(`{"x":"` + strings.Repeat("a", 150) + `"}`)
	h.c.Publish(PublishEvent{Channel: "c", Type: "a", Payload: big})
	h.c.Publish(PublishEvent{Channel: "c", Type: "b", Payload: big}) // pushes a out
	h.expectErr(ErrQueueFull)
	huge := json.RawMessage(`{"x":"` + strings.Repeat("a", 400) + `"}`)
	h.c.Publish(PublishEvent{Channel: "c", Type: "c", Payload: huge}) // larger than the queue itself
	h.expectErr(ErrQueueFull)
	h.sync()
	assert.Equal(t, uint64(3), h.c.Stats().PublishesDropped)
}

func TestPublishValidation(t *testing.T) {
	h := newHarness(t, basic)
	bad := []PublishEvent{
		{Type: "t"},
		{Channel: "c"},
		{Channel: "c", Type: "t", Payload: json.RawMessage(`[1]`)},
		{Channel: "c", Type: "t", Payload: json.RawMessage(`{"a":`)},
		{Channel: "c", Type: "t", Meta: json.RawMessage(`"m"`)},
	}
	for _, e := range bad {
		assert.ErrorIs(t, h.c.Publish(e), ErrInvalidOptions, "%+v", e)
	}
	huge := json.RawMessage(`{"x":"` + strings.Repeat("a", protocol.DefaultMaxMessage) + `"}`)
	assert.ErrorIs(t, h.c.Publish(PublishEvent{Channel: "c", Type: "t", Payload: huge}), ErrTooLarge)
	assert.NoError(t, h.c.Publish(PublishEvent{Channel: "c", Type: "t", Meta: json.RawMessage(`null`)}))
}

// An extended server may announce a smaller limit; publishes above it are
// refused before they are sent.
func TestServerMaxMessage(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	h.openHello(`{"action":"hello","protocol":"refine-live.v1","maxMessage":200}`)
	payload := json.RawMessage(`{"x":"` + strings.Repeat("a", 200) + `"}`)
	assert.ErrorIs(t, h.c.Publish(PublishEvent{Channel: "c", Type: "t", Payload: payload}), ErrTooLarge)
}

func TestCoalescing(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.Coalesce = 100 * time.Millisecond
	})
	h.sub(SubscribeOptions{Channel: "c"})
	h.sub(SubscribeOptions{Channel: "d", Coalesce: -1}) // off for this one
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"updated","payload":{"ids":[1,2]}}`)
	fc.send(`{"channel":"c","type":"updated","payload":{"ids":["2",3]}}`)
	fc.send(`{"channel":"c","type":"deleted","payload":{"ids":[4]}}`)
	fc.send(`{"channel":"d","type":"updated","payload":{}}`)
	assert.Equal(t, "d", h.expectEvent().Channel, "d's event at once")
	window := func(n int) func() bool {
		return func() bool { return len(h.c.chans.byName["c"].subs[0].pend) == n }
	}
	h.waitLoop("window holds 3", window(3))
	h.clk.Advance(100 * time.Millisecond)
	e := h.expectEvent()
	assert.Equal(t, "c", e.Channel)
	assert.Equal(t, "*", e.Type)
	assert.Equal(t, `{"ids":[1,2,3,4]}`, string(e.Payload))
	// A window of one is delivered unchanged.
	fc.send(`{"channel":"c","type":"updated","payload":{"ids":[9],"extra":true}}`)
	h.waitLoop("window holds 1", window(1))
	h.clk.Advance(100 * time.Millisecond)
	assert.Equal(t, `{"ids":[9],"extra":true}`, string(h.expectEvent().Payload))
}

func TestMergeResyncWins(t *testing.T) {
	got := mergeEvents([]Event{{Type: "updated", Payload: emptyObject}, {Type: "*", Resync: "gap"}, {Type: "updated", Payload: emptyObject}})
	assert.Equal(t, "gap", got.Resync)
}

func filterIDs(cfg *Config) { basic(cfg); cfg.FilterIDs = true }

func TestFilters(t *testing.T) {
	h := newHarness(t, filterIDs)
	h.sub(SubscribeOptions{Channel: "c", Types: []string{"updated", "deleted"}, IDs: []string{"1", "abc"}})
	off, err := h.c.Subscribe(SubscribeOptions{Channel: "c", Disabled: true, Callback: func(Event) { t.Error("disabled handle got an event") }})
	require.NoError(t, err)
	require.Equal(t, SubUnsubscribed, off.State(), "disabled")
	h.c.Unsubscribe(off)
	fc := h.open(protocol.LevelBasic, 0)
	require.Len(t, h.flush(fc), 1)
	frames := []struct {
		frame string
		pass  bool
	}{
		{`{"channel":"c","type":"updated","payload":{"ids":[1]}}`, true},       // number matches "1"
		{`{"channel":"c","type":"updated","payload":{"ids":[1.0]}}`, true},     // 1.0 is 1
		{`{"channel":"c","type":"updated","payload":{"ids":["abc",7]}}`, true}, // any intersects
		{`{"channel":"c","type":"updated","payload":{"ids":[2,3]}}`, false},
		{`{"channel":"c","type":"updated","payload":{"ids":["a\u0062c"]}}`, true},
		{`{"channel":"c","type":"created","payload":{"ids":[2]}}`, false},    // type filtered
		{`{"channel":"c","type":"deleted","payload":{"other":1}}`, true},     // no ids: lenient
		{`{"channel":"c","type":"deleted","payload":{"ids":"x"}}`, true},     // not an array: lenient
		{`{"channel":"c","type":"deleted","payload":{"ids":[null]}}`, false}, // nothing matches
		{`{"channel":"other","type":"updated","payload":{"ids":[1]}}`, false},
	}
	for i, f := range frames {
		fc.send(f.frame)
		fc.send(`{"channel":"c","type":"updated","payload":{"marker":` + itoa(i) + `}}`)
		if f.pass {
			require.NotContains(t, string(h.expectEvent().Payload), "marker", "%s filtered out", f.frame)
		}
		require.Contains(t, string(h.expectEvent().Payload), "marker", "%s delivered", f.frame)
	}
}

func TestCreatedBypassesIDFilterAndFilterOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		typ  string
	}{
		{"filter off by default", basic, "updated"},
		{"created bypasses the filter", filterIDs, "created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			h.sub(SubscribeOptions{Channel: "c", IDs: []string{"1"}})
			h.open(protocol.LevelBasic, 0).send(`{"channel":"c","type":"` + tc.typ + `","payload":{"ids":[2]}}`)
			assert.Equal(t, tc.typ, h.expectEvent().Type)
		})
	}
}

func TestNormID(t *testing.T) {
	for raw, want := range map[string]string{
		`"x"`: "x", `"a\"b"`: `a"b`, `12345678901234567890`: "12345678901234567890",
		`-3`: "-3", `1e3`: "1000", `2.50`: "2.5", `true`: "true", ``: "", `-`: "-",
	} {
		assert.Equal(t, want, normID(json.RawMessage(raw)), "normID(%s)", raw)
	}
}
