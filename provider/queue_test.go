package provider

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func TestQueueBoundsDropOldestAndFlushOrder(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.QueueMaxCount = 3
	})
	for i := 1; i <= 5; i++ {
		if err := h.c.Publish(PublishEvent{Channel: "c", Type: "updated", Payload: json.RawMessage(`{"ids":[` + itoa(i) + `]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := h.expectErr(ErrQueueFull); !strings.HasPrefix(err.Error(), "failed to publish: ") {
			t.Fatalf("error text %q", err)
		}
	}
	fc := h.open(protocol.LevelBasic, 0)
	for i := 3; i <= 5; i++ {
		fc.expectWriteEq(t, `{"action":"publish","channel":"c","type":"updated","payload":{"ids":[`+itoa(i)+`]}}`)
	}
	if st := h.c.Stats(); st.PublishesDropped != 2 || st.PublishesQueued != 5 || st.PublishesSent != 3 {
		t.Fatalf("stats %+v", st)
	}
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
	if st := h.c.Stats(); st.PublishesDropped != 3 {
		t.Fatalf("stats %+v", st)
	}
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
		if err := h.c.Publish(e); !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("%+v: %v", e, err)
		}
	}
	huge := json.RawMessage(`{"x":"` + strings.Repeat("a", protocol.DefaultMaxMessage) + `"}`)
	if err := h.c.Publish(PublishEvent{Channel: "c", Type: "t", Payload: huge}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if err := h.c.Publish(PublishEvent{Channel: "c", Type: "t", Meta: json.RawMessage(`null`)}); err != nil {
		t.Fatal(err)
	}
}

// An extended server may announce a smaller limit; publishes above it are
// refused before they are sent.
func TestServerMaxMessage(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.send(`{"action":"hello","protocol":"refine-live.v1","maxMessage":200}`)
	h.waitStatus(StatusOpen)
	payload := json.RawMessage(`{"x":"` + strings.Repeat("a", 200) + `"}`)
	if err := h.c.Publish(PublishEvent{Channel: "c", Type: "t", Payload: payload}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
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
	if e := h.expectEvent(); e.Channel != "d" {
		t.Fatalf("got %+v, want d's event at once", e)
	}
	h.waitLoop("window holds 3", func() bool { return len(h.c.chans.byName["c"].subs[0].pend) == 3 })
	h.clk.Advance(100 * time.Millisecond)
	e := h.expectEvent()
	if e.Channel != "c" || e.Type != "*" || string(e.Payload) != `{"ids":[1,2,3,4]}` {
		t.Fatalf("merged %+v payload %s", e, e.Payload)
	}
	// A window of one is delivered unchanged.
	fc.send(`{"channel":"c","type":"updated","payload":{"ids":[9],"extra":true}}`)
	h.waitLoop("window holds 1", func() bool { return len(h.c.chans.byName["c"].subs[0].pend) == 1 })
	h.clk.Advance(100 * time.Millisecond)
	if e := h.expectEvent(); string(e.Payload) != `{"ids":[9],"extra":true}` {
		t.Fatalf("got %s", e.Payload)
	}
}

func TestMergeResyncWins(t *testing.T) {
	got := mergeEvents([]Event{{Type: "updated", Payload: emptyObject}, {Type: "*", Resync: "gap"}, {Type: "updated", Payload: emptyObject}})
	if got.Resync != "gap" {
		t.Fatalf("got %+v", got)
	}
}

func filterIDs(cfg *Config) { basic(cfg); cfg.FilterIDs = true }

func TestFilters(t *testing.T) {
	h := newHarness(t, filterIDs)
	h.sub(SubscribeOptions{Channel: "c", Types: []string{"updated", "deleted"}, IDs: []string{"1", "abc"}})
	off, err := h.c.Subscribe(SubscribeOptions{Channel: "c", Disabled: true, Callback: func(Event) { t.Error("disabled handle got an event") }})
	if err != nil || off.State() != SubUnsubscribed {
		t.Fatalf("disabled: %v %v", off.State(), err)
	}
	h.c.Unsubscribe(off)
	fc := h.open(protocol.LevelBasic, 0)
	if got := h.flush(fc); len(got) != 1 {
		t.Fatalf("wrote %q", got)
	}
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
			if e := h.expectEvent(); strings.Contains(string(e.Payload), "marker") {
				t.Fatalf("%s filtered out", f.frame)
			}
		}
		if e := h.expectEvent(); !strings.Contains(string(e.Payload), "marker") {
			t.Fatalf("%s delivered (%s)", f.frame, e.Payload)
		}
	}
}

func TestCreatedBypassesIDFilterAndFilterOff(t *testing.T) {
	h := newHarness(t, basic) // FilterIDs is off by default
	h.sub(SubscribeOptions{Channel: "c", IDs: []string{"1"}})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"updated","payload":{"ids":[2]}}`)
	if e := h.expectEvent(); e.Type != "updated" {
		t.Fatalf("got %+v", e)
	}
	h2 := newHarness(t, filterIDs)
	h2.sub(SubscribeOptions{Channel: "c", IDs: []string{"1"}})
	fc2 := h2.open(protocol.LevelBasic, 0)
	fc2.send(`{"channel":"c","type":"created","payload":{"ids":[2]}}`)
	if e := h2.expectEvent(); e.Type != "created" {
		t.Fatalf("got %+v", e)
	}
}

func TestNormID(t *testing.T) {
	for raw, want := range map[string]string{
		`"x"`: "x", `"a\"b"`: `a"b`, `12345678901234567890`: "12345678901234567890",
		`-3`: "-3", `1e3`: "1000", `2.50`: "2.5", `true`: "true", ``: "", `-`: "-",
	} {
		if got := normID(json.RawMessage(raw)); got != want {
			t.Errorf("normID(%s) = %q, want %q", raw, got, want)
		}
	}
}
