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

// chanIs is a waitLoop condition: channel name is in state.
func (h *harness) chanIs(name string, state chanState) func() bool {
	return func() bool { ch := h.c.chans.byName[name]; return ch != nil && ch.state == state }
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
	h.waitLoop("subscribed", h.chanIs("c", chSubscribed))
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
	e := h.expectEvent()
	assert.Equal(t, Event{Channel: "c", Type: "updated", Payload: []byte(`{"ids":[6]}`), ID: "e6", Seq: 6, Epoch: "e1", Date: 1000}, e)
	fc2, sub := reconnect(h, fc)
	require.Equal(t, `{"action":"subscribe","channel":"c","since":{"epoch":"e1","seq":6}}`, sub)
	// The server replays 6 again (overlap), then 7 and 8, then confirms.
	fc2.send(ev("c", 6, "e1"))
	fc2.send(ev("c", 7, "e1"))
	fc2.send(ev("c", 8, "e1"))
	fc2.send(subscribed("c", 8, "e1", true))
	fc2.send(ev("c", 9, "e1"))
	h.expectSeq(7, 8, 9)
	// A late duplicate of a live event is dropped too.
	fc2.send(ev("c", 9, "e1"))
	fc2.send(ev("c", 10, "e1"))
	h.expectSeq(10)
	st := h.c.Stats()
	assert.Equal(t, [3]uint64{2, 2, 0}, [3]uint64{st.DuplicatesDropped, st.EventsReplayed, st.Resyncs}, "stats %+v", st)
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
			h.expectResync(tc.reason)
			h.expectResync(tc.reason)
			// The new position is adopted: 51 is next, no gap.
			fc2.send(ev("c", 51, tc.epoch))
			h.expectSeq(51)
			assert.Equal(t, uint64(1), h.c.Stats().Resyncs, "one incident")
		})
	}
}

func TestResyncOnLiveGapAndEpochChange(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 5, "e1")
	fc.send(ev("c", 8, "e1"))
	h.expectResync("gap")
	h.expectSeq(8) // the event after the resync
	fc.send(ev("c", 1, "e2"))
	h.expectResync("epoch")
	e := h.expectEvent()
	assert.Equal(t, uint64(1), e.Seq)
	assert.Equal(t, "e2", e.Epoch)
}

func TestReconnectWithoutPositionResyncs(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelExtended, 0)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":1000}`)
	fc.send(`{"action":"subscribed","channel":"c"}`) // a server without history
	// It could not replay the time before the subscription went live.
	h.expectResync("unrecovered")
	h.waitLoop("subscribed", h.chanIs("c", chSubscribed))
	fc2, sub := reconnect(h, fc)
	assert.NotContains(t, sub, "since", "since without a position")
	assert.NotContains(t, sub, "age", "an age on a channel live before")
	fc2.send(`{"action":"subscribed","channel":"c"}`)
	h.expectResync("reconnect")
}

func TestEchoSuppressionAndAcks(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	h.publish(PublishEvent{Channel: "c", Type: "created", Payload: json.RawMessage(`{"ids":[1]}`), Meta: json.RawMessage(`{"m":1}`)})
	m := fc.expectMessage(t)
	require.True(t, protocol.ValidRef(m.Ref), "ref %q", m.Ref)
	require.Equal(t, `{"m":1}`, string(m.Meta))
	fc.send(`{"action":"ack","ref":"` + m.Ref + `","channel":"c","seq":1,"epoch":"e1"}`)
	fc.send(`{"channel":"c","type":"created","payload":{"ids":[1]},"id":"` + m.Ref + `","seq":1,"epoch":"e1"}`)
	fc.send(ev("c", 2, "e1"))
	h.expectSeq(2) // the echo suppressed
	// A refused publish is reported.
	h.c.Publish(PublishEvent{Channel: "c", Type: "updated"})
	m = fc.expectMessage(t)
	fc.send(`{"action":"error","ref":"` + m.Ref + `","code":"forbidden","message":"no"}`)
	se := h.expectServerError()
	assert.Equal(t, m.Ref, se.Ref)
	assert.Equal(t, "forbidden", se.Code)
	h.waitLoop("counters", func() bool { return h.c.st.pubFailed.Load() == 1 })
	st := h.c.Stats()
	assert.Equal(t, [3]uint64{1, 1, 2}, [3]uint64{st.EchoesSuppressed, st.PublishesAcked, st.PublishesSent}, "stats %+v", st)
}

