package provider

import (
	"context"
	"runtime"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// maxInbound is the largest frame the client decodes. It is above the
// default publish limit because a server adds id, seq, epoch and date to
// what was published.
const maxInbound = 1 << 20

var emptyObject = []byte("{}")

// frameChunk is how many messages of a batch the loop handles before it lets
// the delivery goroutine run. A backlog handled in one go would grow the
// delivery queue to the whole backlog: in the browser, where goroutines
// take turns on one thread, growing and scanning that queue took half of
// the engine's time during a drain.
const frameChunk = 64

// attach hands a PushConn the function its transport calls with frames.
// The context check makes calls after the connection was dropped do
// nothing; one that races with the drop is ignored by the loop, which
// checks that cs is still current.
func (l *link) attach(ctx context.Context, cs *connState, pc PushConn) {
	pc.Attach(func(frames [][]byte, err error) {
		if ctx.Err() != nil {
			return
		}
		if len(frames) > 0 && !l.c.post(func() { l.onFrames(cs, frames) }) {
			return
		}
		if err != nil {
			l.c.post(func() { l.lost(cs, err, protocol.CloseNormal) })
		}
	})
}

// onFrames handles a batch of cs's frames in one turn of the loop, letting
// the delivery goroutine run every frameChunk messages; the clock is read
// once per chunk.
func (l *link) onFrames(cs *connState, frames [][]byte) {
	now := l.c.cfg.Clock.Now()
	n := 0
	for _, data := range frames {
		if n >= frameChunk {
			runtime.Gosched()
			now = l.c.cfg.Clock.Now()
			n = 0
		}
		n += l.c.onFrame(cs, data, now)
	}
}

// onFrame handles one frame of the current connection, received at now,
// and returns how many messages it held. After a hello that accepted
// batches, a frame holds one or more messages separated by newlines; they
// are handled in order, each as a slice of the frame, so splitting costs no
// allocation. The caller reads the clock once per batch: in the browser each
// reading is two calls out of wasm.
func (c *Client) onFrame(cs *connState, data []byte, now time.Time) int {
	if c.link.conn != cs {
		return 0
	}
	cs.lastInbound = now
	stopTimer(&cs.probe)
	if !cs.split {
		c.onMessage(cs, data, now)
		return 1
	}
	n := 0
	for rest := data; len(rest) > 0 && c.link.conn == cs; {
		var msg []byte
		msg, rest = protocol.NextMessage(rest)
		if len(msg) > 0 {
			c.onMessage(cs, msg, now)
			n++
		}
	}
	return n
}

// onMessage handles one message. This is the hot path: decode into a
// reused message, filter, queue for delivery.
func (c *Client) onMessage(cs *connState, data []byte, now time.Time) {
	m := &c.msg
	c.dec.Limit = maxInbound
	if err := c.dec.Decode(data, m); err != nil {
		c.cfg.Logger.Log(LogDebug, "ignoring frame", err)
		return
	}
	if m.IsEvent() {
		if cs.phase == connHandshake && c.cfg.Protocol == protocol.LevelAuto {
			// An event before any hello: the server speaks basic.
			c.link.markOpen(cs, protocol.LevelBasic)
		}
		c.chans.onEvent(cs, m, now)
		return
	}
	switch m.Action {
	case protocol.ActionHello:
		if cs.phase == connHandshake {
			cs.heartbeat = time.Duration(m.Heartbeat) * time.Millisecond
			if m.MaxMessage > 0 {
				c.maxMessage.Store(m.MaxMessage)
			} else {
				c.maxMessage.Store(protocol.DefaultMaxMessage)
			}
			cs.split = m.Batch
			c.link.markOpen(cs, protocol.LevelExtended)
		}
	case protocol.ActionPing:
		cs.send(&protocol.ClientMessage{Action: protocol.ActionPong})
	case protocol.ActionSubscribed:
		c.chans.onSubscribed(cs, m)
	case protocol.ActionAck:
		c.pubs.onAck(cs, m)
	case protocol.ActionError:
		c.onServerError(cs, m)
	}
}

func (c *Client) onServerError(cs *connState, m *protocol.ServerMessage) {
	se := &ServerError{Code: m.Code, Message: m.Message, Channel: m.Channel, Ref: m.Ref}
	se.RetryAfter = msDuration(m.RetryAfter)
	if m.Code == protocol.CodeRateLimited {
		// Not a refusal: a request to come back later, for this frame and
		// the ones the server dropped after it. With nothing of ours
		// waiting for an answer, what was refused cannot be sent again:
		// the application hears of it.
		if len(cs.acks) == 0 && !c.chans.awaiting() {
			c.report(LogWarn, "rate limited", se)
		}
		c.onRetryLater(cs, se.RetryAfter)
		return
	}
	if m.Ref != "" {
		c.pubs.refused(cs, se)
		return
	}
	ch := c.chans.byName[m.Channel]
	if m.Code == protocol.CodeInternal && ch != nil {
		c.onRetryLater(cs, se.RetryAfter)
		return
	}
	if m.Channel != "" && ch != nil {
		c.chans.refuse(ch, se)
		return
	}
	c.report(LogWarn, "server error", se)
}

// onRetryLater handles a rate_limited answer (or an internal one to a
// subscribe): after the server's hint, doubled for each refusal in a row,
// every channel sent and not yet confirmed is sent again, and so is every
// publish not yet acknowledged. A server of ours drops the frames that
// follow a refused one without answering them, so the resend covers them
// too; a subscribe accepted after all is answered again without a second
// replay, and a publish keeps its ref, so the server stores it once.
func (c *Client) onRetryLater(cs *connState, retryAfter time.Duration) {
	cs.rateLimited++
	wait := max(retryAfter, 50*time.Millisecond) << min(cs.rateLimited-1, 6)
	wait = min(wait, c.cfg.MaxDelay)
	c.cfg.Logger.Log(LogInfo, "refused for now: sending unanswered subscribes and publishes again in "+wait.String(), nil)
	c.chans.resendUnconfirmed()
	stopTimer(&cs.subPause)
	cs.subPause = c.after(wait, func() {
		if c.link.conn == cs {
			cs.subPause = nil
			c.pubs.resendUnacked(cs)
			c.chans.flush()
		}
	})
}

func (t *channelTable) onEvent(cs *connState, m *protocol.ServerMessage, now time.Time) {
	c := t.c
	ch := t.byName[m.Channel]
	if ch == nil {
		return
	}
	c.st.eventsReceived.Add(1)
	if cs.level == protocol.LevelExtended && m.Seq > 0 {
		if ch.hasPos() {
			switch {
			case m.Epoch == ch.pos.Epoch && m.Seq <= ch.pos.Seq:
				c.st.duplicates.Add(1)
				return
			case m.Epoch == ch.pos.Epoch && m.Seq > ch.pos.Seq+1 && ch.state == chSubscribed:
				t.resync(ch, "gap")
			case m.Epoch != ch.pos.Epoch && ch.state == chSubscribed:
				t.resync(ch, "epoch")
			}
		}
		ch.pos = m.Position()
		if ch.state == chSubscribing && ch.asked != askNothing {
			c.st.eventsReplayed.Add(1)
		}
	}
	// Our own publish: the publisher already knows; its position is
	// recorded above so a replay will not bring it back either. Only the
	// subscriptions of its origin are spared it (all, for origin zero).
	echoOf := -1
	if m.ID != "" {
		if origin, ok := c.pubs.echo.origin(m.ID); ok {
			c.st.echoes.Add(1)
			if origin == 0 {
				return
			}
			echoOf = origin
		}
	}
	ev := Event{Channel: ch.name, Type: m.Type, Payload: m.Payload, Meta: m.Meta,
		ID: m.ID, Seq: m.Seq, Epoch: m.Epoch, Date: m.Date}
	if len(ev.Payload) == 0 || ev.Payload[0] != '{' {
		ev.Payload = emptyObject
	}
	if len(ev.Meta) > 0 && ev.Meta[0] != '{' {
		ev.Meta = nil
	}
	if ev.Date == 0 {
		ev.Date = now.UnixMilli()
	}
	t.dispatch(ch, &ev, echoOf)
}

// dispatch hands ev to the subscriptions of ch that match it, but for
// those of origin except (-1: none is excepted).
func (t *channelTable) dispatch(ch *channel, ev *Event, except int) {
	ids := &t.ids
	ids.reset()
	matched := t.matched[:0]
	for _, s := range ch.subs {
		if s.origin == except || !s.match(ev, ids) {
			continue
		}
		if s.coalesce > 0 {
			t.coalesce(s, ev)
		} else {
			matched = append(matched, s)
		}
	}
	if len(matched) > 0 {
		t.c.out.fanout(matched, ev)
	}
	clear(matched)
	t.matched = matched[:0]
}

// resync tells every subscriber of ch, once, that it may have missed
// events. With a ResyncSpread, the delivery waits a random part of it, so
// that a reconnect resyncing many channels does not make every resource
// refetch in the same instant; a second incident within that wait is
// covered by the pending resync.
func (t *channelTable) resync(ch *channel, reason string) {
	c := t.c
	c.st.resyncs.Add(1)
	c.cfg.Logger.Log(LogInfo, "resync "+ch.name+": "+reason, nil)
	if c.cfg.ResyncSpread <= 0 {
		t.deliverResync(ch, reason)
		return
	}
	if ch.resyncDue != nil {
		return
	}
	delay := time.Duration(c.cfg.Rand() * float64(c.cfg.ResyncSpread))
	ch.resyncDue = c.after(delay, func() {
		if ch.resyncDue == nil || t.byName[ch.name] != ch {
			return // stopped too late to prevent the fire
		}
		ch.resyncDue = nil
		t.deliverResync(ch, reason)
	})
}

func (t *channelTable) deliverResync(ch *channel, reason string) {
	ev := Event{Channel: ch.name, Type: "*", Resync: reason, Date: t.c.cfg.Clock.Now().UnixMilli(),
		Payload: []byte(`{"resync":true,"reason":"` + reason + `"}`)}
	t.dispatch(ch, &ev, -1)
}

// coalesce holds ev in s's window; the first event of a window starts it.
func (t *channelTable) coalesce(s *Subscription, ev *Event) {
	c := t.c
	s.pend = append(s.pend, *ev)
	if s.pendTimer != nil {
		return
	}
	s.pendGen++
	g := s.pendGen
	s.pendTimer = c.after(s.coalesce, func() {
		if s.pendGen != g || s.ch == nil || len(s.pend) == 0 {
			return
		}
		s.pendTimer = nil
		merged := mergeEvents(s.pend)
		clear(s.pend)
		s.pend = s.pend[:0]
		c.out.event(s, &merged)
	})
}
