package provider

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func basic(cfg *Config) { cfg.Protocol = protocol.LevelBasic }

func TestLazyConnect(t *testing.T) {
	h := newHarness(t, basic)
	h.query(func() {})
	if got := h.c.Status(); got != StatusIdle {
		t.Fatalf("status %s before any subscribe, want idle", got)
	}
	select {
	case <-h.tr.dials:
		t.Fatal("dialed before the first subscribe")
	default:
	}
	h.sub(SubscribeOptions{Channel: "c"})
	h.open(protocol.LevelBasic, 0)
}

func TestBasicSubscribeReceivePublish(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "resources/posts"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"resources/posts"}`)
	if s.State() != SubSubscribed {
		t.Fatalf("state %s, want subscribed", s.State())
	}
	fc.send(`{"channel":"resources/posts","type":"updated","payload":{"ids":[1]}}`)
	e := h.expectEvent()
	if e.Type != "updated" || string(e.Payload) != `{"ids":[1]}` || e.Resync != "" {
		t.Fatalf("event %+v", e)
	}
	if e.Date != h.clk.Now().UnixMilli() {
		t.Fatalf("date %d not stamped on receipt (%d)", e.Date, h.clk.Now().UnixMilli())
	}
	err := h.c.Publish(PublishEvent{Channel: "resources/posts", Type: "created", Payload: json.RawMessage(`{"ids":[2]}`), Meta: json.RawMessage(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the basic bytes: no ref, no meta.
	fc.expectWriteEq(t, `{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[2]}}`)
	if st := h.c.Stats(); st.PublishesSent != 1 || st.EventsReceived != 1 || st.EventsDelivered != 1 {
		t.Fatalf("stats %+v", st)
	}
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
	if got := h.flush(fc); len(got) != 1 || got[0] != `{"action":"subscribe","channel":"c"}` {
		t.Fatalf("wrote %q, want one subscribe", got)
	}
	// On an open connection.
	b := h.sub(SubscribeOptions{Channel: "d"})
	h.c.Unsubscribe(b)
	d2 := h.sub(SubscribeOptions{Channel: "d"})
	h.sync()
	h.clk.Advance(2 * time.Second) // past the linger: d2 keeps it alive
	if got := h.flush(fc); countPrefix(got, `{"action":"subscribe"`) != 1 || countPrefix(got, `{"action":"unsubscribe"`) != 0 {
		t.Fatalf("wrote %q, want one subscribe and no unsubscribe", got)
	}
	// The last subscriber leaves: one unsubscribe after the linger, not before.
	h.c.Unsubscribe(d2)
	h.sync()
	h.clk.Advance(999 * time.Millisecond)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("wrote %q during the linger", got)
	}
	h.clk.Advance(time.Millisecond)
	if got := h.flush(fc); len(got) != 1 || got[0] != `{"action":"unsubscribe","channel":"d"}` {
		t.Fatalf("wrote %q, want one unsubscribe", got)
	}
	if d2.State() != SubUnsubscribed {
		t.Fatalf("state %s after unsubscribe", d2.State())
	}
}

func TestBasicReconnectResync(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "c", Types: []string{"updated"}})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWrite(t)
	fc.send(`{"channel":"c","type":"updated","payload":{}}`)
	if e := h.expectEvent(); e.Resync != "" {
		t.Fatalf("first connect delivered %+v, want the event only", e)
	}
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	if s.State() != SubSubscribing {
		t.Fatalf("state %s while reconnecting", s.State())
	}
	h.clk.Advance(time.Second) // attempt 0 waits 500ms + 0.5·500ms
	fc2 := h.open(protocol.LevelBasic, 0)
	fc2.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`)
	e := h.expectEvent()
	if e.Type != "*" || e.Resync != "reconnect" || string(e.Payload) != `{"resync":true,"reason":"reconnect"}` {
		t.Fatalf("got %+v, want a resync event", e)
	}
	fc2.send(`{"channel":"c","type":"updated","payload":{}}`)
	if e := h.expectEvent(); e.Resync != "" {
		t.Fatalf("second resync %+v", e)
	}
	if st := h.c.Stats(); st.Reconnects != 1 || st.Resyncs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBackoffBounds(t *testing.T) {
	min, max := 500*time.Millisecond, 20*time.Second
	for n := 0; n < 70; n++ {
		lo, hi := backoff(min, max, n, 0), backoff(min, max, n, 0.999999)
		if lo != min {
			t.Fatalf("attempt %d: floor %v, want %v", n, lo, min)
		}
		want := min + min<<uint(n)
		if n > 5 || want > max {
			want = max
		}
		if hi > want || hi < want-time.Millisecond {
			t.Fatalf("attempt %d: top %v, want %v", n, hi, want)
		}
	}
	// The spread survives at the cap: clients do not herd on MaxDelay.
	if a, b := backoff(min, max, 30, 0.1), backoff(min, max, 30, 0.9); b-a < 15*time.Second {
		t.Fatalf("spread at cap %v..%v", a, b)
	}
	if got := backoff(min, max, -1, 2); got != min {
		t.Fatalf("bad inputs gave %v", got)
	}
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
	if attempt != 2 {
		t.Fatalf("attempt %d after two flaps, want 2", attempt)
	}
	h.clk.Advance(time.Millisecond)
	h.query(func() { attempt = h.c.link.attempt })
	if attempt != 0 {
		t.Fatalf("attempt %d after a stable connection, want 0", attempt)
	}
}

func TestDialFailureFailover(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.URLs = []string{"ws://a", "ws://b"}
	})
	h.sub(SubscribeOptions{Channel: "c"})
	r := h.tr.expectDial(t)
	if r.url != "ws://a" {
		t.Fatalf("first dial %s", r.url)
	}
	r.fail(errors.New("refused"))
	if err := h.expectErr(ErrConnect); !errors.Is(err, ErrConnect) {
		t.Fatal(err)
	}
	// A failed first attempt is a reconnect: the app shows it as such.
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	if r := h.tr.expectDial(t); r.url != "ws://b" {
		t.Fatalf("second dial %s, want the next URL", r.url)
	} else {
		r.accept()
	}
	h.waitStatus(StatusOpen)
	if st := h.c.Stats(); st.DialFailures != 1 || st.Reconnects != 0 {
		t.Fatalf("stats %+v", st)
	}
}
