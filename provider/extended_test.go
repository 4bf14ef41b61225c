package provider

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func extended(cfg *Config) { cfg.Protocol = protocol.LevelExtended }

func ev(ch string, seq int, epoch string) string {
	return `{"channel":"` + ch + `","type":"updated","payload":{"ids":[` + itoa(seq) + `]},"id":"e` + itoa(seq) +
		`","seq":` + itoa(seq) + `,"epoch":"` + epoch + `","date":1000}`
}

func subscribed(ch string, seq int, epoch string, recovered bool) string {
	s := `{"action":"subscribed","channel":"` + ch + `","epoch":"` + epoch + `","seq":` + itoa(seq)
	if recovered {
		s += `,"recovered":true`
	}
	return s + `}`
}

// openSubscribed opens an extended connection with channel c subscribed at
// (epoch, seq).
func openSubscribed(h *harness, seq int, epoch string) *fakeConn {
	h.t.Helper()
	fc := h.open(protocol.LevelExtended, 25000)
	// A first subscribe asks for what was accepted since the call (the
	// virtual clock has not moved: the margin alone).
	fc.expectWriteEq(h.t, `{"action":"subscribe","channel":"c","age":1000}`)
	fc.send(subscribed("c", seq, epoch, true))
	h.waitLoop("subscribed", func() bool { return h.c.chans.byName["c"].state == chSubscribed })
	return fc
}

// reconnect drops fc and accepts the next connection, returning it and the
// subscribe it carried.
func reconnect(h *harness, fc *fakeConn) (*fakeConn, string) {
	h.t.Helper()
	fc.drop(protocol.CloseGoingAway, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(h.t).accept()
	fc2.expectWriteEq(h.t, clientHello)
	sub := fc2.expectWrite(h.t)
	fc2.send(`{"action":"hello","protocol":"refine-live.v1","heartbeat":25000}`)
	h.waitStatus(StatusOpen)
	return fc2, sub
}

func TestRecoveryExactlyOnceInOrder(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 5, "e1")
	fc.send(ev("c", 6, "e1"))
	if e := h.expectEvent(); e.Seq != 6 || e.ID != "e6" || e.Date != 1000 || e.Epoch != "e1" {
		t.Fatalf("event %+v", e)
	}
	fc2, sub := reconnect(h, fc)
	if sub != `{"action":"subscribe","channel":"c","since":{"epoch":"e1","seq":6}}` {
		t.Fatalf("resubscribe %s", sub)
	}
	// The server replays 6 again (overlap), then 7 and 8, then confirms.
	fc2.send(ev("c", 6, "e1"))
	fc2.send(ev("c", 7, "e1"))
	fc2.send(ev("c", 8, "e1"))
	fc2.send(subscribed("c", 8, "e1", true))
	fc2.send(ev("c", 9, "e1"))
	for _, want := range []uint64{7, 8, 9} {
		if e := h.expectEvent(); e.Seq != want || e.Resync != "" {
			t.Fatalf("got %+v, want seq %d", e, want)
		}
	}
	// A late duplicate of a live event is dropped too.
	fc2.send(ev("c", 9, "e1"))
	fc2.send(ev("c", 10, "e1"))
	if e := h.expectEvent(); e.Seq != 10 {
		t.Fatalf("got %+v, want seq 10", e)
	}
	st := h.c.Stats()
	if st.DuplicatesDropped != 2 || st.EventsReplayed != 2 || st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestResyncUnrecoveredAndEpoch(t *testing.T) {
	for _, tc := range []struct{ epoch, reason string }{{"e1", "unrecovered"}, {"e2", "epoch"}} {
		t.Run(tc.reason, func(t *testing.T) {
			h := newHarness(t, extended)
			h.sub(SubscribeOptions{Channel: "c"})
			h.sub(SubscribeOptions{Channel: "c", Types: []string{"deleted"}}) // filters do not hide a resync
			fc := openSubscribed(h, 5, "e1")
			fc2, _ := reconnect(h, fc)
			fc2.send(subscribed("c", 50, tc.epoch, false))
			for i := 0; i < 2; i++ {
				if e := h.expectEvent(); e.Resync != tc.reason || e.Type != "*" {
					t.Fatalf("got %+v, want resync %s", e, tc.reason)
				}
			}
			// The new position is adopted: 51 is next, no gap.
			fc2.send(ev("c", 51, tc.epoch))
			if e := h.expectEvent(); e.Seq != 51 || e.Resync != "" {
				t.Fatalf("got %+v", e)
			}
			if st := h.c.Stats(); st.Resyncs != 1 {
				t.Fatalf("resyncs %d, want one incident", st.Resyncs)
			}
		})
	}
}

func TestResyncOnLiveGapAndEpochChange(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 5, "e1")
	fc.send(ev("c", 8, "e1"))
	if e := h.expectEvent(); e.Resync != "gap" {
		t.Fatalf("got %+v, want a gap resync", e)
	}
	if e := h.expectEvent(); e.Seq != 8 {
		t.Fatalf("got %+v, want the event after the resync", e)
	}
	fc.send(ev("c", 1, "e2"))
	if e := h.expectEvent(); e.Resync != "epoch" {
		t.Fatalf("got %+v, want an epoch resync", e)
	}
	if e := h.expectEvent(); e.Seq != 1 || e.Epoch != "e2" {
		t.Fatalf("got %+v", e)
	}
}