// The echo of a publish that was in flight when the connection dropped comes
// back in the replay; it is suppressed there too.
func TestEchoSuppressedInReplay(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	h.c.Publish(PublishEvent{Channel: "c", Type: "created"})
	m := fc.expectMessage(t)
	fc2, _ := reconnect(h, fc)
	fc2.send(`{"channel":"c","type":"created","payload":{},"id":"` + m.Ref + `","seq":1,"epoch":"e1"}`)
	fc2.send(ev("c", 2, "e1"))
	fc2.send(subscribed("c", 2, "e1", true))
	h.expectSeq(2)
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
	require.Equal(t, StatusOpen, h.c.Status(), "status before the deadline")
	h.clk.Advance(time.Second)
	assert.Equal(t, protocol.CloseHeartbeatTimeout, fc.expectClosed(t))
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
	assert.Equal(t, protocol.CloseHeartbeatTimeout, fc.expectClosed(t))
}

func TestWallClockJumpReconnectsBasic(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	h.clk.Jump(time.Hour)
	h.clk.Advance(jumpTick)
	fc.expectClosed(t)
	h.open(protocol.LevelBasic, 0)
	h.expectResync("reconnect")
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
	assert.Empty(t, h.flush(fc))
	h.clk.Advance(time.Second)
	fc.expectWriteEq(t, `{"action":"ping"}`)
	fc.send(`{"action":"pong"}`)
	assert.Empty(t, h.flush(fc), "a deferred signal probed twice")
	// While waiting to reconnect, it dials at once.
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second) // rate limit over, retry timer (750ms) fires: dial
	h.tr.expectDial(t).fail(errors.New("offline"))
	h.waitLoop("retry scheduled", func() bool { return h.c.link.retry != nil })
	h.clk.Advance(500 * time.Millisecond) // less than the 1000ms backoff, more than the rate limit
	h.c.Reconnect()
	h.tr.expectDial(t).fail(errors.New("offline"))
}

// One client serving several origins (the tabs of a shared worker): the
// echo of a publish skips only the subscriptions of its own origin.
func TestEchoSkipsOnlyThePublishingOrigin(t *testing.T) {
	h := newHarness(t, extended)
	got := map[int]chan Event{}
	for _, origin := range []int{0, 2, 3} {
		events := make(chan Event, 8)
		got[origin] = events
		h.sub(SubscribeOptions{Channel: "c", Origin: origin, Callback: func(e Event) { events <- e }})
	}
	fc := openSubscribed(h, 0, "e1")
	h.publish(PublishEvent{Channel: "c", Type: "created", Payload: json.RawMessage(`{"ids":[1]}`), Origin: 2})
	m := fc.expectMessage(t)
	fc.send(`{"channel":"c","type":"created","payload":{"ids":[1]},"id":"` + m.Ref + `","seq":1,"epoch":"e1"}`)
	fc.send(ev("c", 2, "e1"))
	for _, origin := range []int{0, 3} {
		e := recv(t, got[origin])
		assert.Equal(t, m.Ref, e.ID, "origin %d gets the echo of origin 2", origin)
		assert.Equal(t, "e2", recv(t, got[origin]).ID)
	}
	assert.Equal(t, "e2", recv(t, got[2]).ID, "origin 2 is spared its own echo")
	assert.Equal(t, uint64(1), h.c.Stats().EchoesSuppressed)
}
