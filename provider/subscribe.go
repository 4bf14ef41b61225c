package provider

import (
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Subscribes wait in channelTable.toSubscribe until the loop has run every
// command queued so far, then leave together: at the extended level in
// one frame listing every channel (a reconnect with hundreds of channels
// costs the server one message), at the basic level one frame per channel,
// paced under the server's rate limit. While the level is still unknown
// they go out one by one, paced likewise, and whatever is left waits for
// the level.

const (
	// basicBurst and basicRate pace per-channel subscribes: the reference
	// server allows a burst of 100 messages and 50 a second, and a basic
	// server drops what exceeds its limit without a word.
	basicBurst = 50
	basicRate  = 25 // per second
	// batchMax bounds the channels of one subscribe frame; the frame is
	// also kept within the server's maxMessage.
	batchMax = 200
	// ageMargin widens a first subscribe's age beyond the time since the
	// application's call: the data the screen shows may have been read a
	// little before subscribe was called (a query starts during render,
	// the subscription in an effect).
	ageMargin = time.Second
)

// idle runs after each command of the loop; drained says the loop has
// nothing else queued. Subscribes leave once every queued command ran, so
// that those made together (a page mounting, a reconnect) share one frame;
// a loop that never runs dry (a flood of frames) flushes them after a few
// commands all the same.
func (t *channelTable) idle(drained bool) {
	if len(t.toSubscribe) == 0 {
		return
	}
	t.subscribeWait++
	if drained || t.subscribeWait >= 16 || len(t.toSubscribe) >= batchMax {
		t.subscribeWait = 0
		t.flush()
	}
}

// queue marks ch to be subscribed on the current connection.
func (t *channelTable) queue(ch *channel) {
	ch.state = chQueued
	for _, s := range ch.subs {
		s.setState(SubSubscribing)
	}
	t.toSubscribe = append(t.toSubscribe, ch)
}

// subscribeAll queues every channel with subscribers on a new connection.
func (t *channelTable) subscribeAll() {
	for _, ch := range t.byName {
		if len(ch.subs) > 0 {
			t.queue(ch)
		}
	}
}

// openedBasic settles the channels sent while the level was unknown, now
// that the server turned out to speak basic.
func (t *channelTable) openedBasic(cs *connState) {
	for _, ch := range t.byName {
		switch {
		case ch.state != chSubscribing:
		case cs.batched:
			// Listed in a frame a basic server ignores: send it again.
			t.queue(ch)
		default:
			t.confirm(ch, t.resyncReason(ch, protocol.LevelBasic, false))
		}
	}
}

// flush sends the queued subscribes the connection can take now.
func (t *channelTable) flush() {
	c := t.c
	cs := c.link.conn
	if cs == nil || len(t.toSubscribe) == 0 || cs.subPause != nil {
		return
	}
	now := c.cfg.Clock.Now()
	var batch []protocol.ChannelRequest
	rest := t.toSubscribe[:0]
	for i, ch := range t.toSubscribe {
		if ch.state != chQueued || t.byName[ch.name] != ch {
			continue // confirmed meanwhile, expired or replaced
		}
		// A channel lingering without subscribers is sent all the same:
		// the linger exists to keep its server subscription.
		if cs.level == protocol.LevelExtended || (cs.phase == connHandshake && c.link.extendedURLs[cs.url]) {
			batch = append(batch, t.request(cs, ch, now))
			if len(batch) == batchMax {
				t.sendBatch(cs, batch)
				batch = batch[:0]
			}
			continue
		}
		if !cs.takeToken(now) {
			rest = append(rest, t.toSubscribe[i:]...)
			break
		}
		r := t.request(cs, ch, now)
		cs.send(&protocol.ClientMessage{Action: protocol.ActionSubscribe, Channel: r.Channel, Since: r.Since, Age: r.Age})
		if cs.level == protocol.LevelBasic {
			t.confirm(ch, t.resyncReason(ch, protocol.LevelBasic, false))
		}
	}
	if len(batch) > 0 {
		t.sendBatch(cs, batch)
	}
	clear(t.toSubscribe[len(rest):])
	t.toSubscribe = rest
	if len(rest) > 0 && cs.level == protocol.LevelBasic && cs.subPause == nil {
		cs.subPause = c.after(time.Second/basicRate, func() {
			if c.link.conn == cs {
				cs.subPause = nil
				t.flush()
			}
		})
	}
}

// takeToken spends one of the connection's per-channel subscribe tokens.
func (cs *connState) takeToken(now time.Time) bool {
	if cs.tokensAt.IsZero() {
		cs.tokens, cs.tokensAt = basicBurst, now
	}
	cs.tokens = min(basicBurst, cs.tokens+now.Sub(cs.tokensAt).Seconds()*basicRate)
	cs.tokensAt = now
	if cs.tokens < 1 {
		return false
	}
	cs.tokens--
	return true
}

// sendBatch sends one or more subscribe frames listing rs, each within the
// server's frame limit.
func (t *channelTable) sendBatch(cs *connState, rs []protocol.ChannelRequest) {
	if len(rs) == 1 {
		cs.send(&protocol.ClientMessage{Action: protocol.ActionSubscribe, Channel: rs[0].Channel, Since: rs[0].Since, Age: rs[0].Age})
		return
	}
	cs.batched = true
	limit := int(t.c.maxMessage.Load()) - 64
	size, start := 0, 0
	for i := range rs {
		// A channel request is at most its name escaped, a position and
		// the keys around them.
		n := 2*len(rs[i].Channel) + 64
		if rs[i].Since != nil {
			n += 2 * len(rs[i].Since.Epoch)
		}
		if size+n > limit && i > start {
			cs.send(&protocol.ClientMessage{Action: protocol.ActionSubscribe, Channels: rs[start:i]})
			size, start = 0, i
		}
		size += n
	}
	cs.send(&protocol.ClientMessage{Action: protocol.ActionSubscribe, Channels: rs[start:]})
}

// request builds ch's part of a subscribe: the last position seen, or, for
// a channel never confirmed, the age of its first subscriber's call plus
// the connection's round trip and a margin. A basic server ignores both.
func (t *channelTable) request(cs *connState, ch *channel, now time.Time) protocol.ChannelRequest {
	r := protocol.ChannelRequest{Channel: ch.name}
	ch.asked, ch.sentAt, ch.state = askNothing, now, chSubscribing
	if cs.level != protocol.LevelBasic {
		switch {
		case ch.hasPos():
			since := ch.pos
			r.Since, ch.since, ch.asked = &since, since, askSince
		case !ch.active():
			age := now.Sub(ch.calledAt) + cs.rtt + ageMargin
			r.Age = min(int64((age+time.Millisecond-1)/time.Millisecond), protocol.MaxAge)
			ch.asked = askAge
		}
	}
	return r
}

// resyncReason says whether a confirmation needs a resync event. A
// recovered replay needs none; a channel that was active before this
// connection and could not recover gets one; against a basic server, so
// does a first subscribe that left long after the application asked for
// it, since what was published in between is lost.
func (t *channelTable) resyncReason(ch *channel, level protocol.Level, recovered bool) string {
	switch {
	case ch.asked == askSince && recovered:
		return ""
	case ch.asked == askSince:
		return "unrecovered"
	case ch.active():
		return "reconnect"
	case level == protocol.LevelBasic:
		if late := t.c.cfg.LateResync; late > 0 && ch.sentAt.Sub(ch.calledAt) > late {
			return "late"
		}
		return ""
	case ch.asked == askAge && !recovered:
		return "unrecovered"
	}
	return ""
}

// confirm marks ch subscribed on the current connection.
func (t *channelTable) confirm(ch *channel, reason string) {
	ch.state, ch.asked = chSubscribed, askNothing
	ch.calledAt = time.Time{}
	for _, s := range ch.subs {
		s.setState(SubSubscribed)
	}
	if reason != "" {
		t.resync(ch, reason)
	}
}

// onSubscribed handles an extended server's confirmation, which follows
// the replay of what the client missed.
func (t *channelTable) onSubscribed(cs *connState, m *protocol.ServerMessage) {
	ch := t.byName[m.Channel]
	if ch == nil || ch.state != chSubscribing {
		return
	}
	cs.rateLimited = 0
	reason := t.resyncReason(ch, protocol.LevelExtended, m.Recovered)
	if reason == "unrecovered" && ch.asked == askSince && m.Epoch != "" && m.Epoch != ch.since.Epoch {
		reason = "epoch"
	}
	if m.Epoch != "" && (!ch.hasPos() || m.Epoch != ch.pos.Epoch || m.Seq > ch.pos.Seq) {
		ch.pos = m.Position()
	}
	t.confirm(ch, reason)
}

// resendUnconfirmed queues again, ahead of the rest, every channel sent
// and not yet confirmed.
func (t *channelTable) resendUnconfirmed() {
	var again []*channel
	for _, ch := range t.byName {
		if ch.state == chSubscribing {
			ch.state = chQueued
			again = append(again, ch)
		}
	}
	t.toSubscribe = append(again, t.toSubscribe...)
}

// awaiting says a subscribe is still unanswered.
func (t *channelTable) awaiting() bool {
	for _, ch := range t.byName {
		if ch.state == chSubscribing {
			return true
		}
	}
	return false
}

// refuse marks a channel refused and tells the application; it is not
// retried until another subscriber arrives or the next connection, so a
// forbidden channel cannot make the client loop.
func (t *channelTable) refuse(ch *channel, err error) {
	ch.state, ch.asked = chRefused, askNothing
	for _, s := range ch.subs {
		s.setState(SubRefused)
	}
	t.c.report(LogWarn, "subscription refused", errs.WrapDetail("subscribe", ch.name, err))
}
