package provider

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// A first subscribe asks for what the server accepted since the
// application's call, widened by the dial's duration and the margin; the
// server's answer decides whether a resync follows.
func TestFirstSubscribeAsksForItsAge(t *testing.T) {
	for _, recovered := range []bool{true, false} {
		t.Run("recovered="+strconv.FormatBool(recovered), func(t *testing.T) {
			h := newHarness(t, extended)
			h.sub(SubscribeOptions{Channel: "c", CalledAt: h.clk.Now().Add(-3 * time.Second)})
			r := h.tr.expectDial(t)
			h.clk.Advance(250 * time.Millisecond) // the dial takes a while
			fc := r.accept()
			fc.expectWriteEq(t, clientHello)
			// 3 s before the subscribe, 0.25 s of dial counted twice
			// (waiting and round trip), and the margin.
			fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":4500}`)
			fc.send(`{"action":"hello","protocol":"refine-live.v1"}`)
			fc.send(`{"channel":"c","type":"updated","payload":{},"seq":7,"epoch":"e"}`) // replayed
			fc.send(subscribed("c", 7, "e", recovered))
			h.expectSeq(7)
			if !recovered {
				h.expectResync("unrecovered")
			}
			h.expectNoEvent()
		})
	}
}

// Against a basic server nothing can be replayed: a first subscribe that
// left more than LateResync after the call is followed by one resync.
func TestLateFirstSubscribeResyncsOnBasic(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "late", CalledAt: h.clk.Now().Add(-2 * time.Second)})
	h.sub(SubscribeOptions{Channel: "soon", CalledAt: h.clk.Now().Add(-500 * time.Millisecond)})
	fc := h.open(protocol.LevelBasic, 0)
	assert.Equal(t, "late", h.expectResync("late").Channel)
	h.flush(fc)
	fc.send(`{"channel":"soon","type":"updated","payload":{}}`)
	e := h.expectEvent()
	assert.Equal(t, "soon", e.Channel)
	assert.Empty(t, e.Resync)
}

func subscribeFrames(t *testing.T, frames []string) (singles []string, lists [][]protocol.ChannelRequest) {
	for _, f := range frames {
		if !strings.HasPrefix(f, `{"action":"subscribe"`) {
			continue
		}
		var m protocol.ClientMessage
		require.NoError(t, json.Unmarshal([]byte(f), &m))
		if len(m.Channels) > 0 {
			lists = append(lists, m.Channels)
		} else {
			singles = append(singles, m.Channel)
		}
	}
	return singles, lists
}

// Before the level is known, subscribes go one by one, paced; the rest
// leave in one frame once the server's hello arrives, and a reconnect to
// that server lists every channel in one frame at once.
func TestManyChannelsShareOneSubscribe(t *testing.T) {
	h := newHarness(t, extended)
	const n = 150
	for i := 0; i < n; i++ {
		h.sub(SubscribeOptions{Channel: "c" + itoa(i)})
	}
	fc := h.tr.expectDial(t).accept()
	fc.expectWriteEq(t, clientHello)
	h.waitLoop("the first flush", func() bool { return len(h.c.chans.toSubscribe) == n-basicBurst })
	singles, lists := subscribeFrames(t, h.flush(fc))
	assert.Len(t, singles, basicBurst, "single subscribes before the hello")
	assert.Empty(t, lists, "lists before the hello")
	fc.send(`{"action":"hello","protocol":"refine-live.v1"}`)
	h.waitStatus(StatusOpen)
	singles, lists = subscribeFrames(t, h.flush(fc))
	assert.Empty(t, singles, "single subscribes after the hello")
	require.Len(t, lists, 1)
	require.Len(t, lists[0], n-basicBurst)
	for _, r := range lists[0] {
		require.Equal(t, int64(1000), r.Age, "request %+v", r)
		require.Nil(t, r.Since, "request %+v", r)
	}
	for i := 0; i < n; i++ {
		fc.send(subscribed("c"+itoa(i), 1, "e", true))
	}
	h.waitLoop("subscribed", h.chanIs("c149", chSubscribed))

	fc.drop(protocol.CloseGoingAway, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(t).accept()
	fc2.expectWriteEq(t, clientHello)
	h.waitLoop("the flush", func() bool { return len(h.c.chans.toSubscribe) == 0 })
	singles, lists = subscribeFrames(t, h.flush(fc2))
	assert.Empty(t, singles, "single subscribes on the reconnect")
	require.Len(t, lists, 1)
	require.Len(t, lists[0], n)
	assert.Equal(t, &protocol.Position{Epoch: "e", Seq: 1}, lists[0][0].Since, "the reconnect asks from the position")
}

// twoChannels opens an extended connection with channels one and two sent
// and one of them confirmed.
func twoChannels(t *testing.T, one, two string) (*harness, *fakeConn, *Subscription, *Subscription) {
	h := newHarness(t, extended)
	a := h.sub(SubscribeOptions{Channel: one})
	b := h.sub(SubscribeOptions{Channel: two})
	fc := h.open(protocol.LevelExtended, 0)
	h.flush(fc)
	fc.send(subscribed(one, 0, "e", true))
	return h, fc, a, b
}

// A rate_limited answer holds subscribes back for the hint, then sends
// again every channel still unconfirmed (the server drops the frames that
// follow a refused one without a word); a refusal in a row waits longer.
func TestRateLimitedSubscribesAreSentAgain(t *testing.T) {
	h, fc, a, b := twoChannels(t, "a", "b")
	const limited = `{"action":"error","code":"rate_limited","message":"slow down","retryAfter":400}`
	fc.send(limited)
	h.waitLoop("a subscribed, b held back", func() bool {
		return a.State() == SubSubscribed && h.chanIs("b", chQueued)()
	})
	// The wait doubles with each refusal in a row.
	for _, step := range []struct {
		wait time.Duration
		age  string
	}{{400 * time.Millisecond, "1400"}, {800 * time.Millisecond, "2200"}} {
		h.clk.Advance(step.wait - time.Millisecond)
		assert.Empty(t, h.flush(fc), "sent before the wait of %v", step.wait)
		h.clk.Advance(time.Millisecond)
		fc.expectWriteEq(t, `{"action":"subscribe","channel":"b","age":`+step.age+`}`)
		assert.Equal(t, SubSubscribing, b.State())
		if step.age == "1400" {
			fc.send(limited)
			h.waitLoop("b held back", h.chanIs("b", chQueued))
		}
	}
	fc.send(subscribed("b", 0, "e", true))
	h.waitLoop("b subscribed", func() bool { return b.State() == SubSubscribed })
	h.expectNoErr()
}

// A refusal is per channel, visible in the subscription's state and
// reported once; the other channels are not affected.
func TestRefusedChannelIsVisible(t *testing.T) {
	h, fc, ok, no := twoChannels(t, "ok", "no")
	fc.send(`{"action":"error","code":"subscription_limit","message":"at most 1","channel":"no"}`)
	se := h.expectServerError()
	assert.Equal(t, "no", se.Channel)
	assert.Equal(t, protocol.CodeSubscriptionLimit, se.Code)
	h.waitLoop("states", func() bool { return no.State() == SubRefused && ok.State() == SubSubscribed })
}

// A rate_limited error that nothing of ours waits on (a refused ping, say)
// cannot be made good by sending again: it is reported.
func TestUnattributedRateLimitIsReported(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","retryAfter":100}`)
	se := h.expectServerError()
	assert.Equal(t, protocol.CodeRateLimited, se.Code)
}
