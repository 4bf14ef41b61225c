package provider

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

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
			if e := h.expectEvent(); e.Seq != 7 {
				t.Fatalf("got %+v, want the replayed event", e)
			}
			if !recovered {
				if e := h.expectEvent(); e.Resync != "unrecovered" {
					t.Fatalf("got %+v, want a resync", e)
				}
			}
			h.sync()
			select {
			case e := <-h.events:
				t.Fatalf("unexpected %+v", e)
			default:
			}
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
	if e := h.expectEvent(); e.Channel != "late" || e.Resync != "late" {
		t.Fatalf("got %+v", e)
	}
	h.flush(fc)
	fc.send(`{"channel":"soon","type":"updated","payload":{}}`)
	if e := h.expectEvent(); e.Channel != "soon" || e.Resync != "" {
		t.Fatalf("got %+v, want the soon channel's event and no resync", e)
	}
}

func subscribeFrames(frames []string) (singles []string, lists [][]protocol.ChannelRequest) {
	for _, f := range frames {
		if !strings.HasPrefix(f, `{"action":"subscribe"`) {
			continue
		}
		var m protocol.ClientMessage
		if err := json.Unmarshal([]byte(f), &m); err != nil {
			panic(err)
		}
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
	singles, lists := subscribeFrames(h.flush(fc))
	if len(singles) != basicBurst || len(lists) != 0 {
		t.Fatalf("before the hello: %d single subscribes and %d lists, want %d and none", len(singles), len(lists), basicBurst)
	}
	fc.send(`{"action":"hello","protocol":"refine-live.v1"}`)
	h.waitStatus(StatusOpen)
	singles, lists = subscribeFrames(h.flush(fc))
	if len(singles) != 0 || len(lists) != 1 || len(lists[0]) != n-basicBurst {
		t.Fatalf("after the hello: %d singles, lists %d", len(singles), len(lists))
	}
	for _, r := range lists[0] {
		if r.Age != 1000 || r.Since != nil {
			t.Fatalf("request %+v, want an age", r)
		}
	}
	for i := 0; i < n; i++ {
		fc.send(subscribed("c"+itoa(i), 1, "e", true))
	}
	h.waitLoop("subscribed", func() bool { return h.c.chans.byName["c149"].state == chSubscribed })

	fc.drop(protocol.CloseGoingAway, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(t).accept()
	fc2.expectWriteEq(t, clientHello)
	h.waitLoop("the flush", func() bool { return len(h.c.chans.toSubscribe) == 0 })
	singles, lists = subscribeFrames(h.flush(fc2))
	if len(singles) != 0 || len(lists) != 1 || len(lists[0]) != n {
		t.Fatalf("reconnect: %d singles, %d lists", len(singles), len(lists))
	}
	if r := lists[0][0]; r.Since == nil || r.Since.Epoch != "e" || r.Since.Seq != 1 {
		t.Fatalf("reconnect request %+v, want its position", r)
	}
}

// A rate_limited answer holds subscribes back for the hint, then sends
// again every channel still unconfirmed (the server drops the frames that
// follow a refused one without a word); a refusal in a row waits longer.
func TestRateLimitedSubscribesAreSentAgain(t *testing.T) {
	h := newHarness(t, extended)
	a := h.sub(SubscribeOptions{Channel: "a"})
	b := h.sub(SubscribeOptions{Channel: "b"})
	fc := h.open(protocol.LevelExtended, 0)
	h.flush(fc)
	fc.send(subscribed("a", 0, "e", true))
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","retryAfter":400}`)
	h.waitLoop("a subscribed, b held back", func() bool {
		return a.State() == SubSubscribed && h.c.chans.byName["b"].state == chQueued
	})
	h.clk.Advance(399 * time.Millisecond)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("sent %q before the hint", got)
	}
	h.clk.Advance(time.Millisecond)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"b","age":1400}`)
	if b.State() != SubSubscribing {
		t.Fatalf("b is %s", b.State())
	}
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","retryAfter":400}`)
	h.waitLoop("b held back", func() bool { return h.c.chans.byName["b"].state == chQueued })
	h.clk.Advance(799 * time.Millisecond)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("sent %q before twice the hint", got)
	}
	h.clk.Advance(time.Millisecond)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"b","age":2200}`)
	fc.send(subscribed("b", 0, "e", true))
	h.waitLoop("b subscribed", func() bool { return b.State() == SubSubscribed })
	select {
	case err := <-h.errs:
		t.Fatalf("a rate limit was reported as %v", err)
	default:
	}
}

// A refusal is per channel, visible in the subscription's state and
// reported once; the other channels are not affected.
func TestRefusedChannelIsVisible(t *testing.T) {
	h := newHarness(t, extended)
	ok := h.sub(SubscribeOptions{Channel: "ok"})
	no := h.sub(SubscribeOptions{Channel: "no"})
	fc := h.open(protocol.LevelExtended, 0)
	h.flush(fc)
	fc.send(subscribed("ok", 0, "e", true))
	fc.send(`{"action":"error","code":"subscription_limit","message":"at most 1","channel":"no"}`)
	var se *ServerError
	if err := h.expectErr(ErrServer); !errors.As(err, &se) || se.Channel != "no" || se.Code != protocol.CodeSubscriptionLimit {
		t.Fatalf("error %v", err)
	}
	h.waitLoop("states", func() bool { return no.State() == SubRefused && ok.State() == SubSubscribed })
}

// A rate_limited error that nothing of ours waits on (a refused ping, say)
// cannot be made good by sending again: it is reported.
func TestUnattributedRateLimitIsReported(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","retryAfter":100}`)
	var se *ServerError
	if err := h.expectErr(ErrServer); !errors.As(err, &se) || se.Code != protocol.CodeRateLimited {
		t.Fatalf("error %v", err)
	}
}