func TestReconnectWithoutPositionResyncs(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelExtended, 0)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":1000}`)
	fc.send(`{"action":"subscribed","channel":"c"}`) // a server without history
	// It could not replay the time before the subscription went live.
	if e := h.expectEvent(); e.Resync != "unrecovered" {
		t.Fatalf("got %+v", e)
	}
	h.waitLoop("subscribed", func() bool { return h.c.chans.byName["c"].state == chSubscribed })
	fc2, sub := reconnect(h, fc)
	if strings.Contains(sub, "since") || strings.Contains(sub, "age") {
		t.Fatalf("since without a position, or an age on a channel live before: %s", sub)
	}
	fc2.send(`{"action":"subscribed","channel":"c"}`)
	if e := h.expectEvent(); e.Resync != "reconnect" {
		t.Fatalf("got %+v", e)
	}
}

func TestEchoSuppressionAndAcks(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	if err := h.c.Publish(PublishEvent{Channel: "c", Type: "created", Payload: json.RawMessage(`{"ids":[1]}`), Meta: json.RawMessage(`{"m":1}`)}); err != nil {
		t.Fatal(err)
	}
	w := fc.expectWrite(t)
	m, err := protocol.DecodeClient([]byte(w), 0)
	if err != nil || m.Ref == "" || !protocol.ValidRef(m.Ref) || string(m.Meta) != `{"m":1}` {
		t.Fatalf("publish %s", w)
	}
	fc.send(`{"action":"ack","ref":"` + m.Ref + `","channel":"c","seq":1,"epoch":"e1"}`)
	fc.send(`{"channel":"c","type":"created","payload":{"ids":[1]},"id":"` + m.Ref + `","seq":1,"epoch":"e1"}`)
	fc.send(ev("c", 2, "e1"))
	if e := h.expectEvent(); e.Seq != 2 {
		t.Fatalf("got %+v, want the echo suppressed", e)
	}
	// A refused publish is reported.
	h.c.Publish(PublishEvent{Channel: "c", Type: "updated"})
	m, _ = protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
	fc.send(`{"action":"error","ref":"` + m.Ref + `","code":"forbidden","message":"no"}`)
	var se *ServerError
	if err := h.expectErr(ErrServer); !errors.As(err, &se) || se.Ref != m.Ref || se.Code != "forbidden" {
		t.Fatalf("error %v", err)
	}
	h.waitLoop("counters", func() bool { return h.c.st.pubFailed.Load() == 1 })
	if st := h.c.Stats(); st.EchoesSuppressed != 1 || st.PublishesAcked != 1 || st.PublishesSent != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// The echo of a publish that was in flight when the connection dropped comes
// back in the replay; it is suppressed there too.
func TestEchoSuppressedInReplay(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	h.c.Publish(PublishEvent{Channel: "c", Type: "created"})
	var m protocol.ClientMessage
	m, _ = protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
	fc2, _ := reconnect(h, fc)
	fc2.send(`{"channel":"c","type":"created","payload":{},"id":"` + m.Ref + `","seq":1,"epoch":"e1"}`)
	fc2.send(ev("c", 2, "e1"))
	fc2.send(subscribed("c", 2, "e1", true))
	if e := h.expectEvent(); e.Seq != 2 {
		t.Fatalf("got %+v", e)
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelExtended, 1000)
	fc.send(`{"action":"ping"}`)
	fc.expectWrite(t) // subscribe
	fc.expectWriteEq(t, `{"action":"pong"}`)
	h.clk.Advance(10 * time.Second) // 1s heartbeat + 10s grace not yet over
	h.sync()
	if h.c.Status() != StatusOpen {
		t.Fatalf("status %s before the deadline", h.c.Status())
	}
	h.clk.Advance(time.Second)
	if code := fc.expectClosed(t); code != protocol.CloseHeartbeatTimeout {
		t.Fatalf("closed with %d", code)
	}
	h.expectErr(ErrHeartbeatTimeout)
	h.waitStatus(StatusReconnecting)
}

func TestHandshakeTimeoutWhenForcedExtended(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	h.sync()
	h.clk.Advance(DefaultHelloTimeout)
	h.expectErr(ErrHandshake)
	h.waitStatus(StatusReconnecting)
}

func TestWallClockJumpProbes(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	h.clk.Advance(jumpTick) // an ordinary tick: nothing
	h.clk.Jump(time.Hour)
	h.clk.Advance(jumpTick)
	fc.expectWriteEq(t, `{"action":"ping"}`)
	fc.send(`{"action":"pong"}`)
	h.waitLoop("probe answered", func() bool { return h.c.link.conn.probe == nil })
	// A probe nobody answers kills the connection.
	h.clk.Jump(time.Hour)
	h.clk.Advance(jumpTick)
	fc.expectWriteEq(t, `{"action":"ping"}`)
	h.clk.Advance(DefaultProbeTimeout)
	if code := fc.expectClosed(t); code != protocol.CloseHeartbeatTimeout {
		t.Fatalf("closed with %d", code)
	}
}

func TestWallClockJumpReconnectsBasic(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	h.clk.Jump(time.Hour)
	h.clk.Advance(jumpTick)
	fc.expectClosed(t)
	h.open(protocol.LevelBasic, 0)
	if e := h.expectEvent(); e.Resync != "reconnect" {
		t.Fatalf("got %+v", e)
	}
}

func TestReconnectSignal(t *testing.T) {
	h := newHarness(t, extended)
	h.c.Reconnect() // idle: nothing to do
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	h.c.Reconnect()
	fc.expectWriteEq(t, `{"action":"ping"}`)
	fc.send(`{"action":"pong"}`)
	h.waitLoop("pong handled", func() bool { return h.c.link.conn.probe == nil })
	h.c.Reconnect() // within a second: deferred to the end of it, not lost
	h.c.Reconnect() // and not repeated
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("wrote %q", got)
	}
	h.clk.Advance(time.Second)
	fc.expectWriteEq(t, `{"action":"ping"}`)
	fc.send(`{"action":"pong"}`)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("a deferred signal probed twice: %q", got)
	}
	// While waiting to reconnect, it dials at once.
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second) // rate limit over, retry timer (750ms) fires: dial
	r := h.tr.expectDial(t)
	r.fail(errors.New("offline"))
	h.waitLoop("retry scheduled", func() bool { return h.c.link.retry != nil })
	h.clk.Advance(500 * time.Millisecond) // less than the 1000ms backoff, more than the rate limit
	h.c.Reconnect()
	h.tr.expectDial(t).fail(errors.New("offline"))
}
